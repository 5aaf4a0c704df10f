//! Crash consistency: a real child process (this test binary, re-executed) installs, launches
//! and confirms bundles; the parent kills it with SIGKILL at a named failpoint or after a random
//! delay, reopens the store and checks the invariants:
//! - open cleans every leftover: staging is empty, no bundle directory or envelope the database
//!   does not know remains;
//! - every bundle the database knows is complete and exactly its signed file list;
//! - launch serves the old bundle or the new one (or built-in where that is right), complete;
//! - the channel's high-water mark never decreases;
//! - a trial left unconfirmed is reverted at the next launch, and its content blocklisted.
//!
//! Random kills: `LIVESHIP_CRASH_SEED=N` replays a run (the seed is printed on failure).

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use liveship::boot::{self, LaunchResult, REASON_NOT_CONFIRMED};
use liveship::release::Manifest;
use liveship::store::{self, BundleStatus, Store};
use liveship::unpack::check_dir;
use liveship::updater::Updater;
use serde_json::{json, Value};
use support::fixtures::*;

const CHILD_ENV: &str = "LIVESHIP_CRASH_CHILD";
const CHILD_TEST: &str = "child_process_entry_point";
/// Releases in the shared repository; every fourth one is a broken app that never confirms.
const RELEASES: u64 = 24;

fn is_broken(seq: u64) -> bool {
    seq.is_multiple_of(4)
}

struct Repo {
    dir: PathBuf,
    /// Release file of sequence `n` at index `n - 1`.
    releases: Vec<PathBuf>,
    /// Manifest of every release, by bundle id.
    by_id: HashMap<String, Manifest>,
}

impl Repo {
    fn release(&self, seq: u64) -> &Path {
        &self.releases[seq as usize - 1]
    }
    fn id(&self, seq: u64) -> String {
        bundle_id_of(self.release(seq))
    }
}

/// One release repository for every test of this process, built once with `publish::pack`.
fn repo() -> &'static Repo {
    static REPO: OnceLock<Repo> = OnceLock::new();
    REPO.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        // Repositories of earlier runs are stale; this run makes its own.
        for name in entries(tmp) {
            if name.starts_with("crash-repo-") {
                let _ = std::fs::remove_dir_all(tmp.join(name));
            }
        }
        let dir = tmp.join(format!("crash-repo-{}", std::process::id()));
        let mut releases = Vec::new();
        let mut by_id = HashMap::new();
        for seq in 1..=RELEASES {
            let path = if is_broken(seq) {
                broken_release(&dir, seq)
            } else {
                good_release(&dir, seq)
            };
            let m = manifest_of(&path);
            by_id.insert(liveship::install::bundle_id(&m), m);
            releases.push(path);
        }
        Repo {
            dir,
            releases,
            by_id,
        }
    })
}

fn device_config(data: &Path) -> liveship::config::Config {
    config(&data.join("builtin-web"))
}

