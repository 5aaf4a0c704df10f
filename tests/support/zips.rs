//! Zips made by other tools for the extraction tests: python3's `zipfile` scripts, Info-ZIP
//! `zip`, signed entries, and the `assert_rejected!` check that a rejection left nothing behind.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use liveship::crypto::sha256_hex;
use liveship::release::FileEntry;
use liveship::unpack::{extract_verified, Budgets, Extracted, UnpackError};

/// A scratch directory with a zip path and a destination that does not exist yet.
pub struct Case {
    _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub zip: PathBuf,
    pub dest: PathBuf,
}

impl Case {
    pub fn new() -> Case {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        Case {
            zip: dir.join("bundle.zip"),
            dest: dir.join("out"),
            dir,
            _tmp: tmp,
        }
    }

    /// Writes `self.zip` with python3's zipfile. `body` runs with `z` open for writing and
    /// `put(name, data, attr=None, method=DEFLATED)`; `after` runs on the closed file with
    /// `data` (a bytearray of it) and `save()`.
    pub fn python_zip(&self, body: &str, after: &str, args: &[&Path]) {
        let script = format!(
            r#"
import sys, zipfile, struct, warnings
warnings.simplefilter("ignore")
p = sys.argv[1]
z = zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED)
def put(name, data, attr=None, method=zipfile.ZIP_DEFLATED):
    zi = zipfile.ZipInfo(name)
    zi.compress_type = method
    zi.create_system = 3
    zi.external_attr = (0o100644 << 16) if attr is None else attr
    z.writestr(zi, data)
{body}
z.close()
data = bytearray(open(p, "rb").read())
def save():
    open(p, "wb").write(bytes(data))
{after}
"#
        );
        let zip = [self.zip.as_path()];
        python(&script, &[&zip[..], args].concat());
    }

    pub fn extract(&self, files: &[FileEntry]) -> Result<Extracted, UnpackError> {
        extract_verified(&self.zip, files, &self.dest, &Budgets::default())
    }

    pub fn extract_with(
        &self,
        files: &[FileEntry],
        budgets: &Budgets,
    ) -> Result<Extracted, UnpackError> {
        extract_verified(&self.zip, files, &self.dest, budgets)
    }
}

/// Runs `python3 -c script args...` (zips made by another tool than ours).
pub fn python<A: AsRef<OsStr>>(script: &str, args: &[A]) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 must be installed to build test zips");
    assert!(
        out.status.success(),
        "python3 failed to build the zip:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The signed list entry of a file with `content`.
pub fn entry(path: &str, content: &[u8]) -> FileEntry {
    FileEntry {
        path: path.to_string(),
        size: content.len() as u64,
        sha256: sha256_hex(content),
    }
}

/// Asserts the extraction failed with the given pattern and left no destination behind.
#[allow(unused_macros)]
macro_rules! assert_rejected {
    ($case:expr, $res:expr, $pat:pat $(if $guard:expr)?) => {{
        let res = $res;
        match &res {
            Err($pat) $(if $guard)? => {}
            other => panic!("expected {}, got {:?}", stringify!($pat), other),
        }
        assert!(
            !$case.dest.exists(),
            "destination {} must not exist after a rejected extraction",
            $case.dest.display()
        );
        res.unwrap_err()
    }};
}

/// The Info-ZIP `zip` tool. Tests do not install anything: scripts/test.sh installs zip, unzip
/// and python3 and stops if they are missing; run alone, a missing tool fails here, loudly.
pub fn zip_tool() -> &'static str {
    assert!(
        Command::new("zip")
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success()),
        "the Info-ZIP `zip` command is required by these tests and was not found on PATH \
         (scripts/test.sh installs it; on Debian: apt-get install zip)"
    );
    "zip"
}

pub fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run command");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A zip of three small files (one at the top, two in `dir/`) and their signed list.
pub fn three_file_zip(case: &Case) -> Vec<FileEntry> {
    case.python_zip(
        r#"
put("a.txt", b"alpha")
put("dir/b.txt", b"bravo")
put("dir/c.txt", b"charlie")
"#,
        "",
        &[],
    );
    vec![
        entry("a.txt", b"alpha"),
        entry("dir/b.txt", b"bravo"),
        entry("dir/c.txt", b"charlie"),
    ]
}

/// Writes zips whose central directory is hostile, byte by byte (no tool makes these): one
/// empty stored local entry at offset 0, then directory records that all point at it.
pub mod hostile {
    use std::fs::File;
    use std::io::{BufWriter, Write};
    use std::path::Path;

    fn u16le(w: &mut impl Write, v: u16) {
        w.write_all(&v.to_le_bytes()).unwrap();
    }
    fn u32le(w: &mut impl Write, v: u32) {
        w.write_all(&v.to_le_bytes()).unwrap();
    }
    fn u64le(w: &mut impl Write, v: u64) {
        w.write_all(&v.to_le_bytes()).unwrap();
    }

