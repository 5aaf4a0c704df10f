#!/usr/bin/env bash
# Capgo v2 bundles made by the real @capgo/cli, opened by the core (tests/capgo_bundles.rs).
#
# Installs the pinned @capgo/cli and @capgo/capacitor-updater (the CLI refuses to zip without the
# plugin installed) into target/capgo/npm when missing, then makes the fixtures in a fresh
# target/capgo/fixtures, offline: two key pairs (`key create`), one web folder zipped
# (`bundle zip --key-v2`) and encrypted with each key (`bundle encrypt`). Nothing made here is
# committed. Then runs the ignored tests of tests/capgo_bundles.rs with LIVESHIP_CAPGO_FIXTURES
# naming the fixtures' JSON.
#
# Needs: node and npm (fails naming them).
# Usage: scripts/capgo-test.sh [test name filter]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
die() { echo "capgo-test: FAILED: $*" >&2; exit 1; }
command -v node >/dev/null || die "node is missing (install Node 20 or later)"
command -v npm >/dev/null || die "npm is missing"

CLI_VERSION=8.68.1
UPDATER_VERSION=8.51.23
NPM_DIR="$ROOT/target/capgo/npm"
CAPGO="$NPM_DIR/node_modules/.bin/capgo"
if [[ ! -x "$CAPGO" ]] || ! grep -q "\"version\": \"$CLI_VERSION\"" "$NPM_DIR/node_modules/@capgo/cli/package.json" 2>/dev/null; then
    echo "capgo-test: installing @capgo/cli@$CLI_VERSION and @capgo/capacitor-updater@$UPDATER_VERSION into $NPM_DIR"
    mkdir -p "$NPM_DIR"
    [[ -f "$NPM_DIR/package.json" ]] || echo '{"name":"liveship-capgo-fixtures","private":true}' > "$NPM_DIR/package.json"
    (cd "$NPM_DIR" && npm install --no-audit --no-fund --loglevel=error \
        "@capgo/cli@$CLI_VERSION" "@capgo/capacitor-updater@$UPDATER_VERSION" "@capacitor/core@8") \
        || die "npm install @capgo/cli@$CLI_VERSION failed"
fi

FIX="$ROOT/target/capgo/fixtures"
rm -rf "$FIX"
mkdir -p "$FIX"
# The CLI looks for the plugin in the project's node_modules.
project() {
    local dir=$1
    mkdir -p "$dir/www/assets"
    ln -s "$NPM_DIR/node_modules" "$dir/node_modules"
    echo "{\"name\":\"fixture-app\",\"version\":\"1.0.0\",\"dependencies\":{\"@capgo/capacitor-updater\":\"$UPDATER_VERSION\"}}" > "$dir/package.json"
    echo '{"appId":"com.example.app","appName":"Fixture","webDir":"www","plugins":{"CapacitorUpdater":{}}}' \
        > "$dir/capacitor.config.json"
}
capgo() { (cd "$1" && shift && CI=1 "$CAPGO" "$@" </dev/null) 2> >(grep -v "Node.js 20 and below" >&2); }

project "$FIX/app"
project "$FIX/other"
cat > "$FIX/app/www/index.html" <<'EOF'
<!doctype html><html><head><script src="assets/app.js"></script></head>
<body><h1>Capgo fixture 1.0.1</h1></body></html>
EOF
echo 'window.CapacitorUpdater && window.CapacitorUpdater.notifyAppReady();' > "$FIX/app/www/assets/app.js"
# Enough bytes that the zip spans many AES blocks and reads.
node -e 'const c=require("crypto");require("fs").writeFileSync(process.argv[1],c.randomBytes(300000))' \
    "$FIX/app/www/assets/blob.bin"

capgo "$FIX/app" key create >/dev/null || true
capgo "$FIX/other" key create >/dev/null || true
for d in app other; do
    [[ -s "$FIX/$d/.capgo_key_v2" && -s "$FIX/$d/.capgo_key_v2.pub" ]] \
        || die "@capgo/cli key create wrote no key pair in $FIX/$d"
