//! Budgets and the signed list: entry count, total size, overlapping entries (one stored copy
//! extracted many times), bombs that lie about their size, files missing from or absent in the signed list, and the destination and disk
//! (existing or symlinked destination, missing parent, running out of space).

#[macro_use]
mod support;

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use liveship::crypto::sha256_hex;
use liveship::fs::IoError;
use liveship::release::FileEntry;
use liveship::unpack::{extract_verified, Budgets, UnpackError};
use support::noise;
use support::zips::{entry, three_file_zip, Case};

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

/// A zip of `copies` central directory records (`f000`, `f001`, ...) that all point at the one
/// local entry of 5 MB of zeros (5 KB deflated), and the signed list that matches it.
fn shared_entry_zip(case: &Case, copies: usize) -> Vec<FileEntry> {
    case.python_zip(
        r#"put("f000", bytes(5_000_000))"#,
        &format!(
            r#"
cd = bytes(data).rfind(b"PK\x01\x02")
eocd = bytes(data).rfind(b"PK\x05\x06")
record = bytes(data[cd:eocd])
records = b"".join(record.replace(b"f000", b"f%03d" % i) for i in range({copies}))
end = bytearray(data[eocd:])
struct.pack_into("<HHI", end, 8, {copies}, {copies}, len(records))
data = bytearray(data[:cd] + records + end)
save()
"#
        ),
        &[],
    );
    let zeros = vec![0u8; 5_000_000];
    (0..copies)
        .map(|i| entry(&format!("f{i:03}"), &zeros))
        .collect()
}

#[test]
fn directory_records_sharing_one_local_entry_are_refused_before_writing() {
    let case = Case::new();
    // 100 records of one 5 KB entry: 500 MB on disk, under the 512 MiB total budget.
    let files = shared_entry_zip(&case, 100);
    assert!(fs::metadata(&case.zip).unwrap().len() < 40_000);
    assert_rejected!(
        case,
        case.extract(&files),
        UnpackError::Overlap { a, b } if a.starts_with('f') && b.starts_with('f') && a != b
    );
}

#[test]
fn entry_data_overlapping_the_central_directory_is_refused() {
    let case = Case::new();
    case.python_zip(
        r#"put("a.txt", b"alpha", method=zipfile.ZIP_STORED)"#,
        // The record claims 20 more compressed bytes than the entry has: they are the
        // directory's own.
        r#"
cd = bytes(data).rfind(b"PK\x01\x02")
struct.pack_into("<I", data, cd + 20, 25)
save()
"#,
        &[],
    );
    assert_rejected!(
        case,
        case.extract(&[entry("a.txt", b"alpha")]),
        UnpackError::OverlapsDirectory { name } if name == "a.txt"
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
fn listing_an_authenticated_zip_stops_a_bomb_lying_about_its_size_at_the_recorded_size() {
    // A Capgo bundle has no signed file list: `list_zip` makes one from the zip, so the zip's
    // own size records must bound the reading (the publisher's key says nothing about them).
    let case = Case::new();
    case.python_zip(
        r#"put("bomb.bin", bytes(1_000_000))"#,
        &patch_declared_size(20_000),
        &[],
    );
    let err = liveship::unpack::list_zip(&case.zip, &Budgets::default()).unwrap_err();
    assert!(
        matches!(&err, UnpackError::SizeExceeded { path, limit: 20_000 } if path == "bomb.bin"),
        "{err}"
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
