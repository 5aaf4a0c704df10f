//! `liveship demo`: the whole product in one command, on loopback, in a temporary folder.
//! It generates keys, publishes releases of the example app, serves them, and drives the real
//! device core through a good update, a broken one that reverts on its own, and a delta update,
//! printing a timeline. Every step states what must happen; the command exits non-zero at the
//! first step that does not behave as described.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::Args;
use ed25519_dalek::SigningKey;
use indicatif::{ProgressBar, ProgressStyle};
use liveship::boot::LaunchResult;
use liveship::config::Config;
use liveship::crypto;
use liveship::engine::{CheckResult, Engine, UpdateOutcome};
use liveship::events::Event;
use liveship::publish::{self, PackOptions};
use liveship::release::{BundleKey, NativeRange, PinnedKey};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Web app to publish (default: the repository's examples/web).
    #[arg(long, value_name = "DIR")]
    pub web: Option<PathBuf>,
    /// Keep the temporary folder (keys, repository, device state) and print where it is.
    #[arg(long)]
    pub keep: bool,
}

const APP_ID: &str = "com.example.liveship";
const CHANNEL: &str = "production";
/// The marker the demo's simulated WebView looks for: a page carrying it throws during start-up
/// and never calls `notifyAppReady`.
const BROKEN_MARKER: &str = "<!-- liveship-demo: throws before notifyAppReady -->";

struct Timeline {
    start: Instant,
    step: usize,
}

impl Timeline {
    fn say(&mut self, what: &str) {
        self.step += 1;
        println!(
            "[{:>5.2}s] {:>2}. {what}",
            self.start.elapsed().as_secs_f64(),
            self.step
        );
    }
    fn ok(&self, detail: &str) {
        println!("            ok: {detail}");
    }
}

fn expect(cond: bool, what: impl AsRef<str>) -> Result<()> {
    if !cond {
        bail!("demo step failed: {}", what.as_ref());
    }
    Ok(())
}

fn default_web() -> PathBuf {
    let here = PathBuf::from("examples/web");
    if here.join("index.html").is_file() {
        return here;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/web"))
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(from).min_depth(1) {
        let entry = entry?;
        let rel = entry.path().strip_prefix(from)?;
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest)?;
        } else {
            std::fs::create_dir_all(dest.parent().expect("has parent"))?;
            std::fs::copy(entry.path(), &dest)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Serves `repo` on 127.0.0.1 with `liveship serve`'s router, counting bundle downloads.
fn start_server(repo: PathBuf, stats_db: &Path, bundle_gets: Arc<AtomicUsize>) -> Result<String> {
    let collector = crate::collector::router(crate::collector::Store::open(
        stats_db.to_str().context("the demo folder is not UTF-8")?,
    )?);
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("demo-server".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let counter = bundle_gets.clone();
                let app =
                    crate::serve::app(repo, Some(collector)).layer(axum::middleware::from_fn(
                        move |req: axum::extract::Request, next: axum::middleware::Next| {
                            let counter = counter.clone();
                            async move {
                                if req.uri().path().starts_with("/bundles/") {
                                    counter.fetch_add(1, Ordering::SeqCst);
                                }
                                next.run(req).await
                            }
                        },
                    ));
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
                let _ = axum::serve(listener, service).await;
            });
        })?;
    Ok(format!("http://{addr}/"))
}

/// What the app's WebView does with a bundle: loads its index.html; a page that starts calls
/// `notifyAppReady` with the id of the bundle it was loaded from.
fn run_page(updater: &Engine, launched: &LaunchResult, builtin: &Path) -> Result<bool> {
    let dir = launched
        .path
        .clone()
        .unwrap_or_else(|| builtin.to_path_buf());
    let html = std::fs::read_to_string(dir.join("index.html"))
        .context("the WebView cannot read index.html")?;
    if html.contains(BROKEN_MARKER) {
        return Ok(false);
    }
    updater.notify_app_ready(&launched.id)?;
    Ok(true)
}

struct Demo {
    root: PathBuf,
    repo: PathBuf,
    signing: SigningKey,
    bundle_key: BundleKey,
    config: Config,
    bar: Arc<Mutex<Option<ProgressBar>>>,
}

