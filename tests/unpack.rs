//! Extraction of untrusted bundle zips, made by other tools (python3's `zipfile`, Info-ZIP
//! `zip`): every check rejects with its own error and leaves nothing behind; good zips extract
//! to exactly the signed files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use liveship::crypto::sha256_hex;
use liveship::fs::IoError;
use liveship::release::FileEntry;
use liveship::unpack::{check_dir, extract_verified, Budgets, Extracted, UnpackError};

// ---------------------------------------------------------------- helpers

/// A scratch directory with a zip path and a destination that does not exist yet.
struct Case {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    zip: PathBuf,
    dest: PathBuf,
}

impl Case {
    fn new() -> Case {
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
    fn python_zip(&self, body: &str, after: &str, args: &[&Path]) {
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
        let out = Command::new("python3")
            .arg("-c")
            .arg(&script)
            .arg(&self.zip)
            .args(args)
            .output()
            .expect("python3 must be installed to build test zips");
        assert!(
            out.status.success(),
            "python3 failed to build the zip:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn extract(&self, files: &[FileEntry]) -> Result<Extracted, UnpackError> {
        extract_verified(&self.zip, files, &self.dest, &Budgets::default())
    }

    fn extract_with(
        &self,
        files: &[FileEntry],
        budgets: &Budgets,
    ) -> Result<Extracted, UnpackError> {
        extract_verified(&self.zip, files, &self.dest, budgets)
    }
}

fn entry(path: &str, content: &[u8]) -> FileEntry {
    FileEntry {
        path: path.to_string(),
        size: content.len() as u64,
        sha256: sha256_hex(content),
    }
}

/// Asserts the extraction failed with the given pattern and left no destination behind.
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

/// The Info-ZIP `zip` tool, installed with apt-get if missing.
fn zip_tool() -> &'static str {
    if Command::new("zip")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return "zip";
    }
    let ok = Command::new("sh")
        .arg("-c")
        .arg("apt-get install -y zip >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y zip >/dev/null 2>&1)")
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok && Command::new("zip")
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success()),
        "the `zip` command is required by these tests and could not be installed with apt-get"
    );
    "zip"
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run command");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Deterministic incompressible bytes.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

// ---------------------------------------------------------------- good zips

#[test]
fn python_zip_extracts_exactly_the_signed_files() {
    let case = Case::new();
    case.python_zip(
        r#"
put("index.html", b"<html>hi</html>")
put("assets/app.js", b"console.log(1)\n" * 100)
put("assets/img/logo.png", b"\x89PNG fake", method=zipfile.ZIP_STORED)
put("empty.txt", b"")
"#,
        "",
        &[],
    );
    let files = vec![
        entry("index.html", b"<html>hi</html>"),
        entry("assets/app.js", &b"console.log(1)\n".repeat(100)),
        entry("assets/img/logo.png", b"\x89PNG fake"),
        entry("empty.txt", b""),
    ];
    let got = case.extract(&files).expect("extracts");
    let bytes: u64 = files.iter().map(|f| f.size).sum();
    assert_eq!(got, Extracted { files: 4, bytes });
    for f in &files {
        let content = fs::read(case.dest.join(&f.path)).unwrap();
        assert_eq!(sha256_hex(&content), f.sha256, "{}", f.path);
    }
    check_dir(&case.dest, &files).expect("extracted tree re-verifies");
}

#[test]
fn zip_cli_recursive_archive_with_directory_entries_extracts() {
    let zip = zip_tool();
    let case = Case::new();
    let src = case.dir.join("src");
    fs::create_dir_all(src.join("a/b")).unwrap();
    fs::write(src.join("index.html"), b"<html/>").unwrap();
    fs::write(src.join("a/one.js"), b"1").unwrap();
    let big = noise(300_000, 7);
    fs::write(src.join("a/b/two.bin"), &big).unwrap();
    run(Command::new(zip)
        .current_dir(&src)
        .args(["-q", "-r"])
        .arg(&case.zip)
        .arg("."));
    // Info-ZIP stores "a/" and "a/b/" as directory entries; make sure this zip really has them.
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys,zipfile;print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        ])
        .arg(&case.zip)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(
        listing.lines().any(|l| l == "a/b/"),
        "zip -r made no directory entries: {listing}"
    );

    let files = vec![
        entry("index.html", b"<html/>"),
        entry("a/one.js", b"1"),
        entry("a/b/two.bin", &big),
    ];
    let got = case.extract(&files).expect("extracts");
    assert_eq!(got.files, 3);
    assert_eq!(fs::read(case.dest.join("a/b/two.bin")).unwrap(), big);
    check_dir(&case.dest, &files).expect("re-verifies");
}

