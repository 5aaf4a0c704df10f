#!/usr/bin/env bash
# Runs the core's whole test suite for aarch64-unknown-linux-gnu under qemu-user (the crash
# harness's child processes run under the same qemu command). The stripped release size is
# measured by scripts/measure-size.sh (recorded in docs/BUILD.md).
# Installs what it needs (apt: gcc-aarch64-linux-gnu qemu-user libc6-dev-arm64-cross; rustup
# target) or fails naming what is missing.
#
# What runs: the unit tests and every suite whose outcome can depend on the machine: crypto
# (AES-GCM, SHA-256 and Ed25519 take ARMv8 code paths), TLS (ring's assembly), SQLite, zip
# extraction and its budgets, the file system's durability under SIGKILL, and one full update
# over loopback HTTP. The suites of decisions made above those parts (the JavaScript contract,
# telemetry, update policy, delta planning, delay conditions, fetch policy) run natively in
# `cargo test --workspace` and are listed in HOST_ONLY below; under qemu they would add ~7
# minutes to CI for no architecture-specific coverage. A suite in neither list fails this
# script, so none is left out silently. `--all` runs every suite under qemu.
#
# Usage: scripts/test-aarch64.sh            the suites above (part of scripts/test.sh)
#        scripts/test-aarch64.sh --all      every suite
#        scripts/test-aarch64.sh ARGS...    cargo test ARGS (e.g. --lib, --test telemetry)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/aarch64-env.sh

# Every child start of the crash harness costs seconds under qemu: the named failpoints all run,
# with 2 x 40 random kills here (the native run does 2 x 110).
export LIVESHIP_CRASH_KILLS=${LIVESHIP_CRASH_KILLS:-40}
# One test at a time per binary: qemu-user can deadlock a child forked (for python3, zip, the
# crash harness's child) while another guest thread runs, leaving the test waiting forever on
# a child stuck before exec (seen once: a futex wait in the forked qemu process).
export RUST_TEST_THREADS=${RUST_TEST_THREADS:-1}

ON_AARCH64=(boot_edge_cases boot_protocol crash_failpoints crash_random_kills fetch_resume
    format_vectors install_concurrency install_rejections release_tampering state_recovery
    stream_cipher unpack_budgets unpack_memory unpack_names unpack_other_tools update_downloads
    update_transport_security)
# capgo_bundles, capgo_mode: their tests need fixtures from @capgo/cli and run in scripts/capgo-test.sh.
HOST_ONLY=(capacitor_contract capgo_bundles capgo_mode capgo_protocol delay_conditions fetch_policy fetch_retries telemetry
    update_apply_modes update_checks update_delta update_freshness update_policy)
selection=(--lib)
for t in "${ON_AARCH64[@]}"; do selection+=(--test "$t"); done
for f in tests/*.rs; do
    t=$(basename "$f" .rs)
    [[ " ${ON_AARCH64[*]} ${HOST_ONLY[*]} " == *" $t "* ]] \
        || die "tests/$t.rs is in neither ON_AARCH64 nor HOST_ONLY of scripts/test-aarch64.sh: put it in one"
done
if [[ "${1:-}" == "--all" ]]; then
    shift
    selection=()
elif (($#)); then
    selection=()  # the caller picks (e.g. --lib, --test telemetry)
fi

echo "== cargo test -p liveship --target $TARGET ${selection[*]:-(every suite)} $* (under qemu-user)"
start=$(date +%s)
if (($#)) || ((${#selection[@]} == 0)); then
    cargo test -p liveship --target "$TARGET" "${selection[@]}" "$@"
else
    # Each test binary runs one test at a time (above), so qemu leaves a core idle: build once,
    # then run the binaries two at a time, each in a process of its own (the fork hazard is
    # within one process), as cargo would run them (from the package root). Logs are printed
    # whole, one binary after the other; any failure fails the script, naming the binary.
    logs=$(mktemp -d "${TMPDIR:-/tmp}/liveship-aarch64.XXXXXX")
    cargo test -p liveship --target "$TARGET" "${selection[@]}" --no-run --message-format=json \
        > "$logs/build.json"
    python3 - "$logs/build.json" > "$logs/exes" <<'PY' || die "reading cargo's build messages"
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])
PY
    # The longest first, so the two lanes end together.
    heavy="stream_cipher update_downloads unpack_budgets crash_random_kills unpack_memory"
    { for h in $heavy; do grep "/$h-" "$logs/exes" || true; done
      grep -v -E "/($(echo $heavy | tr ' ' '|'))-" "$logs/exes" || true; } > "$logs/order"
    (( $(wc -l < "$logs/order") == ${#ON_AARCH64[@]} + 1 )) \
        || die "expected $(( ${#ON_AARCH64[@]} + 1 )) test binaries, cargo built: $(tr '\n' ' ' < "$logs/exes")"
    export ROOT logs
    # shellcheck disable=SC2016
    xargs -P 2 -I{} bash -c 'exe={}; name=$(basename "$exe"); \
        if (cd "$ROOT" && CARGO_MANIFEST_DIR="$ROOT" $CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER "$exe") \
            > "$logs/$name.log" 2>&1; then echo ok > "$logs/$name.rc"; else echo FAILED > "$logs/$name.rc"; fi' \
        < "$logs/order"
    failed=()
    while read -r exe; do
        name=$(basename "$exe")
        echo "     Running $name (aarch64)"
        cat "$logs/$name.log"
        [[ "$(cat "$logs/$name.rc" 2>/dev/null)" == ok ]] || failed+=("$name")
    done < "$logs/order"
    ((${#failed[@]} == 0)) || die "aarch64 test binaries failed: ${failed[*]} (logs in $logs)"
    rm -rf "$logs"
fi
echo "aarch64 tests took $(( $(date +%s) - start )) s"

