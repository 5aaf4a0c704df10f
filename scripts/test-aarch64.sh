#!/usr/bin/env bash
# Runs the core's test suite for aarch64-unknown-linux-gnu under qemu-user, then builds the
# release library for aarch64 and prints its stripped size (recorded in docs/BUILD.md).
# Installs what it needs (apt: gcc-aarch64-linux-gnu qemu-user libc6-dev-arm64-cross; rustup
# target) or fails naming what is missing.
#
# Usage: scripts/test-aarch64.sh [extra cargo test args, e.g. --lib]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TARGET=aarch64-unknown-linux-gnu
die() { echo "test-aarch64: FAILED: $*" >&2; exit 1; }

missing=()
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
[[ -f /usr/aarch64-linux-gnu/lib/libc.so.6 ]] || missing+=(libc6-dev-arm64-cross)
if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    echo "installing ${missing[*]}"
    apt-get install -y "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; } \
        || die "apt-get install ${missing[*]} failed"
fi
command -v rustup >/dev/null || die "rustup is required to add the $TARGET target"
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar

echo "== cargo test -p liveship --target $TARGET $* (under qemu-user)"
start=$(date +%s)
cargo test -p liveship --target "$TARGET" "$@"
echo "aarch64 tests took $(( $(date +%s) - start )) s"

echo "== release library size"
cargo build -p liveship --release --target "$TARGET"
SO="target/$TARGET/release/libliveship.so"
aarch64-linux-gnu-strip -o "target/$TARGET/release/libliveship.stripped.so" "$SO"
ls -l "target/$TARGET/release/libliveship.stripped.so"