#[test]
fn consistent_directory_entries_are_accepted_and_not_created() {
    let case = Case::new();
    case.python_zip(
        r#"
z.mkdir("web/")
z.mkdir("web/css/")
z.mkdir("unused/")
put("web/css/site.css", b"body{}")
"#,
        "",
        &[],
    );
    let files = vec![entry("web/css/site.css", b"body{}")];
    case.extract(&files).expect("extracts");
    assert_eq!(
        fs::read(case.dest.join("web/css/site.css")).unwrap(),
        b"body{}"
    );
    assert!(
        !case.dest.join("unused").exists(),
        "directory entries are ignored, not created"
    );
}

#[test]
fn small_highly_compressible_file_is_exempt_from_the_ratio_check() {
    let case = Case::new();
    case.python_zip(r#"put("spaces.txt", b" " * 60000)"#, "", &[]);
    let content = vec![b' '; 60_000];
    case.extract(&[entry("spaces.txt", &content)])
        .expect("a 60 KB file of spaces is a legitimate bundle file");
}

#[test]
fn zip_cli_streamed_archive_with_data_descriptors_extracts() {
    // Writing to a pipe makes Info-ZIP use data descriptors (sizes after the data).
    let zip = zip_tool();
    let case = Case::new();
    let src = case.dir.join("src");
    fs::create_dir_all(src.join("js")).unwrap();
    let js = b"export const x = 1;\n".repeat(50);
    fs::write(src.join("js/main.js"), &js).unwrap();
    let out = Command::new(zip)
        .current_dir(&src)
        .args(["-q", "-", "js/main.js"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(
        out.stdout[6] & 0x08,
        0,
        "zip to a pipe uses data descriptors"
    );
    fs::write(&case.zip, &out.stdout).unwrap();
    let files = [entry("js/main.js", &js)];
    case.extract(&files).expect("extracts");
    check_dir(&case.dest, &files).expect("re-verifies");
}

#[test]
fn zip64_and_prepended_data_are_read_correctly() {
    let case = Case::new();
    case.python_zip(
        r#"
with z.open("a.txt", "w", force_zip64=True) as f:
    f.write(b"alpha")
put("b.txt", b"bravo")
"#,
        r##"
data = bytearray(b"#!/bin/sh\nexit 0\n") + data
save()
"##,
        &[],
    );
    let files = [entry("a.txt", b"alpha"), entry("b.txt", b"bravo")];
    case.extract(&files).expect("extracts");
    check_dir(&case.dest, &files).expect("re-verifies");
}

// ---------------------------------------------------------------- corrupt zips

#[test]
fn a_file_that_is_not_a_zip_is_rejected() {
    let case = Case::new();
    fs::write(&case.zip, b"this is not a zip file at all").unwrap();
    assert_rejected!(case, case.extract(&[]), UnpackError::Zip(_));
}

#[test]
fn corrupted_entry_data_is_rejected() {
    let case = Case::new();
    case.python_zip(
        r#"put("a.txt", b"hello world", method=zipfile.ZIP_STORED)"#,
        r#"
data = bytearray(bytes(data).replace(b"hello world", b"hello World"))
save()
"#,
        &[],
    );
    // The signed hash is of the corrupted bytes, so only the zip's own CRC catches it.
    assert_rejected!(
        case,
        case.extract(&[entry("a.txt", b"hello World")]),
        UnpackError::EntryCorrupt { name, .. } if name == "a.txt"
    );
}

// ---------------------------------------------------------------- unsafe names

fn rejects_name(name_literal: &str, signed_name: &str) -> UnpackError {
    let case = Case::new();
    case.python_zip(&format!("put({name_literal}, b\"x\")"), "", &[]);
    assert_rejected!(
        case,
        case.extract(&[entry(signed_name, b"x")]),
        UnpackError::UnsafePath { .. }
    )
}

#[test]
fn parent_directory_components_are_rejected() {
    let e = rejects_name(r#""../evil""#, "../evil");
    assert!(e.to_string().contains("'..'"), "{e}");
    rejects_name(r#""a/../../evil""#, "a/../../evil");
}

#[test]
fn absolute_paths_are_rejected() {
    let e = rejects_name(r#""/etc/x""#, "/etc/x");
    assert!(e.to_string().contains("absolute"), "{e}");
}

#[test]
fn backslashes_are_rejected() {
    let e = rejects_name(r#""..\\evil""#, "..\\evil");
    assert!(e.to_string().contains("backslash"), "{e}");
}

#[test]
fn control_characters_are_rejected() {
    let e = rejects_name(r#""a\x01b""#, "a\u{1}b");
    assert!(e.to_string().contains("control"), "{e}");
}

#[test]
fn nul_in_a_name_is_rejected() {
    // python's zipfile truncates names at NUL, so patch it into the bytes.
    let case = Case::new();
    case.python_zip(
        r#"put("aQQb", b"x")"#,
        r#"
data = bytearray(bytes(data).replace(b"aQQb", b"a\x00Qb"))
save()
"#,
        &[],
    );
    assert_rejected!(
        case,
        case.extract(&[entry("a\0Qb", b"x")]),
        UnpackError::UnsafePath { reason, .. } if reason.contains("control")
    );
}

#[test]
fn drive_letters_are_rejected() {
    let e = rejects_name(r#""C:/x""#, "C:/x");
    assert!(e.to_string().contains("drive"), "{e}");
}

#[test]
fn dot_and_empty_components_are_rejected() {
    let e = rejects_name(r#""./a""#, "./a");
    assert!(e.to_string().contains("'.'"), "{e}");
    rejects_name(r#""a/./b""#, "a/./b");
    let e = rejects_name(r#""a//b""#, "a//b");
    assert!(e.to_string().contains("empty"), "{e}");
}

#[test]
fn paths_longer_than_the_budget_are_rejected() {
    let case = Case::new();
    let name = "d/".repeat(10) + "file.txt"; // 28 bytes
    case.python_zip(&format!("put({name:?}, b\"x\")"), "", &[]);
    let budgets = Budgets {
        max_path_len: 20,
        ..Budgets::default()
    };
    assert_rejected!(
        case,
        case.extract_with(&[entry(&name, b"x")], &budgets),
        UnpackError::PathTooLong {
            len: 28,
            limit: 20,
            ..
        }
    );
}

#[test]
fn paths_deeper_than_the_budget_are_rejected() {
    let case = Case::new();
    case.python_zip(r#"put("a/b/c/d.txt", b"x")"#, "", &[]);
    let budgets = Budgets {
        max_depth: 3,
        ..Budgets::default()
    };
    assert_rejected!(
        case,
        case.extract_with(&[entry("a/b/c/d.txt", b"x")], &budgets),
        UnpackError::TooDeep {
            depth: 4,
            limit: 3,
            ..
        }
    );
}

// ---------------------------------------------------------------- entry types

#[test]
fn symlink_entries_are_rejected() {
    let case = Case::new();
    case.python_zip(
        r#"
put("index.html", b"ok")
put("link", b"/etc/passwd", attr=(0o120777 << 16))
"#,
        "",
        &[],
    );
    let files = [entry("index.html", b"ok"), entry("link", b"/etc/passwd")];
    assert_rejected!(case, case.extract(&files), UnpackError::Symlink { name } if name == "link");
}

#[test]
fn symlink_stored_by_zip_cli_is_rejected() {
    let zip = zip_tool();
    let case = Case::new();
    let src = case.dir.join("src");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("index.html"), b"ok").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src.join("passwd")).unwrap();
    run(Command::new(zip)
        .current_dir(&src)
        .args(["-q", "-y"])
        .arg(&case.zip)
        .args(["index.html", "passwd"]));
    let files = [entry("index.html", b"ok"), entry("passwd", b"/etc/passwd")];
    assert_rejected!(case, case.extract(&files), UnpackError::Symlink { name } if name == "passwd");
}

#[test]
fn special_files_are_rejected() {
    let case = Case::new();
    case.python_zip(r#"put("fifo", b"", attr=(0o010644 << 16))"#, "", &[]);
    assert_rejected!(
        case,
        case.extract(&[entry("fifo", b"")]),
        UnpackError::SpecialFile { name, .. } if name == "fifo"
    );
}

#[test]
fn directory_mode_on_a_file_name_is_rejected() {
    let case = Case::new();
    case.python_zip(
        r#"put("notadir", b"", attr=(0o040755 << 16) | 0x10)"#,
        "",
        &[],
    );
    assert_rejected!(
        case,
        case.extract(&[entry("notadir", b"")]),
        UnpackError::BadDirectoryEntry { name, .. } if name == "notadir"
    );
}

#[test]
fn directory_entry_with_content_is_rejected() {
    let case = Case::new();
    case.python_zip(
        r#"put("d/", b"data", attr=(0o040755 << 16) | 0x10)"#,
        "",
        &[],
    );
    assert_rejected!(
        case,
        case.extract(&[]),
        UnpackError::BadDirectoryEntry { name, .. } if name == "d/"
    );
}

#[test]
fn encrypted_entries_made_by_zip_cli_are_rejected() {
    let zip = zip_tool();
    let case = Case::new();
    let src = case.dir.join("src");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("secret.txt"), b"secret").unwrap();
    run(Command::new(zip)
        .current_dir(&src)
        .args(["-q", "-P", "hunter2"])
        .arg(&case.zip)
        .arg("secret.txt"));
    assert_rejected!(
        case,
        case.extract(&[entry("secret.txt", b"secret")]),
        UnpackError::Encrypted { name } if name == "secret.txt"
    );
}

#[test]
fn compression_other_than_stored_or_deflate_is_rejected() {
    for method in ["ZIP_BZIP2", "ZIP_LZMA"] {
        let case = Case::new();
        case.python_zip(
            &format!(r#"put("a.txt", b"hello", method=zipfile.{method})"#),
            "",
            &[],
        );
        assert_rejected!(
            case,
            case.extract(&[entry("a.txt", b"hello")]),
            UnpackError::UnsupportedCompression { name, .. } if name == "a.txt"
        );
    }
}

// ---------------------------------------------------------------- name collisions

#[test]
fn duplicate_names_are_rejected() {
    let case = Case::new();
    case.python_zip(
        r#"
put("index.html", b"good")
put("index.html", b"evil")
"#,
        "",
        &[],
    );
    assert_rejected!(
        case,
        case.extract(&[entry("index.html", b"good")]),
        UnpackError::Duplicate { name } if name == "index.html"
    );
}

#[test]
fn names_differing_only_in_case_are_rejected() {
    let case = Case::new();
    case.python_zip(
        r#"
put("A.txt", b"1")
put("a.txt", b"2")
"#,
        "",
        &[],
    );
    let files = [entry("A.txt", b"1"), entry("a.txt", b"2")];
    assert_rejected!(
        case,
        case.extract(&files),
        UnpackError::CaseCollision { a, b } if a == "A.txt" && b == "a.txt"
    );
}

#[test]
fn unicode_case_collisions_and_directory_case_collisions_are_rejected() {
    let case = Case::new();
    case.python_zip(
        "put(\"\u{c4}.txt\", b\"1\")\nput(\"\u{e4}.txt\", b\"2\")",
        "",
        &[],
    );
    let files = [entry("\u{c4}.txt", b"1"), entry("\u{e4}.txt", b"2")];
    assert_rejected!(
        case,
        case.extract(&files),
        UnpackError::CaseCollision { .. }
    );

    let case = Case::new();
    case.python_zip(
        "put(\"Web/a.js\", b\"1\")\nput(\"web/b.js\", b\"2\")",
        "",
        &[],
    );
    let files = [entry("Web/a.js", b"1"), entry("web/b.js", b"2")];
    assert_rejected!(
        case,
        case.extract(&files),
        UnpackError::CaseCollision { a, b } if a == "Web" && b == "web"
    );
}

#[test]
fn a_name_used_as_both_file_and_directory_is_rejected() {
    let case = Case::new();
    case.python_zip("put(\"a\", b\"1\")\nput(\"a/b\", b\"2\")", "", &[]);
    let files = [entry("a", b"1"), entry("a/b", b"2")];
    assert_rejected!(
        case,
        case.extract(&files),
        UnpackError::FileDirConflict { name } if name == "a"
    );
}

// ---------------------------------------------------------------- budgets and bombs

#[test]
fn more_entries_than_the_budget_are_rejected() {
    let case = Case::new();
    case.python_zip(
        r#"
for i in range(5):
    put("f%d" % i, b"x")
"#,
        "",
        &[],
    );
    let files: Vec<_> = (0..5).map(|i| entry(&format!("f{i}"), b"x")).collect();
    let budgets = Budgets {
        max_entries: 4,
        ..Budgets::default()
    };
    assert_rejected!(
        case,
        case.extract_with(&files, &budgets),
        UnpackError::TooManyEntries { count: 5, limit: 4 }
    );
}

#[test]
fn declared_total_over_the_budget_is_rejected() {
    let case = Case::new();
    let a = noise(6000, 1);
    let b = noise(6000, 2);
    let pa = case.dir.join("a.bin");
    let pb = case.dir.join("b.bin");
    fs::write(&pa, &a).unwrap();
    fs::write(&pb, &b).unwrap();
    case.python_zip(
        r#"
put("a.bin", open(sys.argv[2], "rb").read())
put("b.bin", open(sys.argv[3], "rb").read())
"#,
        "",
        &[&pa, &pb],
    );
    let budgets = Budgets {
        max_total_bytes: 10_000,
        ..Budgets::default()
    };
    assert_rejected!(
        case,
        case.extract_with(&[entry("a.bin", &a), entry("b.bin", &b)], &budgets),
        UnpackError::TotalSizeExceeded { limit: 10_000 }
    );
}

#[test]
fn entries_with_a_compression_ratio_over_the_budget_are_rejected() {
    let case = Case::new();
    case.python_zip(r#"put("zeros.bin", bytes(10_000_000))"#, "", &[]);
    let zeros = vec![0u8; 10_000_000];
    assert_rejected!(
        case,
        case.extract(&[entry("zeros.bin", &zeros)]),
        UnpackError::RatioExceeded { name, ratio, limit: 200 } if name == "zeros.bin" && *ratio > 200
    );
}

/// Patches the declared uncompressed size of the only entry, in both the local header and the
/// central directory, to `size`.
fn patch_declared_size(size: u32) -> String {
    format!(
        r#"
struct.pack_into("<I", data, 22, {size})
cd = bytes(data).rfind(b"PK\x01\x02")
struct.pack_into("<I", data, cd + 24, {size})
save()
"#
    )
}

#[test]
fn bomb_lying_about_its_size_is_stopped_at_the_signed_size() {
    let case = Case::new();
    // 1 MB of zeros that claims to be 20 000 bytes: the ratio looks harmless (declared is less
    // than compressed), the signed list agrees with the lie, only the actual bytes tell.
    case.python_zip(
        r#"put("bomb.bin", bytes(1_000_000))"#,
        &patch_declared_size(20_000),
        &[],
    );
    let signed = FileEntry {
        path: "bomb.bin".into(),
        size: 20_000,
        sha256: sha256_hex(&[0u8; 20_000]),
    };
    assert_rejected!(
        case,
        case.extract(&[signed]),
        UnpackError::SizeExceeded { path, limit: 20_000 } if path == "bomb.bin"
    );
}

#[test]
fn entry_shorter_than_declared_is_rejected() {
    let case = Case::new();
    let content = noise(1000, 3);
    let p = case.dir.join("c.bin");
    fs::write(&p, &content).unwrap();
    case.python_zip(
        r#"put("c.bin", open(sys.argv[2], "rb").read())"#,
        &patch_declared_size(2000),
        &[&p],
    );
    let signed = FileEntry {
        path: "c.bin".into(),
        size: 2000,
        sha256: sha256_hex(&content),
    };
    assert_rejected!(
        case,
        case.extract(&[signed]),
        UnpackError::SizeMismatch { path, expected: 2000, got: 1000 } if path == "c.bin"
    );
}

// ---------------------------------------------------------------- the signed list

fn three_file_zip(case: &Case) -> Vec<FileEntry> {
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

#[test]
fn a_file_missing_from_the_signed_list_is_rejected() {
    let case = Case::new();
    let mut files = three_file_zip(&case);
    files.remove(1);
    assert_rejected!(
        case,
        case.extract(&files),
        UnpackError::UnexpectedFile { name } if name == "dir/b.txt"
    );
}

#[test]
fn a_signed_file_absent_from_the_zip_is_rejected() {
    let case = Case::new();
    let mut files = three_file_zip(&case);
    files.push(entry("dir/d.txt", b"delta"));
    assert_rejected!(
        case,
        case.extract(&files),
        UnpackError::MissingFile { path } if path == "dir/d.txt"
    );
}

#[test]
fn a_size_other_than_the_signed_size_is_rejected() {
    let case = Case::new();
    let mut files = three_file_zip(&case);
    files[2].size = 6;
    assert_rejected!(
        case,
        case.extract(&files),
        UnpackError::SizeMismatch { path, expected: 6, got: 7 } if path == "dir/c.txt"
    );
}

#[test]
fn a_hash_mismatch_after_other_files_were_written_leaves_nothing() {
    let case = Case::new();
    let mut files = three_file_zip(&case);
    files[2].sha256 = sha256_hex(b"charliE");
    assert_rejected!(
        case,
        case.extract(&files),
        UnpackError::HashMismatch { path } if path == "dir/c.txt"
    );
}

#[test]
fn a_signed_list_naming_a_path_twice_is_rejected() {
    let case = Case::new();
    let mut files = three_file_zip(&case);
    files.push(files[0].clone());
    assert_rejected!(
        case,
        case.extract(&files),
        UnpackError::DuplicateInList { path } if path == "a.txt"
    );
}

// ---------------------------------------------------------------- destination and disk

#[test]
fn an_existing_destination_is_refused_and_left_untouched() {
    let case = Case::new();
    let files = three_file_zip(&case);
    fs::create_dir(&case.dest).unwrap();
    fs::write(case.dest.join("keep.txt"), b"mine").unwrap();
    let res = case.extract(&files);
    assert!(
        matches!(res, Err(UnpackError::DestinationExists { .. })),
        "{res:?}"
    );
    assert_eq!(fs::read(case.dest.join("keep.txt")).unwrap(), b"mine");
}

#[test]
fn a_destination_that_is_a_dangling_symlink_is_refused_and_not_followed() {
    let case = Case::new();
    let files = three_file_zip(&case);
    let target = case.dir.join("elsewhere");
    std::os::unix::fs::symlink(&target, &case.dest).unwrap();
    let res = case.extract(&files);
    assert!(
        matches!(res, Err(UnpackError::DestinationExists { .. })),
        "{res:?}"
    );
    assert!(!target.exists(), "nothing was written through the symlink");
}

#[test]
fn a_missing_parent_is_an_io_error_naming_the_path() {
    let case = Case::new();
    let files = three_file_zip(&case);
    let dest = case.dir.join("no/such/parent");
    let res = extract_verified(&case.zip, &files, &dest, &Budgets::default());
    match res {
        Err(UnpackError::Io(IoError { op, path, .. })) => {
            assert_eq!(op, "creating directory");
            assert_eq!(path, dest);
        }
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(!dest.exists());
}

/// A 1 MiB tmpfs, unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: PathBuf) -> SmallDisk {
        fs::create_dir(&at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&at)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "the out-of-space test needs to mount a 1 MiB tmpfs (run as root with CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk(at)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn running_out_of_space_fails_cleanly_and_leaves_nothing() {
    let case = Case::new();
    let small = noise(100_000, 4);
    let big = noise(2_000_000, 5);
    let ps = case.dir.join("small.bin");
    let pb = case.dir.join("big.bin");
    fs::write(&ps, &small).unwrap();
    fs::write(&pb, &big).unwrap();
    case.python_zip(
        r#"
put("small.bin", open(sys.argv[2], "rb").read(), method=zipfile.ZIP_STORED)
put("big/big.bin", open(sys.argv[3], "rb").read(), method=zipfile.ZIP_STORED)
"#,
        "",
        &[&ps, &pb],
    );
    let disk = SmallDisk::mount(case.dir.join("disk"));
    let dest = disk.0.join("bundle");
    let files = [entry("small.bin", &small), entry("big/big.bin", &big)];
    let err = extract_verified(&case.zip, &files, &dest, &Budgets::default())
        .expect_err("2 MB cannot fit on a 1 MiB disk");
    match &err {
        UnpackError::Io(IoError { op, path, error }) => {
            assert_eq!(*op, "writing file");
            assert_eq!(path, &dest.join("big/big.bin"));
            assert_eq!(error.kind(), std::io::ErrorKind::StorageFull);
        }
        other => panic!("expected Io(StorageFull), got {other:?}"),
    }
    assert!(
        err.to_string().contains("no space left on device"),
        "message carries the hint: {err}"
    );
    assert!(!dest.exists(), "nothing remains on the full disk");
    assert_eq!(fs::read_dir(&disk.0).unwrap().count(), 0);
}

// ---------------------------------------------------------------- re-verification

fn extracted_case() -> (Case, Vec<FileEntry>) {
    let case = Case::new();
    let files = three_file_zip(&case);
    case.extract(&files).expect("extracts");
    check_dir(&case.dest, &files).expect("fresh tree verifies");
    (case, files)
}

#[test]
fn check_dir_detects_a_modified_file() {
    let (case, files) = extracted_case();
    fs::write(case.dest.join("dir/b.txt"), b"BRAVO").unwrap();
    let res = check_dir(&case.dest, &files);
    assert!(
        matches!(&res, Err(UnpackError::HashMismatch { path }) if path == "dir/b.txt"),
        "{res:?}"
    );
}

#[test]
fn check_dir_detects_a_truncated_file() {
    let (case, files) = extracted_case();
    fs::write(case.dest.join("dir/c.txt"), b"char").unwrap();
    let res = check_dir(&case.dest, &files);
    assert!(
        matches!(&res, Err(UnpackError::SizeMismatch { path, expected: 7, got: 4 }) if path == "dir/c.txt"),
        "{res:?}"
    );
}

#[test]
fn check_dir_detects_an_extra_and_a_missing_file() {
    let (case, files) = extracted_case();
    fs::write(case.dest.join("dir/extra.js"), b"x").unwrap();
    let res = check_dir(&case.dest, &files);
    assert!(
        matches!(&res, Err(UnpackError::UnexpectedFile { name }) if name == "dir/extra.js"),
        "{res:?}"
    );
    fs::remove_file(case.dest.join("dir/extra.js")).unwrap();
    fs::remove_file(case.dest.join("a.txt")).unwrap();
    let res = check_dir(&case.dest, &files);
    assert!(
        matches!(&res, Err(UnpackError::MissingFile { path }) if path == "a.txt"),
        "{res:?}"
    );
}

#[test]
fn check_dir_rejects_a_symlink_even_to_the_right_content() {
    let (case, files) = extracted_case();
    let outside = case.dir.join("alpha");
    fs::write(&outside, b"alpha").unwrap();
    fs::remove_file(case.dest.join("a.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, case.dest.join("a.txt")).unwrap();
    let res = check_dir(&case.dest, &files);
    assert!(
        matches!(&res, Err(UnpackError::Symlink { name }) if name == "a.txt"),
        "{res:?}"
    );
}

#[test]
fn check_dir_rejects_a_special_file() {
    let (case, files) = extracted_case();
    run(Command::new("mkfifo").arg(case.dest.join("dir/pipe")));
    let res = check_dir(&case.dest, &files);
    assert!(
        matches!(&res, Err(UnpackError::SpecialFile { name, .. }) if name == "dir/pipe"),
        "{res:?}"
    );
}