done
capgo "$FIX/app" bundle zip com.example.app --path www --bundle 1.0.1 --name bundle.zip --key-v2 --json \
    > "$FIX/zip.json" || die "@capgo/cli bundle zip failed: $(cat "$FIX/zip.json")"
[[ -s "$FIX/app/bundle.zip" ]] || die "@capgo/cli bundle zip wrote no bundle.zip"
# The CLI may print notices before its JSON: read from the first brace.
field() { node -e 'const t=require("fs").readFileSync(process.argv[1],"utf8");console.log(JSON.parse(t.slice(t.indexOf("{")))[process.argv[2]])' "$1" "$2"; }
checksum=$(field "$FIX/zip.json" checksum)
capgo "$FIX/app" bundle encrypt bundle.zip "$checksum" --json > "$FIX/encrypt-app.json" \
    || die "@capgo/cli bundle encrypt failed: $(cat "$FIX/encrypt-app.json")"
mv "$FIX/app/bundle.zip_encrypted.zip" "$FIX/app/bundle.app.enc.zip"
capgo "$FIX/app" bundle encrypt bundle.zip "$checksum" --key "$FIX/other/.capgo_key_v2" --json \
    > "$FIX/encrypt-other.json" || die "@capgo/cli bundle encrypt --key (second key pair) failed"
mv "$FIX/app/bundle.zip_encrypted.zip" "$FIX/app/bundle.other.enc.zip"

# A second release, 1.0.2, whose page never confirms (Capgo mode's revert, tests/capgo_mode.rs):
# the CLI refuses such a folder unless told not to check for notifyAppReady.
mkdir -p "$FIX/app/www2"
echo '<!doctype html><html><body><h1>Capgo fixture 1.0.2: broken</h1></body></html>' > "$FIX/app/www2/index.html"
capgo "$FIX/app" bundle zip com.example.app --path www2 --bundle 1.0.2 --name second.zip --key-v2 --no-code-check --json \
    > "$FIX/zip2.json" || die "@capgo/cli bundle zip (second) failed: $(cat "$FIX/zip2.json")"
capgo "$FIX/app" bundle encrypt second.zip "$(field "$FIX/zip2.json" checksum)" --json > "$FIX/encrypt-second.json" \
    || die "@capgo/cli bundle encrypt (second) failed: $(cat "$FIX/encrypt-second.json")"
mv "$FIX/app/second.zip_encrypted.zip" "$FIX/app/second.enc.zip"

# A delta release, 1.0.3, as Capgo's backend offers one (a manifest of per-file objects). The CLI
# makes these only while uploading to Capgo, so they are made here the way it makes them: each
# file brotli-compressed (`.br`, but one left plain), AES-128-CBC encrypted under a fresh session
# key wrapped with the app's private key, its SHA-256 signed with that key (PKCS#1 v1.5 type 1,
# as `bundle encrypt` signs the checksum). 1.0.3 is 1.0.1 with assets/app.js changed.
node - "$FIX" <<'NODE'
const fs = require("fs"), path = require("path"), crypto = require("crypto"), zlib = require("zlib");
const fix = process.argv[2], app = path.join(fix, "app"), web = path.join(app, "www3"), out = path.join(fix, "delta");
fs.cpSync(path.join(app, "www"), web, { recursive: true });
fs.writeFileSync(path.join(web, "assets", "app.js"), "window.CapacitorUpdater && window.CapacitorUpdater.notifyAppReady(); // 1.0.3\n");
fs.mkdirSync(out, { recursive: true });
const priv = fs.readFileSync(path.join(app, ".capgo_key_v2"), "utf8");
const sign = (bytes) => crypto.privateEncrypt({ key: priv, padding: crypto.constants.RSA_PKCS1_PADDING }, bytes);
const key = crypto.randomBytes(16), iv = crypto.randomBytes(16);
const sessionKey = iv.toString("base64") + ":" + sign(key).toString("base64");
const files = [];
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => {
  const p = path.join(d, e.name);
  if (e.isDirectory()) return walk(p);
  files.push(path.relative(web, p).split(path.sep).join("/"));
});
walk(web);
const entries = files.sort().map((rel, i) => {
  const plain = fs.readFileSync(path.join(web, rel));
  const brotli = !rel.endsWith(".bin");
  const body = brotli ? zlib.brotliCompressSync(plain) : plain;
  const c = crypto.createCipheriv("aes-128-cbc", key, iv);
  const object = path.join(out, "object-" + i);
  fs.writeFileSync(object, Buffer.concat([c.update(body), c.final()]));
  const hash = crypto.createHash("sha256").update(plain).digest();
  return { file_name: rel + (brotli ? ".br" : ""), file_hash: sign(hash).toString("hex"), object };
});
fs.writeFileSync(path.join(fix, "delta.json"), JSON.stringify({ version: "1.0.3", sessionKey, webDir: web, entries }, null, 2));
NODE

