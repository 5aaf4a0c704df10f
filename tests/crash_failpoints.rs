//! Crash consistency: a real child process (this test binary, re-executed) installs, launches
//! and confirms bundles; the parent kills it with SIGKILL at a named failpoint, reopens the
//! store and checks the invariants:
//! - open cleans every leftover: staging is empty, no bundle directory or envelope the database
//!   does not know remains;
//! - every bundle the database knows is complete and exactly its signed file list;
//! - launch serves the old bundle or the new one (or built-in where that is right), complete;
//! - the channel's high-water mark never decreases;
//! - a trial left unconfirmed is reverted at the next launch, and its content blocklisted.
//!
//!
//! This file: a kill at each named failpoint of install, launch, confirm, revert, retention and
//! open. Random kills: tests/crash_random_kills.rs.

mod support;

use liveship::store::BundleStatus;
use serde_json::json;
use support::crash::*;
use support::fixtures::*;

/// The child process's entry point: does nothing unless the parent set `LIVESHIP_CRASH_CHILD`.
#[test]
#[ignore = "entry point of the crash harness's child process; the parent tests run it"]
fn child_process_entry_point() {
    child_main();
}

#[test]
fn kill_after_staging_created_leaves_old_bundle() {
    assert_install_rolled_back("install.staging_created", &[]);
}

#[test]
fn kill_after_decrypt_leaves_old_bundle_and_cleans_staging() {
    assert_install_rolled_back("install.decrypted", &[]);
}

#[test]
fn kill_after_extract_leaves_old_bundle_and_cleans_staging() {
    assert_install_rolled_back("install.extracted", &[]);
}

#[test]
fn kill_after_tree_rename_removes_unrecorded_bundle_dir() {
    let id = repo().id(2);
    assert_install_rolled_back("install.tree_renamed", &[format!("bundles/{id}")]);
}

#[test]
fn kill_after_publish_rename_removes_unrecorded_bundle_and_envelope() {
    let id = repo().id(2);
    assert_install_rolled_back(
        "install.renamed",
        &[
            format!("bundles/{id}"),
            format!("bundles/{id}.envelope.json"),
        ],
    );
}

#[test]
fn kill_after_install_commit_keeps_new_bundle_as_next() {
    let repo = repo();
    let (data, mut hw) = setup(&[]);
    let (after, r) = kill_at(
        data.path(),
        "install.committed",
        &steps(&["install:2"]),
        &mut hw,
    );
    assert_eq!(after.roles.next, Some(repo.id(2)));
    assert_eq!(after.high_water, 2);
    assert!(after.cleaned.iter().all(|c| c.starts_with("staging/")));
    assert_eq!((r.id, r.trial), (repo.id(2), true));
}

/// The floor is written after the install's commit through a temp file; a kill between the
/// temp file and its rename keeps the install and leaves the older floor, and the next open
/// removes the temp file (nothing else ever would).
#[test]
fn kill_while_writing_the_floor_keeps_the_install_and_removes_the_temp_file() {
    let repo = repo();
    let (data, mut hw) = setup(&[]);
    let (after, r) = kill_at(
        data.path(),
        "fs.atomic_temp_written:production.envelope.json",
        &steps(&["install:2"]),
        &mut hw,
    );
    assert_eq!(after.roles.next, Some(repo.id(2)));
    assert_eq!(after.high_water, 2);
    assert!(
        after
            .cleaned
            .iter()
            .any(|c| c.starts_with("floors/.") && c.ends_with(".tmp")),
        "the floor's temp file is not among cleaned {:?}",
        after.cleaned
    );
    assert_eq!(
        entries(&data.path().join("floors")),
        vec!["production.envelope.json"]
    );
    assert_eq!((r.id, r.trial), (repo.id(2), true));
}

/// The recovery record is rewritten through a temp file inside the install's transaction,
/// before its commit: a kill between the temp file and its rename rolls the install back, keeps
/// the previous record, and the next open removes the temp file from the data folder.
#[test]
fn kill_while_writing_the_recovery_record_rolls_back_and_removes_the_temp_file() {
    let repo = repo();
    let (data, mut hw) = setup(&[]);
    let record_before = std::fs::read(data.path().join("recovery.json")).unwrap();
    let (after, r) = kill_at(
        data.path(),
        "fs.atomic_temp_written:recovery.json",
        &steps(&["install:2"]),
        &mut hw,
    );
    assert_eq!(after.roles.next, None);
    assert_eq!(after.high_water, 1);
    assert_eq!((r.id.as_str(), r.trial), (repo.id(1).as_str(), false));
    assert!(
        after
            .cleaned
            .iter()
            .any(|c| c.starts_with(".recovery.json.") && c.ends_with(".tmp")),
        "the record's temp file is not among cleaned {:?}",
        after.cleaned
    );
    let left: Vec<String> = entries(data.path())
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    assert_eq!(left, Vec::<String>::new());
    assert_eq!(
        std::fs::read(data.path().join("recovery.json")).unwrap(),
        record_before
    );
}

