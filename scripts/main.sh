#!/usr/bin/env bash
# The publisher pipeline in one go: generate keys, pack examples/web as an encrypted, signed
# release, and verify it the way a device would. Everything goes into a temp folder, which is
# printed at the end so you can look at the repository layout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/liveship-demo.XXXXXX")
cargo build -q -p liveship-cli
liveship=target/debug/liveship

echo "== liveship keygen"
"$liveship" keygen --out "$work/keys" --channels production,beta
echo
echo "== liveship pack"
"$liveship" pack examples/web --app-id com.example.app --channel production --sequence 1 \
  --version 1.0.0 --signing-key "$work/keys/signing.key" --bundle-key "$work/keys/bundle.key" \
  --out "$work/repo"
echo
echo "== liveship verify"
"$liveship" verify "$work/repo/channels/production.json" --public-key "$work/keys/signing.pub" \
  --bundle-key "$work/keys/bundle.key"
echo
echo "Release repository (serve it from any static host): $work/repo"
