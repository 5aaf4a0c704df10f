//! The stats collector of `liveship serve REPO --stats DB`, `liveship stats` and `/dashboard`,
//! run as devices and operators see them: the real binary on a loopback port, a real SQLite
//! file, and (module `on_postgres`) a real PostgreSQL server that scripts/postgres-test.sh
//! starts. Every store test runs on both back ends through the same `cases`.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::cli::{assert_ok, run};
use support::server::*;

const APP: &str = "com.example.app";

/// One event as a device sends it (Capgo's fields plus Liveship's).
fn event(device: &str, action: &str, release: (&str, u64, &str)) -> Value {
    let (channel, sequence, version) = release;
    json!({
        "platform": "android", "device_id": device, "app_id": APP, "custom_id": "",
        "version_build": "1.0.0", "version_code": "7", "version_os": "14",
        "version_name": version, "old_version_name": "builtin", "plugin_version": "0.1.0",
        "is_emulator": false, "is_prod": true, "defaultChannel": "production",
        "channel": channel, "action": action, "sequence": sequence, "at": 0,
        "consent": "full"
    })
}

fn with(mut e: Value, key: &str, value: Value) -> Value {
    e[key] = value;
    e
}

/// POSTs `body` to /stats; (status, JSON answer).
async fn post(server: &Server, body: Vec<u8>) -> (StatusCode, Value) {
    let res = client()
        .post(server.url("/stats"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let answer = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("answer to POST /stats is not JSON ({e}): {text:?}"));
    (status, answer)
}

async fn post_json(server: &Server, body: &Value) -> (StatusCode, Value) {
    post(server, serde_json::to_vec(body).unwrap()).await
}

/// The stored rows, in insertion order: (device_id, action, channel, sequence, version_name,
/// reason, bytes, delta, consent, platform).
type Row = (
    String,
    String,
    String,
    Option<i64>,
    String,
    Option<String>,
    Option<i64>,
    Option<bool>,
    String,
    String,
);

const ROWS: &str = "SELECT device_id, action, channel, sequence, version_name, reason, bytes, \
    delta, consent, platform FROM events ORDER BY id";

/// Reads the rows on a thread of its own (the sync PostgreSQL client runs its own runtime).
fn rows(db: &str) -> Vec<Row> {
    let db = db.to_owned();
    std::thread::spawn(move || {
        if db.starts_with("postgres") {
            let mut c = postgres::Client::connect(&db, postgres::NoTls).unwrap();
            c.query(ROWS, &[])
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r.get(0),
                        r.get(1),
                        r.get(2),
                        r.get(3),
                        r.get(4),
                        r.get(5),
                        r.get(6),
                        r.get(7),
                        r.get(8),
                        r.get(9),
                    )
                })
                .collect()
        } else {
            let c = rusqlite::Connection::open(&db).unwrap();
            let mut stmt = c.prepare(ROWS).unwrap();
            stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
        }
    })
    .join()
    .unwrap()
}

fn start(repo: &Repo, db: &str) -> Server {
    Server::start(&repo.root(), &["--stats", db])
}

const A: (&str, u64, &str) = ("production", 1, "1.0.1");
const B: (&str, u64, &str) = ("production", 2, "1.0.2");
const C: (&str, u64, &str) = ("beta", 1, "2.0.0-beta");

