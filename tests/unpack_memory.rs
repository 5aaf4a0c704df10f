//! Memory on a hostile central directory: the end records are read and the entry count and
//! directory size refused before the zip reader parses (and keeps in memory) any record. Peak
//! memory is measured for real, in a child process (this test binary re-run on one ignored
//! test) that reports its own high-water mark (`VmHWM` of /proc/self/status).

#[macro_use]
mod support;

use std::path::Path;

use liveship::unpack::{max_directory_size, Budgets, UnpackError};
use support::zips::{hostile, Case};

/// The bound of the finding: whatever the entry count, the refusal costs less than this.
const MEMORY_LIMIT_KIB: u64 = 64 * 1024;
const CHILD_ZIP_ENV: &str = "LIVESHIP_TEST_MEMORY_ZIP";

/// Extracts the zip named by the environment and prints the result and its peak memory. Run
/// only by [`extract_in_child`] (ignored otherwise: it has nothing to extract).
#[test]
#[ignore = "the child half of the memory tests; run by them with --ignored"]
fn memory_child() {
    let zip = std::env::var_os(CHILD_ZIP_ENV).expect("run by extract_in_child");
    let dest = Path::new(&zip).with_extension("out");
    let res = liveship::unpack::extract_verified(Path::new(&zip), &[], &dest, &Budgets::default());
    match res {
        Ok(x) => println!("OUTCOME ok {x:?}"),
        Err(e) => println!("OUTCOME err {e}"),
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    println!("VMHWM {}", hwm.trim().trim_end_matches("kB").trim());
}

/// Runs [`memory_child`] on `zip` in a child process; returns its outcome line and peak KiB.
fn extract_in_child(zip: &Path) -> (String, u64) {
    // Through the aarch64 run's qemu-user when it sets `LIVESHIP_CHILD_RUNNER`.
    let out = support::crash::child_command()
        .args(["memory_child", "--exact", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(CHILD_ZIP_ENV, zip)
        .output()
        .expect("re-run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let outcome = stdout
        .lines()
        .find_map(|l| l.split_once("OUTCOME ").map(|(_, v)| v))
        .unwrap_or_else(|| panic!("no outcome in child output:\n{stdout}"))
        .to_string();
    let hwm = stdout
        .lines()
        .find_map(|l| l.split_once("VMHWM ").map(|(_, v)| v))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in child output:\n{stdout}"));
    println!("child peak memory {hwm} KiB: {outcome}");
    (outcome, hwm)
}

#[test]
fn a_zip64_directory_of_a_million_entries_is_refused_in_under_64_mib() {
    let case = Case::new();
    // 1,000,000 real 53-byte records (53 MB): the zip reader would keep ~600 bytes of each.
    hostile::zip64_directory(&case.zip, 1_000_000);
    let (outcome, hwm_kib) = extract_in_child(&case.zip);
    assert_eq!(
        outcome, "err zip has 1000000 entries, more than the limit of 20000",
        "the refusal names the entry budget"
    );
    assert!(
        hwm_kib < MEMORY_LIMIT_KIB,
        "peak memory {hwm_kib} KiB must stay under {MEMORY_LIMIT_KIB} KiB"
    );
}

#[test]
fn a_directory_hidden_behind_a_decoy_end_record_is_not_parsed() {
    let case = Case::new();
    // The last end record names a one-record directory the zip reader rejects; a reader that
    // then retries the earlier end record would parse the million records before it.
    hostile::decoy_after_directory(&case.zip, 1_000_000);
    let (outcome, hwm_kib) = extract_in_child(&case.zip);
    assert!(outcome.starts_with("err "), "refused: {outcome}");
    assert!(
        hwm_kib < MEMORY_LIMIT_KIB,
        "peak memory {hwm_kib} KiB must stay under {MEMORY_LIMIT_KIB} KiB ({outcome})"
    );
}

#[test]
fn a_claimed_count_of_millions_is_refused_from_the_end_record_alone() {
    let case = Case::new();
    hostile::zip64_claim(&case.zip, 3_000_000, 3_000_000 * 53);
    assert_rejected!(
        case,
        case.extract(&[]),
        UnpackError::TooManyEntries {
            count: 3_000_000,
            limit: 20_000
        }
    );
}

#[test]
fn a_claimed_directory_size_over_the_bound_is_refused() {
    let case = Case::new();
    let limit = max_directory_size(&Budgets::default());
    assert_eq!(limit, 20_000 * (46 + 512 + 1 + 128), "the documented bound");
    // A classic end record: 10 entries in a 100 MB directory.
    hostile::classic_claim(&case.zip, 10, 100_000_000);
    assert_rejected!(
        case,
        case.extract(&[]),
        UnpackError::DirectoryTooLarge { size: 100_000_000, limit: l } if *l == limit
    );
    // The same in a zip64 end record.
    let case = Case::new();
    hostile::zip64_claim(&case.zip, 10, 1 << 40);
    assert_rejected!(
        case,
        case.extract(&[]),
        UnpackError::DirectoryTooLarge { size, .. } if *size == 1 << 40
    );
}

#[test]
fn a_directory_smaller_than_its_count_needs_is_refused() {
    let case = Case::new();
    hostile::classic_claim(&case.zip, 10, 100);
    assert_rejected!(
        case,
        case.extract(&[]),
        UnpackError::MalformedDirectory { .. }
    );
}

#[test]
fn an_end_record_signature_inside_the_directory_is_refused() {
    // A reader that rejected the real end record would retry one hidden in a comment.
    let case = Case::new();
    case.python_zip(
        r#"
zi = zipfile.ZipInfo("a.txt")
zi.comment = b"PK\x05\x06" + bytes(18)
z.writestr(zi, b"alpha")
"#,
        "",
        &[],
    );
    assert_rejected!(
        case,
        case.extract(&[support::zips::entry("a.txt", b"alpha")]),
        UnpackError::MalformedDirectory { reason } if reason.contains("signature inside")
    );
}

#[test]
fn a_zip64_directory_written_by_python_within_the_budget_extracts() {
    // Over 65535 entries, Python writes a zip64 end record and locator: the end records are
    // read the same way on a real zip as on the hostile ones above.
    let case = Case::new();
    case.python_zip(
        r#"
for i in range(65600):
    put("d%05d/" % i, b"", attr=(0o40755 << 16) | 0x10)
put("index.html", b"hi")
"#,
        r#"assert bytes(data).rfind(b"PK\x06\x07") > 0, "python wrote a zip64 locator""#,
        &[],
    );
    let budgets = Budgets {
        max_entries: 70_000,
        ..Budgets::default()
    };
    let files = [support::zips::entry("index.html", b"hi")];
    let extracted = case.extract_with(&files, &budgets).expect("extracts");
    assert_eq!(extracted.files, 1);
    // The default budget refuses the same zip from its zip64 end record.
    let fresh = Case::new();
    std::fs::copy(&case.zip, &fresh.zip).unwrap();
    assert_rejected!(
        fresh,
        fresh.extract(&files),
        UnpackError::TooManyEntries {
            count: 65_601,
            limit: 20_000
        }
    );
}
