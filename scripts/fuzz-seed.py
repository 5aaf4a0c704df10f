#!/usr/bin/env python3
"""Fills fuzz/corpus/<target>/ with seeds from docs/test-vectors.json and zips made by other
tools (python3's zipfile, Info-ZIP zip when installed), as the test suites make them.
Run from anywhere: python3 scripts/fuzz-seed.py. See docs/FUZZING.md."""
import base64, io, json, os, shutil, subprocess, tempfile, zipfile
from pathlib import Path

root = Path(__file__).resolve().parent.parent
corpus = root / "fuzz" / "corpus"
v = json.loads((root / "docs" / "test-vectors.json").read_text())

def put(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())

m = v["manifest"]
put("envelope", "vector-envelope.json", m["envelope"])
put("manifest", "vector-payload.json", m["payload"])
# delta_plan: one byte (which file hashes the device holds), then the manifest.
for held in (0x00, 0x80, 0xff):
    put("delta_plan", f"vector-held-{held:02x}.json", bytes([held]) + m["payload"].encode())
put("aead_stream", "vector-empty.bin", bytes.fromhex(v["stream"]["empty_ciphertext_hex"]))
put("aead_stream", "vector-tiny.bin", bytes.fromhex(v["stream"]["tiny_ciphertext_hex"]))
put("aead_stream", "vector-file-object.bin", bytes.fromhex(v["file_key"]["file_object_hex"]))
put("aead_stream", "vector-wrapped-key.bin", bytes.fromhex(v["key_wrap"]["wrapped_key_hex"]))
put("aead_stream", "plain-liveship.txt", v["stream"]["tiny_plaintext"])
put("config_json", "minimal.json", "{}")
put("config_json", "full.json", json.dumps({
    "updateUrl": "https://updates.example.com/app/", "defaultChannel": "beta",
    "appReadyTimeout": 5000, "autoUpdate": True, "periodCheckDelay": 600,
    "publicKeys": [{"keyId": v["signing_key"]["key_id"],
                    "publicKey": v["signing_key"]["public_key_base64"], "channels": ["*"]}],
    "bundleKeys": [{"keyId": v["key_wrap"]["bundle_key_id"],
                    "key": base64.b64encode(bytes.fromhex(v["key_wrap"]["bundle_key_hex"])).decode()}],
    "applyMode": "background", "backgroundIntervalMinutes": 360}))

def pyzip(name, entries, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for path, data in entries:
            z.writestr(path, data)
    put("zip_extract", name, buf.getvalue())

pyzip("py-three.zip", [("a.txt", b"alpha"), ("dir/b.txt", b"bravo"), ("dir/c.txt", b"charlie")])
pyzip("py-stored.zip", [("index.html", b"<html>hi</html>"), ("empty.txt", b"")], zipfile.ZIP_STORED)
pyzip("py-dirs.zip", [("a/", b""), ("a/b/", b""), ("a/b/x.js", b"1" * 300)])
pyzip("py-dup.zip", [("x.txt", b"1"), ("x.txt", b"2")])
pyzip("py-traversal.zip", [("../evil.txt", b"x")])
pyzip("py-empty.zip", [])
if shutil.which("zip"):
    with tempfile.TemporaryDirectory() as t:
        src = Path(t) / "src"
        (src / "a" / "b").mkdir(parents=True)
        (src / "index.html").write_bytes(b"<html/>")
        (src / "a" / "one.js").write_bytes(b"1")
        (src / "a" / "b" / "two.txt").write_bytes(b"two\n" * 50)
        out = Path(t) / "out.zip"
        subprocess.run(["zip", "-q", "-r", str(out), "."], cwd=src, check=True)
        put("zip_extract", "infozip-recursive.zip", out.read_bytes())
print("seeded", sum(1 for _ in corpus.rglob("*") if _.is_file()), "files under", corpus)