impl Demo {
    fn publish(&self, web: &Path, sequence: u64, version: &str) -> Result<publish::Packed> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let opts = PackOptions {
            webdir: web,
            repo: &self.repo,
            app_id: APP_ID,
            channel: CHANNEL,
            sequence,
            version,
            signing_key: &self.signing,
            bundle_key: Some(&self.bundle_key),
            expires_in: 90 * 86_400,
            native: NativeRange {
                min: Some("1.0".into()),
                max: None,
            },
            platforms: vec![],
            rollout: None,
            incident: None,
            now,
        };
        Ok(publish::pack(&opts, &publish::Silent)?)
    }

    /// "Starts the app": a fresh core on the same data folder, as after a process restart.
    fn start_app(&self) -> Result<Engine> {
        let bar = self.bar.clone();
        let events = Arc::new(move |e: Event| {
            if let Event::Download { percent, total, .. } = e {
                let mut guard = bar.lock().unwrap_or_else(|p| p.into_inner());
                let pb = guard.get_or_insert_with(|| {
                    let pb = ProgressBar::new(total);
                    pb.set_style(
                        ProgressStyle::with_template("            {bar:30} {bytes}/{total_bytes}")
                            .expect("template")
                            .progress_chars("=> "),
                    );
                    pb
                });
                pb.set_position(total * percent as u64 / 100);
            }
        });
        Ok(Engine::open(
            self.config.clone(),
            &self.root.join("device"),
            events,
        )?)
    }

    fn update(&self, updater: &Engine) -> Result<UpdateOutcome> {
        let out = updater.update();
        if let Some(pb) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).take() {
            pb.finish_and_clear();
        }
        Ok(out?)
    }
}