#[test]
fn kill_inside_launch_transaction_leaves_next_untried() {
    let repo = repo();
    let (data, mut hw) = setup(&["install:2"]);
    let (after, r) = kill_at(
        data.path(),
        "launch.before_trial_commit",
        &steps(&["launch"]),
        &mut hw,
    );
    assert_eq!(after.roles.next, Some(repo.id(2)));
    assert_eq!(after.roles.trial, None);
    assert_eq!((r.id, r.trial), (repo.id(2), true));
}

#[test]
fn kill_after_trial_commit_reverts_trial_at_next_launch() {
    let repo = repo();
    let (data, mut hw) = setup(&["install:2"]);
    let (after, r) = kill_at(
        data.path(),
        "launch.committed",
        &steps(&["launch"]),
        &mut hw,
    );
    assert_eq!(after.roles.trial, Some(repo.id(2)));
    assert_eq!(r.reverted.unwrap().id, repo.id(2));
    assert_eq!((r.id, r.trial), (repo.id(1), false));
    assert_eq!(after.high_water, 2, "a revert does not lower the mark");
    // Blocklisted and below the mark: the same release is refused.
    let u = open_updater(data.path());
    assert!(u.install_from_file(repo.release(2)).is_err());
}

#[test]
fn kill_after_revert_commit_keeps_the_revert() {
    let repo = repo();
    let (data, mut hw) = setup(&["install:2", "launch"]);
    // The child's launch reverts the trial the setup started, and dies right after committing.
    let (after, r) = kill_at(
        data.path(),
        "launch.committed",
        &steps(&["launch"]),
        &mut hw,
    );
    assert_eq!(after.roles.trial, None);
    let row = after.rows.iter().find(|b| b.id == repo.id(2)).unwrap();
    assert_eq!(row.status, BundleStatus::Failed);
    assert_eq!((r.id, r.trial, r.reverted), (repo.id(1), false, None));
}

#[test]
fn kill_inside_confirm_transaction_leaves_trial_to_be_reverted() {
    let repo = repo();
    let (data, mut hw) = setup(&["install:2", "launch"]);
    let (after, r) = kill_at(
        data.path(),
        "confirm.before_commit",
        &steps(&["ready:2"]),
        &mut hw,
    );
    assert_eq!(after.roles.trial, Some(repo.id(2)));
    assert_eq!(after.roles.current, Some(repo.id(1)));
    assert_eq!(r.reverted.unwrap().id, repo.id(2));
    assert_eq!(r.id, repo.id(1));
}

#[test]
fn kill_after_confirm_commit_keeps_confirmed_bundle() {
    let repo = repo();
    let (data, mut hw) = setup(&["install:2", "launch"]);
    let (after, r) = kill_at(
        data.path(),
        "confirm.committed",
        &steps(&["ready:2"]),
        &mut hw,
    );
    assert_eq!(after.roles.current, Some(repo.id(2)));
    assert_eq!(after.roles.fallback, Some(repo.id(1)));
    assert_eq!(after.roles.trial, None);
    assert_eq!((r.id, r.trial, r.reverted), (repo.id(2), false, None));
}

#[test]
fn kill_between_retention_rows_and_files_cleans_files_at_open() {
    let repo = repo();
    let (data, mut hw) = setup(&["install:2", "launch", "ready:2", "install:3", "launch"]);
    let (after, r) = kill_at(
        data.path(),
        "retention.rows_deleted",
        &steps(&["ready:3"]),
        &mut hw,
    );
    let id1 = repo.id(1);
    assert_eq!(after.roles.current, Some(repo.id(3)));
    assert_eq!(after.roles.fallback, Some(repo.id(2)));
    assert!(after.rows.iter().all(|b| b.id != id1));
    assert!(after.cleaned.contains(&format!("bundles/{id1}")));
    assert!(after
        .cleaned
        .contains(&format!("bundles/{id1}.envelope.json")));
    assert_eq!(r.id, repo.id(3));
}

#[test]
fn kill_while_open_cleans_leftovers_finishes_at_next_open() {
    let repo = repo();
    let (data, mut hw) = setup(&[]);
    // First leave leftovers (a renamed but unrecorded bundle and its staging directory)...
    let mut child = spawn(json!({
        "data": data.path(), "repo": repo.dir, "failpoint": "install.renamed", "steps": ["install:2"],
    }));
    child.wait_for("AT install.renamed");
    child.kill();
    // ...then kill the next process while its open removes them.
    let (after, r) = kill_at(
        data.path(),
        "open.leftover_removed",
        &steps(&["open"]),
        &mut hw,
    );
    assert!(!after.cleaned.is_empty(), "the second open had work left");
    assert_eq!((r.id, r.trial), (repo.id(1), false));
}
