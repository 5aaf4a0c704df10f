//! Extraction of good and corrupt zips made by other tools (python3's `zipfile`, Info-ZIP
//! `zip`): good zips extract to exactly the signed files, corrupt ones are rejected, and an
//! extracted tree is re-verified against the signed list (`check_dir`).

#[macro_use]
mod support;

use std::fs;
use std::process::Command;

use liveship::crypto::sha256_hex;
use liveship::release::FileEntry;
use liveship::unpack::{check_dir, Extracted, UnpackError};
use support::noise;
use support::zips::{entry, run, three_file_zip, zip_tool, Case};

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
fn a_five_mib_file_of_zeros_zipped_by_python_installs() {
    // Deflate ratio ~1026: no ratio rule refuses it; its signed size bounds it.
    let case = Case::new();
    case.python_zip(r#"put("zeros.bin", bytes(5 * 1024 * 1024))"#, "", &[]);
    let zeros = vec![0u8; 5 * 1024 * 1024];
    let files = [entry("zeros.bin", &zeros)];
    case.extract(&files)
        .expect("a 5 MiB file of zeros is a legitimate bundle file");
    check_dir(&case.dest, &files).expect("re-verifies");
}

#[test]
fn a_two_mb_file_of_one_repeated_word_zipped_by_info_zip_installs() {
    let zip = zip_tool();
    let case = Case::new();
    let src = case.dir.join("src");
    fs::create_dir(&src).unwrap();
    let text = b"lorem ".repeat(2_000_000 / 6);
    fs::write(src.join("words.txt"), &text).unwrap();
    fs::write(src.join("spaces.txt"), vec![b' '; 60_000]).unwrap();
    run(Command::new(zip)
        .current_dir(&src)
        .args(["-q", "-9", "-X"])
        .arg(&case.zip)
        .args(["words.txt", "spaces.txt"]));
    let files = [
        entry("words.txt", &text),
        entry("spaces.txt", &vec![b' '; 60_000]),
    ];
    case.extract(&files)
        .expect("repeated text is a legitimate bundle file");
    check_dir(&case.dest, &files).expect("re-verifies");
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
    assert_rejected!(
        case,
        case.extract(&[]),
        UnpackError::MalformedDirectory { reason } if reason.contains("end-of-central-directory")
    );
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