pub fn run(args: DemoArgs) -> Result<()> {
    let web = args.web.unwrap_or_else(default_web);
    if !web.join("index.html").is_file() {
        bail!("no web app at {} (pass --web DIR)", web.display());
    }
    let tmp = tempfile::Builder::new()
        .prefix("liveship-demo-")
        .tempdir()?;
    let root = tmp.path().to_path_buf();
    let mut t = Timeline {
        start: Instant::now(),
        step: 0,
    };
    println!("Liveship demo in {}", root.display());

    // Keys, as `liveship keygen` makes them.
    t.say("publisher: generate an Ed25519 signing key and a bundle key");
    let signing = SigningKey::from_bytes(&crypto::random_bytes());
    let public = signing.verifying_key().to_bytes();
    use base64::Engine;
    let pinned = PinnedKey {
        key_id: crypto::public_key_id(&public),
        public_key: base64::engine::general_purpose::STANDARD.encode(public),
        channels: vec![CHANNEL.into()],
    };
    let bundle_key = BundleKey::new(&crypto::random_bytes());
    t.ok(&format!(
        "signing key {} (may sign for {CHANNEL:?}), bundle key {}",
        pinned.key_id, bundle_key.key_id
    ));

    // The app as shipped in the store: a built-in bundle.
    let builtin = root.join("builtin");
    std::fs::create_dir_all(&builtin)?;
    std::fs::write(
        builtin.join("index.html"),
        "<!doctype html><title>built-in</title><p>Built-in bundle 1.0.0</p>\n",
    )?;

    let repo = root.join("repo");
    std::fs::create_dir_all(&repo)?;
    let bundle_gets = Arc::new(AtomicUsize::new(0));
    let stats_db = root.join("stats.db");
    let url = start_server(repo.clone(), &stats_db, bundle_gets.clone())?;
    t.say(&format!(
        "serve the release repository on {url}, with the stats collector at {url}stats"
    ));

    let config: Config = serde_json::from_value(serde_json::json!({
        "appId": APP_ID,
        "platform": "android",
        "nativeVersion": "1.0.0",
        "builtinDir": builtin,
        "builtinVersion": "1.0.0",
        "updateUrl": url,
        "statsUrl": format!("{url}stats"),
        "allowInsecureLoopback": true,
        "publicKeys": [pinned],
        "bundleKeys": [bundle_key],
    }))?;
    let demo = Demo {
        root: root.clone(),
        repo,
        signing,
        bundle_key,
        config,
        bar: Arc::new(Mutex::new(None)),
    };

    // 1. A good release, fetched in full.
    let v1 = root.join("web-1.1.0");
    copy_tree(&web, &v1)?;
    t.say("publisher: pack examples/web as 1.1.0 (sequence 1): zip, encrypt, sign");
    let p1 = demo.publish(&v1, 1, "1.1.0")?;
    t.ok(&format!(
        "{} files, bundle {} bytes, content {}",
        p1.manifest.files.len(),
        p1.manifest.bundle.size,
        &p1.manifest.content_id()[..16]
    ));

    t.say("device: app starts; native start-up asks which bundle to load");
    let app = demo.start_app()?;
    expect(
        app.consent() == liveship::config::Consent::Off,
        "nothing may be collected before the user agrees",
    )?;
    // The app asks; this user agrees to anonymous update statistics (docs/PRIVACY.md).
    app.set_consent(liveship::config::Consent::Anonymous)?;
    let l = app.launch();
    expect(
        l.id == "builtin" && !l.trial,
        format!("expected the built-in bundle, got {l:?}"),
    )?;
    t.ok("serving the built-in bundle");

    t.say("device: check for an update");
    let check = app.check()?;
    expect(
        matches!(check, CheckResult::UpdateAvailable { sequence: 1, .. }),
        format!("expected sequence 1 available, got {check:?}"),
    )?;
    t.ok("signature verified with the pinned key; 1.1.0 (sequence 1) is available");

    t.say("device: download (streamed, hashed, resumable), decrypt, unpack, install as next");
    let out = demo.update(&app)?;
    let UpdateOutcome::Installed {
        id: id1,
        downloaded_bytes,
        delta,
        ..
    } = out
    else {
        bail!("demo step failed: expected an install, got {out:?}");
    };
    t.ok(&format!(
        "installed {id1} as next ({downloaded_bytes} bytes, {})",
        if delta { "delta" } else { "full bundle" }
    ));
    drop(app);

    t.say("device: app restarts; the new bundle launches on trial");
    let app = demo.start_app()?;
    let l = app.launch();
    expect(
        l.id == id1 && l.trial,
        format!("expected {id1} on trial, got {l:?}"),
    )?;
    t.ok(&format!(
        "loading {} (trial)",
        l.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    ));
    t.say("device: the page starts and calls notifyAppReady with its own bundle id");
    expect(run_page(&app, &l, &builtin)?, "the good page must confirm")?;
    let cur = app.current()?;
    expect(
        cur.id == id1 && !cur.trial,
        format!("expected {id1} current, got {cur:?}"),
    )?;
    t.ok(&format!(
        "{id1} (1.1.0) confirmed: it is now the current bundle"
    ));
    drop(app);

    // 2. A broken release: never confirms, reverts on its own.
    let broken = root.join("web-1.2.0-broken");
    copy_tree(&v1, &broken)?;
    std::fs::write(
        broken.join("index.html"),
        format!("<!doctype html>{BROKEN_MARKER}<script>throw new Error('boom')</script>\n"),
    )?;
    t.say("publisher: pack a broken 1.2.0 (sequence 2) whose page throws on start");
    demo.publish(&broken, 2, "1.2.0")?;
    let app = demo.start_app()?;
    app.launch();
    let out = demo.update(&app)?;
    let UpdateOutcome::Installed { id: id2, .. } = out else {
        bail!("demo step failed: expected the broken release to install, got {out:?}");
    };
    t.ok(&format!("device installed {id2} as next"));
    drop(app);

    t.say("device: app restarts on the broken bundle (trial); its page never calls notifyAppReady");
    let app = demo.start_app()?;
    let l = app.launch();
    expect(
        l.id == id2 && l.trial,
        format!("expected {id2} on trial, got {l:?}"),
    )?;
    expect(
        !run_page(&app, &l, &builtin)?,
        "the broken page must not confirm",
    )?;
    t.ok("the page threw; no confirmation (the process dies or is killed)");
    drop(app);

    t.say("device: next start: the unconfirmed trial is reverted");
    let app = demo.start_app()?;
    let l = app.launch();
    let reverted = l.reverted.clone();
    expect(
        l.id == id1 && !l.trial && reverted.as_ref().is_some_and(|r| r.id == id2),
        format!("expected a revert of {id2} to {id1}, got {l:?}"),
    )?;
    t.ok(&format!(
        "reverted {id2}: {}; serving {id1} (1.1.0) again",
        reverted.map(|r| r.reason).unwrap_or_default()
    ));

    t.say("device: check again: the broken release is not downloaded again");
    let before = bundle_gets.load(Ordering::SeqCst);
    let out = demo.update(&app)?;
    expect(
        matches!(out, UpdateOutcome::NoUpdate { .. }),
        format!("expected no update, got {out:?}"),
    )?;
    expect(
        bundle_gets.load(Ordering::SeqCst) == before,
        "the bundle was requested again",
    )?;
    let blocked = app
        .history()?
        .iter()
        .any(|h| h.event == "reverted" && h.bundle.as_deref() == Some(&id2));
    expect(blocked, "history must record the revert")?;
    if let UpdateOutcome::NoUpdate { reason, .. } = &out {
        t.ok(&format!(
            "{reason}; its content is blocklisted; 0 bundle requests"
        ));
    }
    drop(app);

    // 3. A small change, delivered as a delta.
    let v3 = root.join("web-1.3.0");
    copy_tree(&v1, &v3)?;
    let js = std::fs::read_to_string(v3.join("app.js"))?;
    std::fs::write(v3.join("app.js"), js.replace("'1.0.0'", "'1.3.0'"))?;
    t.say("publisher: pack 1.3.0 (sequence 3): one file changed (app.js)");
    let p3 = demo.publish(&v3, 3, "1.3.0")?;
    let app = demo.start_app()?;
    app.launch();
    t.say("device: update; only the files it does not have are fetched");
    let out = demo.update(&app)?;
    let UpdateOutcome::Installed {
        id: id3,
        downloaded_bytes,
        full_bytes,
        delta,
        ..
    } = out
    else {
        bail!("demo step failed: expected an install, got {out:?}");
    };
    let share = downloaded_bytes as f64 * 100.0 / full_bytes.max(1) as f64;
    expect(delta && downloaded_bytes * 10 < full_bytes, format!("expected a delta under 10% of {full_bytes} bytes, got {downloaded_bytes} (delta {delta})"))?;
    t.ok(&format!("delta: downloaded {downloaded_bytes} bytes instead of {full_bytes} ({share:.1}% of the full bundle, {} files)", p3.manifest.files.len()));
    drop(app);
    let app = demo.start_app()?;
    let l = app.launch();
    expect(
        l.id == id3 && l.trial && run_page(&app, &l, &builtin)?,
        format!("expected {id3} to launch and confirm, got {l:?}"),
    )?;
    let cur = app.current()?;
    expect(
        cur.id == id3 && cur.version == "1.3.0",
        format!("expected 1.3.0 current, got {cur:?}"),
    )?;
    t.ok(&format!(
        "restart: {id3} (1.3.0) launched on trial, confirmed, current"
    ));

    // Monitoring: what the fleet (here, one device with consent) told the collector.
    t.say("device: send the queued update events (anonymous: no install id) to statsUrl");
    let flushed = app.flush_stats(true)?;
    expect(
        flushed.sent > 0 && flushed.remaining == 0 && flushed.error.is_none(),
        format!("expected every queued event sent, got {flushed:?}"),
    )?;
    t.ok(&format!("{} events sent in batches", flushed.sent));
    t.say("operator: liveship stats --db stats.db (also at /dashboard)");
    let stats = crate::stats::release_stats(stats_db.to_str().unwrap_or_default(), Some(CHANNEL))?;
    crate::stats::print_table(&stats);
    let of = |seq: u64| stats.iter().find(|s| s.sequence == seq);
    let counts =
        |seq: u64| of(seq).map(|s| (s.downloads, s.installs, s.confirmed, s.reverted, s.failed));
    expect(
        counts(1) == Some((1, 1, 1, 0, 0))
            && counts(2) == Some((1, 1, 0, 1, 1))
            && counts(3) == Some((1, 1, 1, 0, 0)),
        format!("expected 1.1.0 and 1.3.0 confirmed and 1.2.0 reverted, got {stats:?}"),
    )?;
    t.ok("1.1.0 and 1.3.0: downloaded, installed, confirmed; 1.2.0: reverted (notConfirmed)");
    t.say("operator: liveship guard --max-failure-rate 5% --min-devices 1 (dry run)");
    let bad = of(2).expect("checked above");
    let verdict = crate::guard::verdict(bad, 0.05, 1, false);
    expect(
        verdict == crate::guard::Verdict::Revoke,
        format!("expected the guard to stop 1.2.0, got {verdict:?}"),
    )?;
    t.ok(&format!(
        "1.2.0: failure rate lower bound {:.1}% > 5%: `--apply` would publish an incident revoking it",
        bad.failure_rate_low * 100.0
    ));

    println!("\nDemo passed: {} steps behaved as described.", t.step);
    if args.keep {
        let kept = tmp.keep();
        println!("Kept {}", kept.display());
    }
    Ok(())
}
