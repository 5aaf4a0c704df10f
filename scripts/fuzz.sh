#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/, cargo-fuzz on nightly) once and runs each for a bounded time.
# FUZZ_SECONDS (default 20) per target; FUZZ_TARGETS to pick some. Fails loudly on a crash,
# naming the artifact. See docs/FUZZING.md.
# FUZZ_PROFILE: `--dev` (default: unoptimised, with debug assertions; builds in 1.5 min cold
# instead of 3, runs ~1,000 inputs/s instead of ~3,800: right for a bounded CI run that replays
# the corpus) or `--release` (long runs).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-20}"
PROFILE="${FUZZ_PROFILE:---dev}"
rustup toolchain list | grep -q '^nightly' || { echo "fuzz.sh: the nightly toolchain is missing (rustup toolchain install nightly)" >&2; exit 1; }
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz is missing; installing it" >&2
  cargo install cargo-fuzz --locked || { echo "fuzz.sh: cannot install cargo-fuzz" >&2; exit 1; }
fi
TARGETS="${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"
export TMPDIR="$PWD/fuzz/target/tmp-run"
mkdir -p "$TMPDIR"
cargo +nightly fuzz build --sanitizer none "$PROFILE"
for t in $TARGETS; do
  mkdir -p "fuzz/corpus/$t" "fuzz/target/new-corpus/$t"
  echo "fuzz.sh: $t for ${SECONDS_EACH}s"
  # New inputs go to the first folder (under fuzz/target, not committed): a run leaves the
  # checkout as it was. FUZZING.md says how to merge them into fuzz/corpus.
  if ! cargo +nightly fuzz run --sanitizer none "$PROFILE" "$t" "fuzz/target/new-corpus/$t" "fuzz/corpus/$t" -- \
      -max_total_time="$SECONDS_EACH" -print_final_stats=1; then
    echo "fuzz.sh: CRASH in target $t; artifacts: $(ls fuzz/artifacts/$t 2>/dev/null | tr '\n' ' ')" >&2
    exit 1
  fi
done
rm -rf "$TMPDIR"
echo "fuzz.sh: all targets ran ${SECONDS_EACH}s without a crash"
