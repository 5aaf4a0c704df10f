//! The store's own guarantees: the install lock, schema migrations.

use super::*;

/// A second descriptor of the lock's open file description stands for a child process that
/// another thread forked while the lock was held (it shares the description until it execs).
#[test]
fn the_install_lock_is_free_once_dropped_even_if_its_file_is_shared() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path()).unwrap();
    let lock = store.try_install_lock().unwrap().expect("free at first");
    assert!(
        store.try_install_lock().unwrap().is_none(),
        "held while alive"
    );
    let shared = lock.file.try_clone().unwrap();
    drop(lock);
    assert!(
        store.try_install_lock().unwrap().is_some(),
        "still held through the shared description"
    );
    drop(shared);
}

/// A database written by a build before the built-in index (schema v1) is migrated at open.
#[test]
fn a_v1_database_gains_the_builtin_index_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = Connection::open(dir.path().join("liveship.db")).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
    }
    let (mut store, report) = Store::open(dir.path()).unwrap();
    assert!(report.reset.is_none(), "{:?}", report.reset);
    let files = [builtin::BuiltinFile {
        path: "index.html".into(),
        sha256: "ab".repeat(32),
    }];
    store.set_builtin_index("1.0.0", &files).unwrap();
    assert_eq!(store.builtin_index("1.0.0").unwrap(), files);
}
