//! Crash consistency under random kills: the child runs the life of an app (launch, confirm,
//! install, over and over) and the parent kills it with SIGKILL after a random delay, many
//! times, checking the invariants of tests/support/crash.rs after each kill.
//!
//! `LIVESHIP_CRASH_SEED=N` replays a run (the seed is printed on failure);
//! `LIVESHIP_CRASH_KILLS=N` sets the kills per stream.

mod support;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use liveship::boot;
use liveship::store::{self, Store};
use serde_json::json;
use support::crash::*;

/// The child process's entry point: does nothing unless the parent set `LIVESHIP_CRASH_CHILD`.
#[test]
#[ignore = "entry point of the crash harness's child process; the parent tests run it"]
fn child_process_entry_point() {
    child_main();
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
