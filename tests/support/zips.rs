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
