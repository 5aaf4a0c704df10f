#!/usr/bin/env bash
# End-to-end tests of `liveship dev` in headless Chromium (issue 11): an unmodified app page, with
# Capacitor's real runtime (`native-bridge.js` of @capacitor/android, `@capacitor/core`'s IIFE) and
# this plugin's IIFE (dist/plugin.js), runs against the real Rust core behind `liveship dev`.
# Each scenario in cli/tests/browser/scenarios.mjs publishes real releases with `liveship keygen`
# and `liveship pack`, starts its own `liveship dev` on a fresh data folder, and drives the page
# with playwright-core: first start, download with progress, trial and confirmation, a broken
# release reverted by appReadyTimeout, a late notifyAppReady from the outgoing page, appReloaded,
# delay conditions, channels, screenshots. Chromium is launched once for all of them.
#
# Needs, and installs when missing (or fails naming it): Debian's `chromium` (apt; a test tool's
# own browser download cannot work here), npm `playwright-core` under $LIVESHIP_TOOLS_DIR,
# `@capacitor/android` (npm pack, for native-bridge.js; the same cache folder as
# scripts/android-compile-check.sh), the npm dependencies and dist/plugin.js (npm ci, npm run
# build). Never skips a scenario.
#
# Artifacts (screenshots, each scenario's `liveship dev` log): $LIVESHIP_BROWSER_OUT, default
# target/browser-test/.
#
# Usage: scripts/browser-test.sh
#        LIVESHIP_BROWSER_ONLY='channel' scripts/browser-test.sh    (scenarios whose name matches)
#        LIVESHIP_BROWSER_PLUGIN_JS=/tmp/changed-plugin.js scripts/browser-test.sh
#            (run the scenarios against another build of the plugin's IIFE, e.g. one broken on
#            purpose to see a scenario fail)
#        KEEP_WORK=1 scripts/browser-test.sh    (keep the keys, repositories and data folders)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TOOLS=${LIVESHIP_TOOLS_DIR:-$HOME/.cache/liveship-tools}
CACHE=${LIVESHIP_ANDROID_CHECK_CACHE:-$ROOT/target/android-compile-check}
OUT=${LIVESHIP_BROWSER_OUT:-$ROOT/target/browser-test}
CHROMIUM=/usr/bin/chromium
# playwright-core drives Chromium over CDP; the major version is pinned, the minor follows npm.
PLAYWRIGHT_RANGE=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/liveship-browser.XXXXXX")

cleanup() {
    if [[ "${KEEP_WORK:-0}" == 1 ]]; then echo "work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

die() { echo "browser-test: FAILED: $*" >&2; exit 1; }
step() { echo "== [${SECONDS}s] $*"; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required ($2)"; }

need node "Node.js 20+ runs the scenarios"
need npm "installs playwright-core and fetches @capacitor/android"
need cargo "builds the liveship CLI"

step "Chromium"
if [[ ! -x "$CHROMIUM" ]]; then
    need apt-get "installs Chromium (Debian package chromium)"
    echo "installing Chromium: apt-get install -y chromium"
    apt-get install -y chromium >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; } \
        || die "apt-get install chromium failed"
fi
[[ -x "$CHROMIUM" ]] || die "Chromium missing at $CHROMIUM after apt-get install chromium"
"$CHROMIUM" --version 2>/dev/null || die "$CHROMIUM does not run"

step "playwright-core"
PLAYWRIGHT="$TOOLS/node_modules/playwright-core"
if [[ ! -f "$PLAYWRIGHT/package.json" ]]; then
    echo "installing playwright-core: npm install --prefix $TOOLS playwright-core@$PLAYWRIGHT_RANGE"
    # Its own browser download is never used (executablePath is Debian's Chromium).
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$TOOLS" --no-audit --no-fund \
        "playwright-core@$PLAYWRIGHT_RANGE" >/dev/null || die "npm install playwright-core failed"
fi
[[ -f "$PLAYWRIGHT/package.json" ]] || die "playwright-core not found at $PLAYWRIGHT after npm install"
echo "playwright-core $(node -p "require('$PLAYWRIGHT/package.json').version")"

step "Capacitor's native-bridge.js (@capacitor/android)"
# The same cached package as scripts/android-compile-check.sh.
source "$ROOT/scripts/capacitor-android.sh"
capacitor_android_version
capacitor_android_unpack
NATIVE_BRIDGE="$SRC/package/capacitor/src/main/assets/native-bridge.js"
[[ -s "$NATIVE_BRIDGE" ]] || die "$NATIVE_BRIDGE missing: the @capacitor/android package layout changed"
echo "native-bridge.js: $NATIVE_BRIDGE"

step "the plugin's IIFE and @capacitor/core's"
CAPACITOR_JS="$ROOT/node_modules/@capacitor/core/dist/capacitor.js"
if [[ ! -f "$CAPACITOR_JS" ]]; then
    npm ci --no-audit --no-fund >/dev/null || die "npm ci failed"
fi
[[ -f "$CAPACITOR_JS" ]] || die "$CAPACITOR_JS missing after npm ci"
# A dist/ older than any plugin source would test yesterday's plugin: build again then.
if [[ ! -f dist/plugin.js ]] || [[ -n "$(find plugin/src rollup.config.mjs tsconfig.json -newer dist/plugin.js -print -quit)" ]]; then
    npm run build >/dev/null || die "npm run build failed"
fi
[[ -s dist/plugin.js ]] || die "dist/plugin.js was not built"
PLUGIN_JS=${LIVESHIP_BROWSER_PLUGIN_JS:-$ROOT/dist/plugin.js}
[[ -s "$PLUGIN_JS" ]] || die "$PLUGIN_JS missing"
[[ "$PLUGIN_JS" == "$ROOT/dist/plugin.js" ]] || echo "note: the scenarios run against $PLUGIN_JS, not dist/plugin.js"

step "build the CLI"
cargo build -q -p liveship-cli || die "cargo build -p liveship-cli"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
CLI="$TARGET/debug/liveship"
[[ -x "$CLI" ]] || die "$CLI was not built"

step "scenarios (headless Chromium $("$CHROMIUM" --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -n 1))"
# Only this run's artifacts: a screenshot of an earlier failure would mislead.
mkdir -p "$OUT" && rm -f "$OUT"/*.png "$OUT"/*.dev.log
PATTERN=()
[[ -n "${LIVESHIP_BROWSER_ONLY:-}" ]] && PATTERN=(--test-name-pattern "$LIVESHIP_BROWSER_ONLY")
LIVESHIP_CLI="$CLI" \
LIVESHIP_CHROMIUM="$CHROMIUM" \
LIVESHIP_PLAYWRIGHT="$PLAYWRIGHT" \
LIVESHIP_NATIVE_BRIDGE="$NATIVE_BRIDGE" \
LIVESHIP_CAPACITOR_JS="$CAPACITOR_JS" \
LIVESHIP_PLUGIN_JS="$PLUGIN_JS" \
LIVESHIP_BROWSER_WORK="$WORK" \
LIVESHIP_BROWSER_OUT="$OUT" \
    timeout --kill-after=10 300 node --test-reporter=spec "${PATTERN[@]}" cli/tests/browser/scenarios.mjs \
    || die "browser scenarios failed or ran over 300 s (each scenario's liveship dev log is in $OUT/)"

step "browser tests passed; artifacts in $OUT"
