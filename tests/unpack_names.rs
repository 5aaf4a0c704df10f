//! Entry names and types of untrusted bundle zips: unsafe paths, symlinks, special files,
//! inconsistent directory entries, encryption, compression, duplicates and case collisions are
//! each rejected with their own error, leaving nothing behind.

#[macro_use]
mod support;

use std::fs;
use std::process::Command;

use liveship::unpack::{Budgets, UnpackError};
use support::zips::{entry, run, zip_tool, Case};

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

#[test]
fn names_equal_after_unicode_normalization_are_rejected() {
    // `café.html` precomposed (NFC, U+00E9) and decomposed (NFD, e + U+0301): two names in a
    // zip, one file on APFS.
    let (nfc, nfd) = ("caf\u{e9}.html", "cafe\u{301}.html");
    let case = Case::new();
    case.python_zip(
        &format!("put(\"{nfc}\", b\"1\")\nput(\"{nfd}\", b\"2\")"),
        "",
        &[],
    );
    let files = [entry(nfc, b"1"), entry(nfd, b"2")];
    assert_rejected!(
        case,
        case.extract(&files),
        UnpackError::CaseCollision { a, b } if a == nfc && b == nfd
    );

    // The same through a directory, and combined with case: `CAFÉ/` (NFC) and `café/` (NFD).
    let (upper_nfc, lower_nfd) = ("CAF\u{c9}", "cafe\u{301}");
    let case = Case::new();
    case.python_zip(
        &format!("put(\"{upper_nfc}/a.js\", b\"1\")\nput(\"{lower_nfd}/b.js\", b\"2\")"),
        "",
        &[],
    );
    let files = [
        entry(&format!("{upper_nfc}/a.js"), b"1"),
        entry(&format!("{lower_nfd}/b.js"), b"2"),
    ];
    assert_rejected!(
        case,
        case.extract(&files),
        UnpackError::CaseCollision { a, b } if a == upper_nfc && b == lower_nfd
    );
}

#[test]
fn the_collision_key_folds_normalization_and_case() {
    use liveship::unpack::name_key;
    assert_eq!(name_key("Caf\u{e9}.HTML"), name_key("cafe\u{301}.html"));
    assert_eq!(
        name_key("\u{212b}"),
        name_key("\u{e5}"),
        "the Angstrom sign is an a-ring"
    );
    assert_ne!(name_key("cafe.html"), name_key("caf\u{e9}.html"));
}

#[test]
fn a_file_list_is_checked_with_the_same_name_rules_and_budgets() {
    use liveship::unpack::check_file_list;
    let budgets = Budgets::default();
    check_file_list([("index.html", 10), ("js/app.js", 20)], &budgets).expect("a fine list");
    assert!(matches!(
        check_file_list([("caf\u{e9}.html", 1), ("cafe\u{301}.html", 1)], &budgets),
        Err(UnpackError::CaseCollision { .. })
    ));
    assert!(matches!(
        check_file_list([("a\\b.html", 1)], &budgets),
        Err(UnpackError::UnsafePath { .. })
    ));
    let many: Vec<String> = (0..20_001).map(|i| format!("f{i}")).collect();
    assert!(matches!(
        check_file_list(many.iter().map(|p| (p.as_str(), 1)), &budgets),
        Err(UnpackError::TooManyEntries {
            count: 20_001,
            limit: 20_000
        })
    ));
    assert!(matches!(
        check_file_list([("a", 300 << 20), ("b", 300 << 20)], &budgets),
        Err(UnpackError::TotalSizeExceeded { limit }) if limit == 512 << 20
    ));
}
