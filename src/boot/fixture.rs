//! A device for the transition tests: a real store (SQLite file and bundle folders) in a
//! temporary directory, with bundles installed by hand (a row and an `index.html`) and roles set
//! directly, so each test starts from exactly the state it names.

use std::sync::Arc;

use serde_json::json;
use tempfile::TempDir;

use crate::clock::ManualClock;
use crate::config::Config;
use crate::release::{Manifest, NativeRange};
use crate::store::{self, BundleRow, BundleStatus, HistoryEntry, Roles, Store};

pub(super) const CHANNEL: &str = "production";
/// `now` for tests that do not care about time.
pub(super) const NOW: u64 = 1_800_000_000;

pub(super) struct Device {
    pub config: Config,
    pub store: Store,
    _dir: TempDir,
}

/// The signed manifest of bundle `seq` on `channel` running on `native`.
pub(super) fn manifest(channel: &str, seq: u64, native: NativeRange) -> Manifest {
    serde_json::from_value(json!({
        "format": 1,
        "app_id": "com.example.app",
        "channel": channel,
        "sequence": seq,
        "version": format!("1.0.{seq}"),
        "issued_at": NOW - 60,
        "expires_at": NOW + 86_400,
        "native": native,
        "bundle": { "url": format!("bundles/{seq}.zip"), "size": 1, "sha256": "00" },
        "files": [],
    }))
    .expect("test manifest parses")
}

impl Device {
    /// Native version 1.0.0, `resetWhenUpdate` off (tests that want it turn it on).
    pub fn new() -> Device {
        let dir = tempfile::tempdir().unwrap();
        let config: Config = serde_json::from_value(json!({
            "appId": "com.example.app",
            "platform": "android",
            "nativeVersion": "1.0.0",
            "builtinDir": dir.path().join("builtin"),
            "builtinVersion": "1.0.0-builtin",
            "resetWhenUpdate": false,
        }))
        .expect("test config parses");
        // Rows are stamped at NOW, the time the tests pass to the transitions.
        let clock = Arc::new(ManualClock::at(NOW));
        let store = Store::open_with_clock(&dir.path().join("data"), clock)
            .unwrap()
            .0;
        Device {
            config,
            store,
            _dir: dir,
        }
    }

    /// Installs bundle `id` (sequence `seq`, any native version) with its files; no role.
    pub fn install(&mut self, id: &str, seq: u64) -> String {
        self.install_on(id, CHANNEL, seq, NativeRange::default())
    }

    pub fn install_on(&mut self, id: &str, channel: &str, seq: u64, native: NativeRange) -> String {
        let m = manifest(channel, seq, native);
        let row = BundleRow {
            id: id.into(),
            content_id: content_of(id),
            channel: channel.into(),
            sequence: seq,
            version: m.version.clone(),
            status: BundleStatus::Ready,
            failed_reason: None,
            installed_at: NOW,
            manifest: serde_json::to_vec(&m).unwrap(),
        };
        self.store
            .write(|tx| store::insert_bundle(tx, &row))
            .unwrap();
        let dir = self.store.bundle_dir(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), id).unwrap();
        id.to_string()
    }

    /// Installs bundles `a`, `b`, ... (sequences 1, 2, ...) and gives each the role named at its
    /// place (`Ready`: none; `Failed`: none, and marked failed). Returns their ids.
    pub fn with_roles<const N: usize>(&mut self, roles: [super::BundleStatus; N]) -> [String; N] {
        use super::BundleStatus as S;
        let ids: [String; N] = std::array::from_fn(|i| char::from(b'a' + i as u8).to_string());
        for (i, (id, role)) in ids.iter().zip(roles).enumerate() {
            self.install(id, i as u64 + 1);
            let id = Some(id.clone());
            match role {
                S::Current => self.set_roles(|r| r.current = id),
                S::Fallback => self.set_roles(|r| r.fallback = id),
                S::Trial => self.set_roles(|r| r.trial = id),
                S::Next => self.set_roles(|r| r.next = id),
                S::Ready => {}
                S::Failed => self.mark_failed(id.as_deref().unwrap()),
            }
        }
        ids
    }

    pub fn set_roles(&mut self, f: impl FnOnce(&mut Roles)) {
        let mut roles = self.roles();
        f(&mut roles);
        self.store.write(|tx| store::set_roles(tx, &roles)).unwrap();
    }

    pub fn roles(&self) -> Roles {
        store::roles(self.store.read()).unwrap()
    }

    pub fn row(&self, id: &str) -> Option<BundleRow> {
        store::bundle(self.store.read(), id).unwrap()
    }

    pub fn failed(&self, id: &str) -> bool {
        self.row(id)
            .is_some_and(|b| b.status == BundleStatus::Failed)
    }

    /// Why content `content_id` is blocklisted, if it is.
    pub fn blocked(&self, content_id: &str) -> Option<String> {
        store::blocked(self.store.read(), content_id).unwrap()
    }

    pub fn mark_failed(&mut self, id: &str) {
        self.store
            .write(|tx| store::mark_failed(tx, id, "broke"))
            .unwrap();
    }

    pub fn history(&self) -> Vec<HistoryEntry> {
        store::history(self.store.read()).unwrap()
    }

    pub fn has_files(&self, id: &str) -> bool {
        self.store.bundle_dir(id).exists()
    }
}

/// The content id the fixture gives bundle `id`.
pub(super) fn content_of(id: &str) -> String {
    format!("content-of-{id}")
}