/// The known fleet of `stats_figures`:
/// - A (production #1, 1.0.1): d1..d8 download, trial, confirm; d9 downloads, trials and is
///   reverted (neverConfirmed); d10 fails to download twice (fetch.tooSlow).
///   devices 10, downloads 9, installs 9, confirmed 8, reverted 1, failed 2 (d9, d10).
/// - B (production #2, 1.0.2): d1, d2 download, trial, revert (appReadyTimeout); d3's signature
///   check fails; d4 downloads, trials, confirms; d5 only saw the offer.
///   devices 5, downloads 3, installs 3, confirmed 1, reverted 2, failed 3 (d1, d2, d3).
/// - C (beta #1): d1 downloads, trials, confirms. devices 1, failed 0.
/// - A check that found nothing (no sequence) is about no release and counts nowhere.
fn known_fleet() -> Vec<Value> {
    let mut events = Vec::new();
    let ok = |events: &mut Vec<Value>, d: &str, r| {
        events.push(with(
            event(d, "download_complete", r),
            "bytes",
            json!(123_456),
        ));
        events.push(event(d, "trial_start", r));
        events.push(event(d, "app_ready", r));
    };
    for d in 1..=8 {
        ok(&mut events, &format!("d{d}"), A);
    }
    events.push(event("d9", "download_complete", A));
    events.push(event("d9", "trial_start", A));
    events.push(with(
        event("d9", "update_fail", A),
        "reason",
        json!("neverConfirmed"),
    ));
    for _ in 0..2 {
        events.push(with(
            event("d10", "download_fail", A),
            "reason",
            json!("fetch.tooSlow"),
        ));
    }
    for d in ["d1", "d2"] {
        events.push(event(d, "download_complete", B));
        events.push(event(d, "trial_start", B));
        events.push(with(
            event(d, "update_fail", B),
            "reason",
            json!("appReadyTimeout"),
        ));
    }
    events.push(with(
        event("d3", "signature_fail", B),
        "reason",
        json!("release.signatureInvalid"),
    ));
    ok(&mut events, "d4", B);
    events.push(event("d5", "update_available", B));
    ok(&mut events, "d1", C);
    let mut no_new = event("d6", "noNew", A);
    no_new.as_object_mut().unwrap().remove("sequence");
    no_new["reason"] = json!("upToDate");
    events.push(no_new);
    events
}

/// POSTs `events` in batches of at most 50.
async fn post_all(server: &Server, events: &[Value]) {
    for batch in events.chunks(50) {
        let (status, answer) = post_json(server, &json!(batch)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["stored"], batch.len(), "{answer}");
    }
}

#[track_caller]
fn near(got: &Value, want: f64) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{got} is not a number"));
    assert!((got - want).abs() < 1e-4, "got {got}, want {want}");
}

/// The store tests, each over the database `db` (a SQLite path or a PostgreSQL URL).
mod cases {
    use super::*;

    pub async fn one_event_and_a_batch_are_stored_as_rows(db: &str) {
        let repo = Repo::new();
        let server = start(&repo, db);
        let one = with(
            with(event("d1", "download_complete", A), "bytes", json!(4096)),
            "delta",
            json!(true),
        );
        let (status, answer) = post_json(&server, &one).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, json!({"status": "ok", "stored": 1}));

