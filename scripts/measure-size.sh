#!/usr/bin/env bash
# Builds the mobile-tuned release library for aarch64 and prints its stripped size (the figure
# recorded in docs/BUILD.md). Installs the cross toolchain like scripts/test-aarch64.sh.
# Installs what it needs (apt: gcc-aarch64-linux-gnu qemu-user libc6-dev-arm64-cross; rustup
# target) or fails naming what is missing.
#
# Usage: scripts/measure-size.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/aarch64-env.sh

echo "== release library size"
cargo build -p liveship --release --target "$TARGET"
OUT="${CARGO_TARGET_DIR:-target}/$TARGET/release"
aarch64-linux-gnu-strip -o "$OUT/libliveship.stripped.so" "$OUT/libliveship.so"
ls -l "$OUT/libliveship.stripped.so"