fn open_updater(data: &Path) -> Updater {
    Updater::open(device_config(data), data, liveship::events::discard()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The child.

/// The child process's entry point: does nothing unless the parent set `LIVESHIP_CRASH_CHILD`.
#[test]
#[ignore = "entry point of the crash harness's child process; the parent tests run it"]
fn child_process_entry_point() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let spec: Value = serde_json::from_str(&spec).unwrap();
    let data = PathBuf::from(spec["data"].as_str().unwrap());
    let repo_dir = PathBuf::from(spec["repo"].as_str().unwrap());
    let release = |seq: u64| {
        repo_dir
            .join("releases")
            .join(format!("{CHANNEL}.{seq}.json"))
    };
    if let Some(point) = spec["failpoint"].as_str() {
        let name = point.to_string();
        fail::cfg_callback(point, move || {
            say(&format!("AT {name}"));
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        })
        .unwrap();
    }
    say("START");
    let updater = open_updater(&data);
    say("OPENED");
    if let Some(steps) = spec["steps"].as_array() {
        for step in steps {
            let step = step.as_str().unwrap();
            let (verb, arg) = step.split_once(':').unwrap_or((step, ""));
            match verb {
                "install" => {
                    updater
                        .install_from_file(&release(arg.parse().unwrap()))
                        .unwrap();
                }
                "launch" => {
                    updater.launch();
                }
                "ready" => {
                    let id = bundle_id_of(&release(arg.parse().unwrap()));
                    updater.notify_app_ready(&id).unwrap();
                }
                "open" => {}
                other => panic!("unknown step {other}"),
            }
        }
    } else {
        // Random workload: the life of an app, over and over, with small random pauses so the
        // parent's kill lands anywhere.
        let mut rng = Rng(spec["seed"].as_u64().unwrap());
        loop {
            let r = updater.launch();
            rng.pause();
            if r.trial {
                let seq = updater
                    .list()
                    .unwrap()
                    .into_iter()
                    .find(|b| b.id == r.id)
                    .unwrap()
                    .sequence;
                if !is_broken(seq) {
                    updater.notify_app_ready(&r.id).unwrap();
                    rng.pause();
                }
            }
            let hw = updater.status().unwrap().high_water.unwrap_or(0);
            if hw >= RELEASES {
                break;
            }
            updater.install_from_file(&release(hw + 1)).unwrap();
            rng.pause();
        }
    }
    say("DONE");
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

/// splitmix64: small, seedable, good enough to pick delays.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pause(&mut self) {
        std::thread::sleep(Duration::from_micros(self.below(3_000)));
    }
}

// ---------------------------------------------------------------------------------------------
// The parent.

struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

/// The child command: this test binary, run through `LIVESHIP_CHILD_RUNNER` when set (the
/// aarch64 run sets it to its qemu-user command line, as cargo's target runner does for the
/// parent; SIGKILL of the emulator kills the emulated child with it).
fn child_command() -> Command {
    let exe = std::env::current_exe().unwrap();
    match std::env::var("LIVESHIP_CHILD_RUNNER")
        .ok()
        .filter(|r| !r.trim().is_empty())
    {
        Some(runner) => {
            let mut parts = runner.split_whitespace();
            let mut cmd = Command::new(parts.next().expect("non-empty runner"));
            cmd.args(parts).arg(exe);
            cmd
        }
        None => Command::new(exe),
    }
}

fn spawn(spec: Value) -> Running {
    let mut child = child_command()
        .args([
            "--exact",
            CHILD_TEST,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, spec.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Running { child, lines }
}

impl Running {
    /// Waits for the line `want`; panics with the child's stderr if it exits first.
    fn wait_for(&mut self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) if line.ends_with(want) => return,
                Ok(line) => seen.push(line),
                Err(_) => {
                    let _ = self.child.kill();
                    let status = self.child.try_wait();
                    let out = self.child.wait_with_output_stderr();
                    panic!("child never printed {want:?} ({status:?}); stdout: {seen:?}; stderr:\n{out}");
                }
            }
        }
    }

    /// SIGKILL, then reap.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

trait StderrOf {
    fn wait_with_output_stderr(&mut self) -> String;
}
impl StderrOf for Child {
    fn wait_with_output_stderr(&mut self) -> String {
        let _ = self.wait();
        let mut s = String::new();
        if let Some(mut e) = self.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut s);
        }
        s
    }
}

/// What the parent saw when it reopened the store after a kill, before launching.
struct AfterKill {
    cleaned: Vec<String>,
    roles: store::Roles,
    high_water: u64,
    rows: Vec<store::BundleRow>,
}

