//! The crash harness: a real child process (the test binary, re-executed) installs, launches
//! and confirms bundles; the parent kills it with SIGKILL at a named failpoint or after a random
//! delay, reopens the store and checks the invariants. Each crash test binary declares the
//! ignored `child_process_entry_point` test that runs [`child_main`].

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::fixtures::*;
use liveship::boot::{self, LaunchResult, REASON_NOT_CONFIRMED};
use liveship::engine::Engine;
use liveship::release::Manifest;
use liveship::store::{self, BundleStatus, Store};
use liveship::unpack::check_dir;
use serde_json::{json, Value};

pub const CHILD_ENV: &str = "LIVESHIP_CRASH_CHILD";
pub const CHILD_TEST: &str = "child_process_entry_point";
/// Releases in the shared repository; every fourth one is a broken app that never confirms.
pub const RELEASES: u64 = 24;

pub fn is_broken(seq: u64) -> bool {
    seq.is_multiple_of(4)
}

pub struct Repo {
    pub dir: PathBuf,
    /// Release file of sequence `n` at index `n - 1`.
    pub releases: Vec<PathBuf>,
    /// Manifest of every release, by bundle id.
    pub by_id: HashMap<String, Manifest>,
}

impl Repo {
    pub fn release(&self, seq: u64) -> &Path {
        &self.releases[seq as usize - 1]
    }
    pub fn id(&self, seq: u64) -> String {
        bundle_id_of(self.release(seq))
    }
}

/// One release repository for every test of this process, built once with `publish::pack`.
pub fn repo() -> &'static Repo {
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

pub fn device_config(data: &Path) -> liveship::config::Config {
    config(&data.join("builtin-web"))
}

pub fn open_updater(data: &Path) -> Engine {
    Engine::open(device_config(data), data, liveship::events::discard()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The child.

/// The child process's entry point: does nothing unless the parent set `LIVESHIP_CRASH_CHILD`.
pub fn child_main() {
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

pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

/// splitmix64: small, seedable, good enough to pick delays.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pause(&mut self) {
        std::thread::sleep(Duration::from_micros(self.below(3_000)));
    }
}

// ---------------------------------------------------------------------------------------------
// The parent.

pub struct Running {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
}

/// The child command: this test binary, run through `LIVESHIP_CHILD_RUNNER` when set (the
/// aarch64 run sets it to its qemu-user command line, as cargo's target runner does for the
/// parent; SIGKILL of the emulator kills the emulated child with it).
pub fn child_command() -> Command {
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

pub fn spawn(spec: Value) -> Running {
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
    pub fn wait_for(&mut self, want: &str) {
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
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

pub trait StderrOf {
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
pub struct AfterKill {
    pub cleaned: Vec<String>,
    pub roles: store::Roles,
    pub high_water: u64,
    pub rows: Vec<store::BundleRow>,
}

/// Reopens the store after a kill and checks the invariants that hold whatever the kill point;
/// then launches (the next start of the app) and checks what it serves. `ctx` names the run.
pub fn reopen_and_check(data: &Path, last_hw: &mut u64, ctx: &str) -> (AfterKill, LaunchResult) {
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

    let r = boot::launch(
        &mut st,
        &device_config(data),
        liveship::clock::Clock::now(&liveship::clock::SystemClock),
    );
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
pub fn kill_at(
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
pub fn setup(extra: &[&str]) -> (tempfile::TempDir, u64) {
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

pub fn steps(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

/// A kill before the install's commit leaves the old state: release 1 serves, nothing is next,
/// the high-water mark has not moved, and open removed what the install had written.
pub fn assert_install_rolled_back(failpoint: &str, leftovers: &[String]) {
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
