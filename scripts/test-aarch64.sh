#!/usr/bin/env bash
# Runs the core's whole test suite for aarch64-unknown-linux-gnu under qemu-user (the crash
# harness's child processes run under the same qemu command). The stripped release size is
# measured by scripts/measure-size.sh (recorded in docs/BUILD.md).
# Installs what it needs (apt: gcc-aarch64-linux-gnu qemu-user libc6-dev-arm64-cross; rustup
# target) or fails naming what is missing.
#
# Usage: scripts/test-aarch64.sh [extra cargo test args, e.g. --lib]
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

echo "== cargo test -p liveship --target $TARGET $* (under qemu-user)"
start=$(date +%s)
cargo test -p liveship --target "$TARGET" "$@"
echo "aarch64 tests took $(( $(date +%s) - start )) s"