        let batch = json!([
            event("d1", "trial_start", A),
            with(
                event("d2", "update_fail", B),
                "reason",
                json!("neverConfirmed")
            ),
        ]);
        let (status, answer) = post_json(&server, &batch).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, json!({"status": "ok", "stored": 2}));

        let s = |v: &str| v.to_owned();
        assert_eq!(
            rows(db),
            vec![
                (
                    s("d1"),
                    s("download_complete"),
                    s("production"),
                    Some(1),
                    s("1.0.1"),
                    None,
                    Some(4096),
                    Some(true),
                    s("full"),
                    s("android")
                ),
                (
                    s("d1"),
                    s("trial_start"),
                    s("production"),
                    Some(1),
                    s("1.0.1"),
                    None,
                    None,
                    None,
                    s("full"),
                    s("android")
                ),
                (
                    s("d2"),
                    s("update_fail"),
                    s("production"),
                    Some(2),
                    s("1.0.2"),
                    Some(s("neverConfirmed")),
                    None,
                    None,
                    s("full"),
                    s("android")
                ),
            ]
        );
    }

    pub async fn refused_bodies_are_refused_with_their_status_and_store_nothing(db: &str) {
        let repo = Repo::new();
        let server = start(&repo, db);
        let limit = liveship::telemetry::MAX_BODY_BYTES;

        // Over the limit: a valid batch padded with whitespace to one byte more.
        let mut big = serde_json::to_vec(&json!([event("d1", "set", A)])).unwrap();
        big.resize(limit + 1, b' ');
        let (status, answer) = post(&server, big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
        assert_eq!(answer["error"], "bodyTooLarge");

        let (status, answer) = post(&server, b"{\"platform\": ".to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"], "malformedJson");
        assert!(answer["message"].as_str().unwrap().contains("not JSON"));

        for wrong in [
            json!({"hello": "world"}),
            json!(42),
            json!([event("d1", "set", A), "not an event"]),
            with(event("d1", "set", A), "sequence", json!("two")),
        ] {
            let (status, answer) = post_json(&server, &wrong).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{wrong}: {answer}");
            assert_eq!(answer["error"], "notEvents", "{wrong}");
        }

        let batch: Vec<Value> = (0..51).map(|i| event(&format!("d{i}"), "set", A)).collect();
        let (status, answer) = post_json(&server, &json!(batch)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
        assert_eq!(answer["error"], "batchTooLarge");

        for (field, value, code) in [
            ("app_id", json!(""), "emptyField"),
            ("action", json!(""), "emptyField"),
            ("device_id", json!(" "), "emptyField"),
            ("version_name", json!("9".repeat(257)), "fieldTooLong"),
            ("bytes", json!(u64::MAX), "numberTooLarge"),
        ] {
            // Second in a batch: one bad event refuses the whole body.
            let body = json!([
                event("d1", "set", A),
                with(event("d2", "set", A), field, value)
            ]);
            let (status, answer) = post_json(&server, &body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {answer}");
            assert_eq!(answer["error"], code, "{field}: {answer}");
            assert!(
                answer["message"].as_str().unwrap().contains(field),
                "{answer}"
            );
        }
        assert_eq!(rows(db), vec![], "a refused body stored something");

        // At the limit exactly, the same padded batch is taken.
        let mut full = serde_json::to_vec(&json!([event("d1", "set", A)])).unwrap();
        full.resize(limit, b' ');
        let (status, answer) = post(&server, full).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(rows(db).len(), 1);
    }

    pub async fn a_deletion_request_removes_exactly_that_installs_rows(db: &str) {
        let repo = Repo::new();
        let server = start(&repo, db);
        let other_app = with(
            event("d1", "app_ready", A),
            "app_id",
            json!("com.other.app"),
        );
        post_all(
            &server,
            &[
                event("d1", "download_complete", A),
                event("d1", "app_ready", A),
                event("d1", "app_ready", C),
                event("d2", "app_ready", A),
                other_app,
            ],
        )
        .await;
        let mut deletion = event("d1", liveship::telemetry::DELETE_ACTION, A);
        let map = deletion.as_object_mut().unwrap();
        // The device info object as a device sends it, about no release.
        for key in ["sequence", "channel"] {
            map.remove(key);
        }
        let (status, answer) = post_json(&server, &deletion).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer, json!({"status": "ok", "deleted": 3}));

        let left: Vec<(String, String)> = rows(db).into_iter().map(|r| (r.0, r.1)).collect();
        assert_eq!(
            left,
            vec![
                ("d2".to_owned(), "app_ready".to_owned()),
                ("d1".to_owned(), "app_ready".to_owned()),
            ],
            "d2's row and d1's row of another app stay; nothing of the request is stored"
        );
        let (status, answer) = post_json(&server, &deletion).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer["deleted"], 0, "a repeated request finds nothing");
        assert!(
            !server.stderr().contains("d1"),
            "the server log names the deleted install:\n{}",
            server.stderr()
        );
    }

    pub async fn stats_figures_match_a_known_fleet(db: &str) {
        let repo = Repo::new();
        let server = start(&repo, db);
        post_all(&server, &known_fleet()).await;

        let out = assert_ok(&run(&["stats", "--db", db, "--json"]));
        let stats: Value = serde_json::from_str(&out).unwrap();
        let releases = stats.as_array().unwrap();
        assert_eq!(releases.len(), 3, "{out}");
        let (beta, a, b) = (&releases[0], &releases[1], &releases[2]);

        let counts = |r: &Value| {
            [
                "devices",
                "downloads",
                "installs",
                "confirmed",
                "reverted",
                "failed",
            ]
            .map(|k| r[k].as_u64().unwrap_or_else(|| panic!("{k} in {r}")))
        };
        assert_eq!(
            (&a["channel"], &a["sequence"], &a["version"]),
            (&json!("production"), &json!(1), &json!("1.0.1"))
        );
        assert_eq!(counts(a), [10, 9, 9, 8, 1, 2]);
        near(&a["failureRate"], 0.2);
        // Wilson 95%, 2 of 10.
        near(&a["failureRateLow"], 0.05668);
        near(&a["failureRateHigh"], 0.50984);
        assert_eq!(
            a["failures"],
            json!([
                {"action": "download_fail", "reason": "fetch.tooSlow", "count": 1},
                {"action": "update_fail", "reason": "neverConfirmed", "count": 1},
            ])
        );

        assert_eq!(b["version"], "1.0.2");
        assert_eq!(counts(b), [5, 3, 3, 1, 2, 3]);
        near(&b["failureRate"], 0.6);
        // Wilson 95%, 3 of 5.
        near(&b["failureRateLow"], 0.23072);
        near(&b["failureRateHigh"], 0.88238);
        assert_eq!(
            b["failures"],
            json!([
                {"action": "update_fail", "reason": "appReadyTimeout", "count": 2},
                {"action": "signature_fail", "reason": "release.signatureInvalid", "count": 1},
            ])
        );

        assert_eq!(
            (&beta["channel"], &beta["version"]),
            (&json!("beta"), &json!("2.0.0-beta"))
        );
        assert_eq!(counts(beta), [1, 1, 1, 1, 0, 0]);
        near(&beta["failureRateLow"], 0.0);
        // Wilson 95%, 0 of 1.
        near(&beta["failureRateHigh"], 0.79345);

        let out = assert_ok(&run(&["stats", "--db", db, "--channel", "beta", "--json"]));
        let only: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(only.as_array().unwrap().len(), 1);
        assert_eq!(only[0], *beta);

        let table = assert_ok(&run(&["stats", "--db", db]));
        let line = table
            .lines()
            .find(|l| l.contains("1.0.2"))
            .unwrap_or_else(|| panic!("no 1.0.2 line:\n{table}"));
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            cells[..9],
            ["production", "2", "1.0.2", "5", "3", "3", "1", "2", "3"],
            "{table}"
        );
        assert!(line.contains("60.0% [23.1%, 88.2%]"), "{table}");
        assert!(table.contains("update_fail appReadyTimeout: 2"), "{table}");
    }

    pub async fn the_dashboard_shows_the_releases_and_escapes_hostile_text(db: &str) {
        let repo = Repo::new();
        let server = start(&repo, db);
        post_all(&server, &known_fleet()).await;
        let hostile = ("production", 3, "<script>alert('v')</script>");
        post_all(
            &server,
            &[
                event("d7", "download_complete", hostile),
                with(
                    event("d7", "update_fail", hostile),
                    "reason",
                    json!("<img src=x onerror=alert(1)>"),
                ),
            ],
        )
        .await;

        let res = client().get(server.url("/dashboard")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = res.text().await.unwrap();
        for release in [
            "production #1 (1.0.1)",
            "production #2 (1.0.2)",
            "beta #1 (2.0.0-beta)",
        ] {
            assert!(html.contains(release), "{release} missing");
        }
        assert!(html.contains("60.0% [23.1%, 88.2%]"));
        assert!(html.contains("class=\"series\""), "no adoption line");
        assert!(html.contains("class=\"bar\""), "no failure bar");
        assert!(html.contains("appReadyTimeout"));
        assert!(html.contains("&lt;script&gt;alert(&#39;v&#39;)&lt;/script&gt;"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!html.contains("<script"), "a <script> came through");
        assert!(!html.contains("<img"), "an <img> came through");
    }
}

mod on_sqlite {
    use super::*;

    fn db() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("stats.db").to_str().unwrap().to_owned();
        (dir, db)
    }

    #[tokio::test]
    async fn one_event_and_a_batch_are_stored_as_rows() {
        let (_dir, db) = db();
        cases::one_event_and_a_batch_are_stored_as_rows(&db).await;
    }

    #[tokio::test]
    async fn refused_bodies_are_refused_with_their_status_and_store_nothing() {
        let (_dir, db) = db();
        cases::refused_bodies_are_refused_with_their_status_and_store_nothing(&db).await;
    }

    #[tokio::test]
    async fn a_deletion_request_removes_exactly_that_installs_rows() {
        let (_dir, db) = db();
        cases::a_deletion_request_removes_exactly_that_installs_rows(&db).await;
    }

    #[tokio::test]
    async fn stats_figures_match_a_known_fleet() {
        let (_dir, db) = db();
        cases::stats_figures_match_a_known_fleet(&db).await;
    }

    #[tokio::test]
    async fn the_dashboard_shows_the_releases_and_escapes_hostile_text() {
        let (_dir, db) = db();
        cases::the_dashboard_shows_the_releases_and_escapes_hostile_text(&db).await;
    }

    #[test]
    fn the_database_is_created_in_wal_mode_with_its_indexes() {
        let (_dir, db) = db();
        let repo = Repo::new();
        drop(start(&repo, &db));
        let c = rusqlite::Connection::open(&db).unwrap();
        let mode: String = c
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let mut stmt = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
            .unwrap();
        let indexes: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(indexes, ["events_install", "events_release"]);
    }

    #[tokio::test]
    async fn static_files_stay_read_only_next_to_the_collector() {
        let (_dir, db) = db();
        let repo = Repo::new();
        let server = start(&repo, &db);
        let http = client();
        let res = http
            .get(server.url("/channels/production.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.text().await.unwrap(), CHANNEL);
        for path in ["/channels/production.json", "/dashboard", "/"] {
            let res = http.post(server.url(path)).body("{}").send().await.unwrap();
            assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "POST {path}");
        }
        let res = http.get(server.url("/stats")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "GET /stats");
        let res = http
            .put(server.url("/stats"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "PUT /stats");
    }

    #[tokio::test]
    async fn without_stats_there_is_no_collector() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        let res = client()
            .post(server.url("/stats"))
            .body(serde_json::to_vec(&event("d1", "set", A)).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        let res = client().get(server.url("/dashboard")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    /// A `Content-Length` over the limit is answered before the body is sent: the collector
    /// does not wait for (or read) bytes it would refuse.
    #[test]
    fn an_announced_oversized_body_is_refused_before_it_is_sent() {
        let (_dir, db) = db();
        let repo = Repo::new();
        let server = start(&repo, &db);
        let mut stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "POST /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: 100000000\r\n\r\n[{{"
        )
        .unwrap();
        let mut answer = [0u8; 512];
        let n = stream
            .read(&mut answer)
            .expect("no answer within 5 s: the server waits for the body");
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("bodyTooLarge"), "{answer}");
    }

    #[test]
    fn a_server_that_cannot_be_reached_stops_serve_before_it_listens() {
        let repo = Repo::new();
        // Port 1 on loopback: nothing listens there.
        let (status, stderr) = start_fails(&[
            repo.root().as_os_str(),
            "--stats".as_ref(),
            "postgres://someone:hunter2@127.0.0.1:1/stats".as_ref(),
        ]);
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("cannot connect to stats database postgres://127.0.0.1:1/stats"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("hunter2"),
            "the password is printed: {stderr}"
        );
    }

    /// A chunked body announces no length: reading stops at the limit with `413`, without
    /// waiting for the rest (here: a 1 MiB chunk of which only the limit and one byte are sent).
    #[test]
    fn a_chunked_body_over_the_limit_is_refused_at_the_limit() {
        let (_dir, db) = db();
        let repo = Repo::new();
        let server = start(&repo, &db);
        let mut stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "POST /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            1 << 20
        )
        .unwrap();
        // The server may answer and close before it takes every byte.
        let _ = stream.write_all(&vec![b' '; liveship::telemetry::MAX_BODY_BYTES + 1]);
        let mut answer = [0u8; 512];
        let n = stream
            .read(&mut answer)
            .expect("no answer within 5 s: the server reads on past the limit");
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("bodyTooLarge"), "{answer}");
        assert_eq!(rows(&db), vec![]);
    }

    #[test]
    fn stats_on_a_missing_database_fails_naming_it() {
        let (dir, db) = db();
        let out = run(&["stats", "--db", &db]);
        support::cli::assert_fails_with(&out, &["stats database", "does not exist"]);
        assert!(
            !dir.path().join("stats.db").exists(),
            "stats created the file"
        );
    }
}

/// The same cases on a real PostgreSQL server: scripts/postgres-test.sh starts a throw-away
/// cluster and runs these with `LIVESHIP_TEST_POSTGRES=postgres://USER@127.0.0.1:PORT/postgres`.
/// Each test works in a database of its own, created from that URL.
mod on_postgres {
    use super::*;

    /// A fresh database named for the test on the server of `LIVESHIP_TEST_POSTGRES`.
    fn db(name: &str) -> String {
        let base = std::env::var("LIVESHIP_TEST_POSTGRES").unwrap_or_else(|_| {
            panic!(
                "LIVESHIP_TEST_POSTGRES is not set: these tests need a PostgreSQL server; \
                 run scripts/postgres-test.sh"
            )
        });
        let (server, _) = base
            .rsplit_once('/')
            .expect("LIVESHIP_TEST_POSTGRES is postgres://USER@HOST:PORT/DATABASE");
        let database = format!("liveship_{name}");
        let admin = base.clone();
        let create = database.clone();
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&admin, postgres::NoTls)
                .unwrap_or_else(|e| panic!("cannot connect to LIVESHIP_TEST_POSTGRES: {e}"));
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {create}"))
                .unwrap();
            c.batch_execute(&format!("CREATE DATABASE {create}"))
                .unwrap();
        })
        .join()
        .unwrap();
        format!("{server}/{database}")
    }

    #[tokio::test]
    #[ignore = "needs LIVESHIP_TEST_POSTGRES; run by scripts/postgres-test.sh"]
    async fn one_event_and_a_batch_are_stored_as_rows() {
        cases::one_event_and_a_batch_are_stored_as_rows(&db("rows")).await;
    }

    #[tokio::test]
    #[ignore = "needs LIVESHIP_TEST_POSTGRES; run by scripts/postgres-test.sh"]
    async fn refused_bodies_are_refused_with_their_status_and_store_nothing() {
        cases::refused_bodies_are_refused_with_their_status_and_store_nothing(&db("refused")).await;
    }

    #[tokio::test]
    #[ignore = "needs LIVESHIP_TEST_POSTGRES; run by scripts/postgres-test.sh"]
    async fn a_deletion_request_removes_exactly_that_installs_rows() {
        cases::a_deletion_request_removes_exactly_that_installs_rows(&db("deletion")).await;
    }

    #[tokio::test]
    #[ignore = "needs LIVESHIP_TEST_POSTGRES; run by scripts/postgres-test.sh"]
    async fn stats_figures_match_a_known_fleet() {
        cases::stats_figures_match_a_known_fleet(&db("figures")).await;
    }

    #[tokio::test]
    #[ignore = "needs LIVESHIP_TEST_POSTGRES; run by scripts/postgres-test.sh"]
    async fn the_dashboard_shows_the_releases_and_escapes_hostile_text() {
        cases::the_dashboard_shows_the_releases_and_escapes_hostile_text(&db("dashboard")).await;
    }
}