/// Reopens the store after a kill and checks the invariants that hold whatever the kill point;
/// then launches (the next start of the app) and checks what it serves. `ctx` names the run.
fn reopen_and_check(data: &Path, last_hw: &mut u64, ctx: &str) -> (AfterKill, LaunchResult) {
    let repo = repo();
    let (mut st, report) = Store::open(data).unwrap_or_else(|e| panic!("{ctx}: open: {e}"));
    assert!(report.reset.is_none(), "{ctx}: database reset after a kill");
    assert_eq!(
        entries(&st.staging_dir()),
        Vec::<String>::new(),
        "{ctx}: staging not cleaned"
    );
    let floors = entries(&data.join("floors"));
    assert!(
        floors.iter().all(|n| !liveship::fs::is_atomic_temp(n)),
        "{ctx}: a floor's temp file left after open: {floors:?}"
    );
    let rows = store::bundles(st.read()).unwrap();
    let known: Vec<&str> = rows.iter().map(|b| b.id.as_str()).collect();
    for name in entries(&st.bundles_dir()) {
        let id = name.strip_suffix(".envelope.json").unwrap_or(&name);
        assert!(
            known.contains(&id),
            "{ctx}: unknown bundles/{name} left after open"
        );
    }
    for b in &rows {
        let m = repo
            .by_id
            .get(&b.id)
            .unwrap_or_else(|| panic!("{ctx}: bundle {} is no release", b.id));
        check_dir(&st.bundle_dir(&b.id), &m.files)
            .unwrap_or_else(|e| panic!("{ctx}: bundle {} incomplete: {e}", b.id));
        assert!(
            st.envelope_path(&b.id).is_file(),
            "{ctx}: envelope of {} missing",
            b.id
        );
    }
    let roles = store::roles(st.read()).unwrap();
    for id in [&roles.current, &roles.fallback, &roles.trial, &roles.next]
        .into_iter()
        .flatten()
    {
        assert!(
            known.contains(&id.as_str()),
            "{ctx}: role points at {id}, no row"
        );
    }
    let hw = store::high_water(st.read(), CHANNEL).unwrap().unwrap_or(0);
    assert!(
        hw >= *last_hw,
        "{ctx}: high-water mark fell {last_hw} -> {hw}"
    );
    let max_row = rows.iter().map(|b| b.sequence).max().unwrap_or(0);
    assert!(
        hw >= max_row,
        "{ctx}: high-water {hw} below bundle {max_row}"
    );
    *last_hw = hw;

    let r = boot::launch(&mut st, &device_config(data), liveship::store::now());
    match &roles.trial {
        Some(t) => {
            let rev = r
                .reverted
                .as_ref()
                .unwrap_or_else(|| panic!("{ctx}: trial {t} not reverted"));
            assert_eq!(&rev.id, t, "{ctx}");
            assert_eq!(rev.reason, REASON_NOT_CONFIRMED, "{ctx}");
            let row = store::bundle(st.read(), t).unwrap().unwrap();
            assert_eq!(row.status, BundleStatus::Failed, "{ctx}");
            assert!(
                store::blocked(st.read(), &row.content_id)
                    .unwrap()
                    .is_some(),
                "{ctx}: reverted content not blocklisted"
            );
            let want = roles.current.clone().unwrap_or_else(|| "builtin".into());
            assert_eq!(
                r.id, want,
                "{ctx}: a revert serves the last confirmed bundle"
            );
            assert!(!r.trial, "{ctx}");
        }
        None => {
            assert!(r.reverted.is_none(), "{ctx}: {:?}", r.reverted);
            if let Some(n) = &roles.next {
                assert_eq!(&r.id, n, "{ctx}: next not launched");
                assert!(r.trial, "{ctx}");
            } else {
                let want = roles.current.clone().unwrap_or("builtin".into());
                assert_eq!(r.id, want, "{ctx}");
                assert!(!r.trial, "{ctx}");
            }
        }
    }
    match &r.path {
        Some(p) => check_dir(p, &repo.by_id[&r.id].files)
            .unwrap_or_else(|e| panic!("{ctx}: served {} is not complete: {e}", r.id)),
        None => assert_eq!(r.id, "builtin", "{ctx}"),
    }
    let hw_after = store::high_water(st.read(), CHANNEL).unwrap().unwrap_or(0);
    assert_eq!(hw_after, hw, "{ctx}: launch moved the high-water mark");
    (
        AfterKill {
            cleaned: report.cleaned,
            roles,
            high_water: hw,
            rows,
        },
        r,
    )
}