# One JSON document for the tests; the SPKI form of the public key comes from node's crypto.
CLI_VERSION=$CLI_VERSION node - "$FIX" "$checksum" <<'EOF'
const fs = require("fs"), path = require("path"), crypto = require("crypto");
const [fix, checksum] = process.argv.slice(2);
const json = (f) => { const t = fs.readFileSync(path.join(fix, f), "utf8"); return JSON.parse(t.slice(t.indexOf("{"))); };
const pub = (d) => fs.readFileSync(path.join(fix, d, ".capgo_key_v2.pub"), "utf8");
const a = json("encrypt-app.json"), b = json("encrypt-other.json"), c = json("encrypt-second.json");
// A key block in the wrong padding (PKCS#1 type 2, the encryption padding, where Capgo uses
// type 1), made with the app's own private key: the device must refuse it.
const priv = fs.readFileSync(path.join(fix, "app", ".capgo_key_v2"), "utf8");
const k = crypto.createPrivateKey(priv).asymmetricKeyDetails.modulusLength / 8;
const block = Buffer.concat([Buffer.from([0, 2]), Buffer.alloc(k - 19, 0xff), Buffer.from([0]), crypto.randomBytes(16)]);
const wrongPadding = crypto.privateEncrypt({ key: priv, padding: crypto.constants.RSA_NO_PADDING }, block);
const out = {
  cliVersion: process.env.CLI_VERSION,
  publicKey: pub("app"),
  publicKeySpki: crypto.createPublicKey(pub("app")).export({ type: "spki", format: "pem" }),
  otherPublicKey: pub("other"),
  zip: path.join(fix, "app", "bundle.zip"),
  webDir: path.join(fix, "app", "www"),
  sha256: checksum,
  app: { encrypted: path.join(fix, "app", "bundle.app.enc.zip"), sessionKey: a.ivSessionKey, checksum: a.checksum },
  wrongPaddingSessionKey: a.ivSessionKey.split(":")[0] + ":" + wrongPadding.toString("base64"),
  other: { encrypted: path.join(fix, "app", "bundle.other.enc.zip"), sessionKey: b.ivSessionKey, checksum: b.checksum },
  second: { encrypted: path.join(fix, "app", "second.enc.zip"), sessionKey: c.ivSessionKey, checksum: c.checksum },
  delta: JSON.parse(fs.readFileSync(path.join(fix, "delta.json"), "utf8")),
};
fs.writeFileSync(path.join(fix, "fixtures.json"), JSON.stringify(out, null, 2));
EOF
echo "capgo-test: fixtures made by @capgo/cli $CLI_VERSION in $FIX"

# --workspace, as scripts/test.sh builds: the same features, so the build is reused, not redone.
LIVESHIP_CAPGO_FIXTURES="$FIX/fixtures.json" \
    cargo test --workspace --test capgo_bundles --test capgo_mode -- --ignored ${1:+"$1"}