    /// The local header of an empty stored file named `e` (31 bytes).
    fn local_entry(w: &mut impl Write) -> u64 {
        u32le(w, 0x0403_4b50);
        for v in [20u16, 0, 0, 0, 0] {
            u16le(w, v); // version, flags, method, time, date
        }
        for v in [0u32, 0, 0] {
            u32le(w, v); // crc, sizes
        }
        u16le(w, 1);
        u16le(w, 0);
        w.write_all(b"e").unwrap();
        31
    }

    /// One directory record for an empty file `name` at local offset 0; returns its length.
    fn record(w: &mut impl Write, name: &[u8], method: u16) -> u64 {
        u32le(w, 0x0201_4b50);
        for v in [0x031e_u16, 20, 0, method, 0, 0] {
            u16le(w, v); // made by (unix), needed, flags, method, time, date
        }
        for v in [0u32, 0, 0] {
            u32le(w, v); // crc, sizes
        }
        for v in [name.len() as u16, 0, 0, 0, 0] {
            u16le(w, v); // name, extra, comment lengths, disk, internal attributes
        }
        u32le(w, 0o100644 << 16);
        u32le(w, 0); // local header offset
        w.write_all(name).unwrap();
        46 + name.len() as u64
    }

    /// A zip64 end record, its locator and a classic end record with saturated fields.
    fn zip64_end(w: &mut impl Write, at: u64, entries: u64, cd_size: u64, cd_offset: u64) {
        u32le(w, 0x0606_4b50);
        u64le(w, 44);
        u16le(w, 0x031e);
        u16le(w, 45);
        u32le(w, 0);
        u32le(w, 0);
        u64le(w, entries);
        u64le(w, entries);
        u64le(w, cd_size);
        u64le(w, cd_offset);
        u32le(w, 0x0706_4b50);
        u32le(w, 0);
        u64le(w, at);
        u32le(w, 1);
        classic_end(w, 0xffff, 0xffff_ffff, 0xffff_ffff);
    }

    fn classic_end(w: &mut impl Write, entries: u16, cd_size: u32, cd_offset: u32) {
        u32le(w, 0x0605_4b50);
        u16le(w, 0);
        u16le(w, 0);
        u16le(w, entries);
        u16le(w, entries);
        u32le(w, cd_size);
        u32le(w, cd_offset);
        u16le(w, 0);
    }

    /// Writes `records` real directory records (names `0000000`, `0000001`, ...) and returns
    /// their total length.
    fn records(w: &mut impl Write, records: u64) -> u64 {
        (0..records)
            .map(|i| record(w, format!("{i:07}").as_bytes(), 0))
            .sum()
    }

    /// A zip64 whose directory really holds `entries` records and whose end records say so.
    pub fn zip64_directory(path: &Path, entries: u64) {
        let mut w = BufWriter::new(File::create(path).unwrap());
        let cd_offset = local_entry(&mut w);
        let cd_size = records(&mut w, entries);
        zip64_end(&mut w, cd_offset + cd_size, entries, cd_size, cd_offset);
        w.flush().unwrap();
    }

    /// A zip64 whose end records claim `entries` records and `cd_size` bytes at offset 31, of
    /// which none exist (a 120-byte file).
    pub fn zip64_claim(path: &Path, entries: u64, cd_size: u64) {
        let mut w = BufWriter::new(File::create(path).unwrap());
        let cd_offset = local_entry(&mut w);
        zip64_end(&mut w, cd_offset, entries, cd_size, cd_offset);
        w.flush().unwrap();
    }

    /// A classic zip whose end record claims `entries` and `cd_size` bytes that do not exist.
    pub fn classic_claim(path: &Path, entries: u16, cd_size: u32) {
        let mut w = BufWriter::new(File::create(path).unwrap());
        let cd_offset = local_entry(&mut w);
        classic_end(&mut w, entries, cd_size, cd_offset as u32);
        w.flush().unwrap();
    }

    /// [`zip64_directory`] of `entries` records, followed by a second, small directory (one
    /// record that the zip reader rejects: AES method without its extra field) and its end
    /// record, which is the last in the file. A reader that retries earlier end records after
    /// rejecting the last one finds the big directory.
    pub fn decoy_after_directory(path: &Path, entries: u64) {
        let mut w = BufWriter::new(File::create(path).unwrap());
        let cd_offset = local_entry(&mut w);
        let cd_size = records(&mut w, entries);
        zip64_end(&mut w, cd_offset + cd_size, entries, cd_size, cd_offset);
        let decoy_offset = cd_offset + cd_size + 56 + 20 + 22;
        let decoy_size = record(&mut w, b"x", 99);
        classic_end(&mut w, 1, decoy_size as u32, decoy_offset as u32);
        w.flush().unwrap();
    }
}