/// Runs the child with `steps`, kills it at `failpoint`, and returns the checked aftermath.
fn kill_at(
    data: &Path,
    failpoint: &str,
    steps: &[String],
    last_hw: &mut u64,
) -> (AfterKill, LaunchResult) {
    let mut child = spawn(json!({
        "data": data, "repo": repo().dir, "failpoint": failpoint, "steps": steps,
    }));
    child.wait_for(&format!("AT {failpoint}"));
    child.kill();
    reopen_and_check(data, last_hw, &format!("kill at {failpoint}"))
}

/// Device state for the named scenarios, built in-process: release 1 confirmed, plus `extra`.
fn setup(extra: &[&str]) -> (tempfile::TempDir, u64) {
    let repo = repo();
    let data = tempfile::tempdir().unwrap();
    let u = open_updater(data.path());
    let mut steps = vec!["install:1", "launch", "ready:1"];
    steps.extend_from_slice(extra);
    for step in steps {
        let (verb, arg) = step.split_once(':').unwrap_or((step, ""));
        match verb {
            "install" => {
                u.install_from_file(repo.release(arg.parse().unwrap()))
                    .unwrap();
            }
            "launch" => {
                u.launch();
            }
            "ready" => {
                u.notify_app_ready(&repo.id(arg.parse().unwrap())).unwrap();
            }
            _ => unreachable!(),
        }
    }
    let hw = u.status().unwrap().high_water.unwrap();
    (data, hw)
}