/// The ingest rate into SQLite: 200 POSTs of 50 events each, one after the other, over
/// loopback into a real `liveship serve --stats`. docs/COLLECTOR.md records the figure and
/// this command: `cargo test -p liveship-cli --test collector ingest_rate -- --ignored
/// --nocapture` (add `--release` for the optimised build).
#[tokio::test]
#[ignore = "a measurement, not a check: docs/COLLECTOR.md runs it"]
async fn ingest_rate_into_sqlite_with_batches_of_50() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("stats.db").to_str().unwrap().to_owned();
    let repo = Repo::new();
    let server = start(&repo, &db);
    let batch: Vec<Value> = (0..50)
        .map(|i| {
            with(
                event(&format!("d{i}"), "download_complete", A),
                "bytes",
                json!(i),
            )
        })
        .collect();
    let body = serde_json::to_vec(&batch).unwrap();
    post(&server, body.clone()).await; // warm-up: connection, page cache
    let posts = 200;
    let started = std::time::Instant::now();
    for _ in 0..posts {
        let (status, _) = post(&server, body.clone()).await;
        assert_eq!(status, StatusCode::OK);
    }
    let seconds = started.elapsed().as_secs_f64();
    let events = posts * 50;
    println!(
        "ingest: {events} events in {posts} POSTs of 50 in {seconds:.2} s = {:.0} events/s",
        events as f64 / seconds
    );
    assert_eq!(rows(&db).len(), events + 50);
}
