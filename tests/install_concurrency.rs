//! An install holds the store only to begin and to finish: while the bundle is being built
//! (hashed, decrypted, extracted, fsynced: seconds for a large bundle), the app's own calls
//! (`launch`, `current`, `notifyAppReady`) are served.

mod support;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use liveship::engine::Engine;
use support::fixtures::*;

#[test]
fn app_calls_are_served_while_a_bundle_is_being_built() {
    let data = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let cfg = config(&data.path().join("builtin-web"));
    let release = good_release(repo.path(), 1);
    let u = Arc::new(Engine::open(cfg, data.path(), liveship::events::discard()).unwrap());

    // Inside the build step, the install waits until the app's calls below have returned (or
    // gives up after 10 s, which is what happens when they are blocked behind the install).
    let (reached_tx, reached_rx) = mpsc::channel::<()>();
    let (served_tx, served_rx) = mpsc::channel::<()>();
    let served_rx = std::sync::Mutex::new(served_rx);
    let (verdict_tx, verdict_rx) = mpsc::channel::<bool>();
    let reached_tx = std::sync::Mutex::new(reached_tx);
    let verdict_tx = std::sync::Mutex::new(verdict_tx);
    fail::cfg_callback("install.decrypted", move || {
        let _ = reached_tx.lock().unwrap().send(());
        let served = served_rx
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(10))
            .is_ok();
        let _ = verdict_tx.lock().unwrap().send(served);
    })
    .unwrap();

    let installer = {
        let u = u.clone();
        std::thread::spawn(move || u.install_from_file(&release).map(|i| i.id))
    };
    reached_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the install reached its build step");
    let l = u.launch();
    assert_eq!(l.id, "builtin");
    assert_eq!(u.current().unwrap().id, "builtin");
    served_tx.send(()).unwrap();

    let served = verdict_rx.recv().unwrap();
    let id = installer.join().unwrap().expect("the install completes");
    fail::remove("install.decrypted");
    assert!(
        served,
        "launch and current were blocked behind the install's build step"
    );
    assert_eq!(u.status().unwrap().next.map(|b| b.id), Some(id));
}
