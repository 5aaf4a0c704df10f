#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, and the whole test suite.
# Usage: scripts/test.sh   (from anywhere; it works from the repository root)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Tests use real tools made by others: python3's zipfile and Info-ZIP's zip build test zips.
need_tool() { command -v "$1" >/dev/null 2>&1; }
missing=()
for pair in python3:python3 zip:zip unzip:unzip; do
  tool=${pair%%:*} pkg=${pair##*:}
  need_tool "$tool" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "test.sh: installing missing tools: ${missing[*]}" >&2
  if need_tool apt-get; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  for pkg in "${missing[@]}"; do
    need_tool "$pkg" || { echo "test.sh: FAILED: required tool '$pkg' is missing and could not be installed" >&2; exit 1; }
  done
fi
need_tool cargo || { echo "test.sh: FAILED: cargo is missing (install Rust stable)" >&2; exit 1; }

# Each phase prints its duration, and the closing line lists them: CI must stay under 30 minutes
# on 2 cores, and this is where to look when it grows.
timings=()
phase_start=$(date +%s)
phase_name="" phase_label=""
phase() {
  local now; now=$(date +%s)
  if [[ -n "$phase_name" ]]; then
    echo "-- $phase_name took $((now - phase_start)) s; $(df -h --output=avail . | tail -n 1 | tr -d ' ') free on disk"
    timings+=("$phase_label $((now - phase_start))s")
  fi
  phase_name="$1" phase_label="${2:-}" phase_start=$now
  [[ -n "$phase_name" ]] && echo "== $phase_name"
  return 0
}
test_start=$(date +%s)
# The test command builds the workspace for several targets and feature sets; incremental caches
# only speed up a developer's next edit, and on a CI disk they were a gigabyte per build.
export CARGO_INCREMENTAL=0

phase "cargo fmt --check" fmt
cargo fmt --all -- --check
phase "cargo clippy" clippy
cargo clippy --workspace --all-targets -- -D warnings
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/liveship-test.XXXXXX")
phase "cargo test --workspace" rust
cargo test --workspace 2>&1 | tee "$log_dir/cargo-test.log"
phase "collector on PostgreSQL" postgres
scripts/postgres-test.sh

phase "Capgo v2 bundles made by the real @capgo/cli (docs/CAPGO.md)" capgo
scripts/capgo-test.sh

phase "bindings (Kotlin, Python, Swift generation) against a loopback server" bindings
scripts/bindings-test.sh
phase "Capacitor plugin: TypeScript build and tests, host Kotlin tests against the library" plugin
scripts/plugin-test.sh
phase "Android Kotlin compiled against the real Capacitor API (android/compile-check/README.md)" android
scripts/android-compile-check.sh
phase "the app in headless Chromium on Capacitor's bridge, through liveship dev" browser
scripts/browser-test.sh
phase "aarch64 tests under qemu-user" aarch64
scripts/test-aarch64.sh

phase "fuzz targets, bounded (docs/FUZZING.md runs them for hours)" fuzz
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" scripts/fuzz.sh
phase "liveship demo (the README's first command)" demo
cargo run -q -p liveship-cli -- demo

phase ""
# One closing line that counts every Rust test (cargo prints one result line per test binary).
passed=$(grep -Eo '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log_dir/cargo-test.log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log_dir/cargo-test.log" | awk '{s+=$1} END {print s+0}')
echo "test.sh: all checks passed (fmt, clippy, Rust tests, PostgreSQL, Capgo bundles, bindings, plugin, Android compile, browser, aarch64, fuzz, demo)"
echo "rust tests: ${passed} passed, ${failed} failed"
echo "took $(( $(date +%s) - test_start )) s: $(IFS=,; echo "${timings[*]}")"