fn steps(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

/// A kill before the install's commit leaves the old state: release 1 serves, nothing is next,
/// the high-water mark has not moved, and open removed what the install had written.
fn assert_install_rolled_back(failpoint: &str, leftovers: &[String]) {
    let repo = repo();
    let (data, mut hw) = setup(&[]);
    let (after, r) = kill_at(data.path(), failpoint, &steps(&["install:2"]), &mut hw);
    assert_eq!(after.roles.next, None);
    assert_eq!(after.high_water, 1);
    assert_eq!(after.rows.len(), 1);
    assert_eq!((r.id.as_str(), r.trial), (repo.id(1).as_str(), false));
    for l in leftovers {
        assert!(
            after.cleaned.contains(l),
            "{failpoint}: {l} not among cleaned {:?}",
            after.cleaned
        );
    }
    assert!(!data.path().join("bundles").join(repo.id(2)).exists());
    // The interrupted install can simply be done again.
    let u = open_updater(data.path());
    u.install_from_file(repo.release(2)).unwrap();
    assert_eq!(u.launch().id, repo.id(2));
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
        "fs.atomic_temp_written",
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

// ---------------------------------------------------------------------------------------------
// Random kill points.

fn base_seed() -> u64 {
    match std::env::var("LIVESHIP_CRASH_SEED") {
        Ok(s) => s.parse().expect("LIVESHIP_CRASH_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

/// The window random kill delays are drawn from, counted from the child's `START`: the time the
/// child takes to open the store plus about four of its installs, measured once on an
/// uninterrupted run (so kills spread over opens and installs on a fast machine and under qemu
/// alike), and never less than 120 ms.
fn kill_window(repo: &Repo) -> Duration {
    static WINDOW: OnceLock<Duration> = OnceLock::new();
    *WINDOW.get_or_init(|| {
        let data = tempfile::tempdir().unwrap();
        let mut child = spawn(json!({"data": data.path(), "repo": repo.dir, "seed": 7}));
        child.wait_for("START");
        let started = Instant::now();
        child.wait_for("OPENED");
        let open = started.elapsed();
        let status = child.child.wait().unwrap();
        assert!(status.success(), "calibration run of the child failed");
        let per_install = (started.elapsed() - open) / RELEASES as u32;
        (open + per_install * 4).max(Duration::from_millis(120))
    })
}

/// Random kills per stream: 110 (two streams, 220 in the default run); the emulated aarch64 run
/// lowers it with `LIVESHIP_CRASH_KILLS` because every child start costs seconds under qemu.
fn kills_per_stream() -> usize {
    std::env::var("LIVESHIP_CRASH_KILLS")
        .map(|v| v.parse().expect("LIVESHIP_CRASH_KILLS is a number"))
        .unwrap_or(110)
}

/// Runs `kills` random kills of the random workload; chains of kills share one data directory
/// until the child has installed every release, then a fresh one starts.
fn random_kills(stream: u64, kills: usize) {
    let base = base_seed();
    let mut rng = Rng(base ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
    let repo = repo();
    // Grows while no install has committed between kills (a slow child, e.g. under qemu), so
    // the kills cover both sides of the commit.
    let mut window = kill_window(repo).as_micros() as u64;
    let mut data = tempfile::tempdir().unwrap();
    let mut last_hw = 0;
    let mut done = 0;
    let mut chains = 1;
    let mut with_leftovers = 0;
    let mut installs_seen = 0;
    while done < kills {
        let child_seed = rng.next();
        if done > 0 && done % 10 == 0 && installs_seen == 0 {
            window *= 2;
        }
        let delay = Duration::from_micros(rng.below(window));
        let ctx = format!(
            "random kill #{done} (LIVESHIP_CRASH_SEED={base}, stream {stream}, delay {delay:?})"
        );
        let mut child = spawn(json!({"data": data.path(), "repo": repo.dir, "seed": child_seed}));
        child.wait_for("START");
        std::thread::sleep(delay);
        if let Some(status) = child.child.try_wait().unwrap() {
            // Finished before the kill: it must have done so cleanly, having installed everything.
            let err = child.child.wait_with_output_stderr();
            assert!(status.success(), "{ctx}: child failed: {err}");
            let lines: Vec<String> = child.lines.try_iter().collect();
            assert!(
                lines.iter().any(|l| l.ends_with("DONE")),
                "{ctx}: {lines:?}"
            );
            reopen_and_check(data.path(), &mut last_hw, &ctx);
            data = tempfile::tempdir().unwrap();
            last_hw = 0;
            chains += 1;
            continue;
        }
        child.kill();
        let hw_before = last_hw;
        let (after, r) = reopen_and_check(data.path(), &mut last_hw, &ctx);
        with_leftovers += usize::from(!after.cleaned.is_empty());
        installs_seen += (after.high_water - hw_before) as usize;
        // The app that starts after the crash confirms a good trial, as its page would.
        if r.trial {
            let mut st = Store::open(data.path()).unwrap().0;
            let seq = store::bundle(st.read(), &r.id).unwrap().unwrap().sequence;
            if !is_broken(seq) {
                boot::confirm(&mut st, &r.id).unwrap();
            }
        }
        done += 1;
    }
    eprintln!(
        "{kills} random kills over {chains} chains, {with_leftovers} with leftovers to clean, \
         {installs_seen} installs committed between kills (LIVESHIP_CRASH_SEED={base})"
    );
    // Kills must land inside installs too, not only around them.
    assert!(
        with_leftovers > 0 && installs_seen > 0,
        "kills never hit an install"
    );
}

#[test]
fn random_kills_leave_a_consistent_store_stream_a() {
    random_kills(1, kills_per_stream());
}

#[test]
fn random_kills_leave_a_consistent_store_stream_b() {
    random_kills(2, kills_per_stream());
}
