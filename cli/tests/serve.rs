//! `liveship serve` as a device and the demo see it: the real binary on a loopback port, real
//! files in a temporary repository, requests from reqwest (rustls on ring) or raw TCP where an
//! HTTP client would normalise the path.

mod support;

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::header;
use reqwest::StatusCode;
use support::server::*;

mod serving {
    use super::*;

    #[tokio::test]
    async fn repo_files_are_served_with_200_and_their_bytes() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        assert!(server.base.starts_with("http://127.0.0.1:"));
        let http = client();

        let res = http
            .get(server.url("/channels/production.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(res.text().await.unwrap(), CHANNEL);

        let res = http
            .get(server.url("/bundles/0123abcd.zip"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.bytes().await.unwrap().as_ref(), repo.bundle.as_slice());

        let res = http.get(server.url("/files/ab/cdef")).send().await.unwrap();
        assert_eq!(res.bytes().await.unwrap().as_ref(), b"file body");
    }

    #[tokio::test]
    async fn missing_files_and_directories_are_404_without_listing() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        let http = client();
        for path in [
            "/channels/beta.json",
            "/nope",
            "/channels/",
            "/channels",
            "/",
        ] {
            let res = http.get(server.url(path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
            let body = res.text().await.unwrap();
            assert!(!body.contains("production.json"), "{path} listed: {body}");
        }
    }

    #[tokio::test]
    async fn writes_are_refused_and_leave_the_repository_unchanged() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        let http = client();
        let url = server.url("/channels/production.json");
        let put = http.put(&url).body("evil").send().await.unwrap();
        assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
        let delete = http.delete(&url).send().await.unwrap();
        assert_eq!(delete.status(), StatusCode::METHOD_NOT_ALLOWED);
        let on_disk = std::fs::read_to_string(repo.root().join("channels/production.json"));
        assert_eq!(on_disk.unwrap(), CHANNEL);
    }

    #[test]
    fn parent_directory_traversal_is_not_served() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        for target in [
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/channels/../../secret.txt",
            "/channels/..%2f..%2fsecret.txt",
            "/%2e%2e%2fsecret.txt",
            "/..%5csecret.txt",
        ] {
            let (status, response) = raw_get(server.port(), target);
            assert_eq!(status, 404, "{target}: {response}");
            assert!(!response.contains("TOP-SECRET"), "{target}: {response}");
        }
        // Any `..` is refused, even one that would stay inside the repository.
        let (status, _) = raw_get(server.port(), "/channels/../channels/production.json");
        assert_eq!(status, 404);
        // The raw client works: the plain path to the same file is served.
        let (status, response) = raw_get(server.port(), "/channels/production.json");
        assert_eq!(status, 200);
        assert!(response.contains("payloadType"));
    }
}

mod confinement {
    use super::*;

    /// A repository with links out of it: a file link to the secret next to the repository,
    /// a directory link to the folder that holds it, and an in-repository link to a channel.
    fn linked_repo() -> Repo {
        let repo = Repo::new();
        let root = repo.root();
        let outside = repo.dir.path();
        std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("channels/leak.json"))
            .unwrap();
        std::os::unix::fs::symlink("../../secret.txt", root.join("releases/2.json")).unwrap();
        std::os::unix::fs::symlink(outside, root.join("files/up")).unwrap();
        std::os::unix::fs::symlink("production.json", root.join("channels/alias.json")).unwrap();
        std::os::unix::fs::symlink(root.join("channels"), root.join("releases/ch")).unwrap();
        repo
    }

    #[test]
    fn links_that_resolve_outside_the_repository_are_404() {
        let repo = linked_repo();
        let server = Server::start(&repo.root(), &[]);
        for target in [
            "/channels/leak.json",
            "/releases/2.json",
            "/files/up/secret.txt",
        ] {
            let (status, response) = raw_get(server.port(), target);
            assert_eq!(status, 404, "{target}: {response}");
            assert!(!response.contains("TOP-SECRET"), "{target}: {response}");
            assert!(!response.contains("etag"), "{target}: {response}");
        }
    }

    /// A link out of the repository gives no validator either: `If-None-Match: *` would
    /// otherwise answer `304` with the secret's hash as ETag.
    #[tokio::test]
    async fn links_out_of_the_repository_reveal_no_etag() {
        let repo = linked_repo();
        let server = Server::start(&repo.root(), &[]);
        let res = client()
            .get(server.url("/channels/leak.json"))
            .header(header::IF_NONE_MATCH, "*")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.headers().get(header::ETAG).is_none());
    }

    /// Links that stay inside the repository are served, through a linked directory too, and
    /// through a link that goes out and back in (`files/up/repo/...`): what counts is where
    /// the path finally resolves.
    #[tokio::test]
    async fn links_that_stay_inside_the_repository_are_served() {
        let repo = linked_repo();
        let server = Server::start(&repo.root(), &[]);
        let http = client();
        for path in [
            "/channels/alias.json",
            "/releases/ch/production.json",
            "/files/up/repo/channels/production.json",
        ] {
            let res = http.get(server.url(path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(res.text().await.unwrap(), CHANNEL, "{path}");
        }
    }
}

mod limits {
    use super::*;
    use std::io::{ErrorKind, Read, Write};

    /// Reads until the server closes the connection; returns what it sent and how long that
    /// took. The read timeout is only a backstop far beyond the server's header timeout.
    fn read_until_closed(stream: &mut TcpStream) -> (Vec<u8>, Duration) {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let started = Instant::now();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
                Err(e) => panic!("connection still open after {:?}: {e}", started.elapsed()),
            }
        }
        (got, started.elapsed())
    }

    fn connect(server: &Server) -> TcpStream {
        TcpStream::connect(("127.0.0.1", server.port())).unwrap()
    }

    #[test]
    fn a_partial_request_is_closed_after_the_header_timeout() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &["--header-timeout", "1"]);
        // Nothing at all and a prefix of HTTP/2's preface (both still in hyper's protocol
        // detection, which HTTP/1's header timeout does not cover), a partial request line,
        // and a request line with headers but not their end.
        for partial in [
            "",
            "PRI * HTTP/2.0\r\n",
            "GET /chan",
            "GET /channels/production.json HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        ] {
            let mut stream = connect(&server);
            stream.write_all(partial.as_bytes()).unwrap();
            let (got, took) = read_until_closed(&mut stream);
            assert!(
                !String::from_utf8_lossy(&got).contains("payloadType"),
                "{partial:?}"
            );
            assert!(
                took < Duration::from_secs(5),
                "{partial:?} held for {took:?}"
            );
        }
    }

    #[test]
    fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &["--header-timeout", "1"]);
        let mut stream = connect(&server);
        write!(
            stream,
            "GET /channels/production.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .unwrap();
        // The answer comes, then the connection stays idle until the server closes it.
        let (got, took) = read_until_closed(&mut stream);
        let got = String::from_utf8_lossy(&got);
        assert!(got.starts_with("HTTP/1.1 200"), "{got}");
        assert!(got.ends_with(CHANNEL), "{got}");
        assert!(took < Duration::from_secs(5), "held for {took:?}");
    }

    #[test]
    fn connections_over_the_cap_are_closed_and_a_freed_slot_is_served() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &["--max-connections", "3"]);
        let mut held: Vec<TcpStream> = (0..3).map(|_| connect(&server)).collect();
        // Each held connection is admitted: it answers a request and stays open.
        for stream in &mut held {
            write!(
                stream,
                "HEAD /channels/production.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            )
            .unwrap();
            let mut head = [0u8; 12];
            stream.read_exact(&mut head).unwrap();
            assert_eq!(&head, b"HTTP/1.1 200");
        }
        // The fourth is closed without an answer, long before any timeout.
        let mut extra = connect(&server);
        let _ = extra.write_all(b"GET /channels/production.json HTTP/1.1\r\nHost: x\r\n\r\n");
        let (got, took) = read_until_closed(&mut extra);
        assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
        assert!(took < Duration::from_secs(5), "held for {took:?}");
        // Closing one held connection frees its slot once the server has seen the close.
        drop(held.pop());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let status = try_raw_get(server.port(), "/channels/production.json");
            if status == Some(200) {
                break;
            }
            assert!(Instant::now() < deadline, "no slot freed");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            server.stderr().contains("the --max-connections cap"),
            "{}",
            server.stderr()
        );
    }
}

mod ranges {
    use super::*;

    #[tokio::test]
    async fn range_request_returns_206_with_content_range_and_exact_bytes() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        let http = client();
        let url = server.url("/bundles/0123abcd.zip");
        let total = repo.bundle.len();

        let res = http
            .get(&url)
            .header(header::RANGE, "bytes=1000-1999")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            res.headers()[header::CONTENT_RANGE],
            format!("bytes 1000-1999/{total}").as_str()
        );
        assert_eq!(
            res.bytes().await.unwrap().as_ref(),
            &repo.bundle[1000..2000]
        );

        // Resuming from an offset: open-ended range to the end.
        let res = http
            .get(&url)
            .header(header::RANGE, format!("bytes={}-", total - 10))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            res.bytes().await.unwrap().as_ref(),
            &repo.bundle[total - 10..]
        );

        let res = http
            .get(&url)
            .header(header::RANGE, format!("bytes={total}-"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    }

    #[tokio::test]
    async fn if_range_with_a_stale_etag_gets_the_whole_file() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        let http = client();
        let url = server.url("/bundles/0123abcd.zip");
        let etag = etag_of(&http.get(&url).send().await.unwrap());

        let res = http
            .get(&url)
            .header(header::RANGE, "bytes=10-19")
            .header(header::IF_RANGE, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(res.bytes().await.unwrap().as_ref(), &repo.bundle[10..20]);

        let res = http
            .get(&url)
            .header(header::RANGE, "bytes=10-19")
            .header(header::IF_RANGE, "\"some-older-version\"")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.bytes().await.unwrap().len(), repo.bundle.len());
    }
}

mod validators {
    use super::*;

    #[tokio::test]
    async fn if_none_match_with_the_current_etag_is_304() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        let http = client();
        let url = server.url("/channels/production.json");
        let first = http.get(&url).send().await.unwrap();
        let etag = etag_of(&first);
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "strong ETag: {etag}"
        );

        let res = http
            .get(&url)
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(etag_of(&res), etag);
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
        assert!(res.bytes().await.unwrap().is_empty());

        let res = http
            .get(&url)
            .header(header::IF_NONE_MATCH, "\"another\"")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.text().await.unwrap(), CHANNEL);
    }

    #[tokio::test]
    async fn etag_changes_when_a_channel_is_rewritten_in_place_with_the_same_size() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        let http = client();
        let url = server.url("/channels/production.json");
        let path = repo.root().join("channels/production.json");
        let mut etag = etag_of(&http.get(&url).send().await.unwrap());

        // Several rewrites in quick succession: same length, same inode, likely the same
        // coarse mtime tick. None may be answered 304 against the previous ETag.
        for round in 0..5u8 {
            let next = CHANNEL.replace("AAAA", &format!("BBB{round}"));
            assert_eq!(next.len(), CHANNEL.len());
            std::fs::write(&path, &next).unwrap();
            let res = http
                .get(&url)
                .header(header::IF_NONE_MATCH, &etag)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "round {round}");
            let new_etag = etag_of(&res);
            assert_ne!(new_etag, etag, "round {round}");
            assert_eq!(res.text().await.unwrap(), next);
            etag = new_etag;
        }
    }

    /// A settled file's hash is cached; a rewrite that even puts the old mtime back (as
    /// `cp -p`, `rsync -t` or an unpacked archive do) must still get a new ETag.
    #[cfg(unix)]
    #[tokio::test]
    async fn cached_etag_is_dropped_when_a_rewrite_restores_the_old_mtime() {
        let repo = Repo::new();
        let path = repo.root().join("channels/production.json");
        let old = std::time::SystemTime::now() - Duration::from_secs(3600);
        let set_mtime = |t| {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(t)
                .unwrap()
        };
        set_mtime(old);
        let server = Server::start(&repo.root(), &[]);
        let http = client();
        let url = server.url("/channels/production.json");
        let etag = etag_of(&http.get(&url).send().await.unwrap());
        // Second answer comes from the cache: same tag.
        assert_eq!(etag_of(&http.get(&url).send().await.unwrap()), etag);

        let next = CHANNEL.replace("AAAA", "DDDD");
        std::fs::write(&path, &next).unwrap();
        set_mtime(old);
        let res = http
            .get(&url)
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_ne!(etag_of(&res), etag);
        assert_eq!(res.text().await.unwrap(), next);
    }

    #[tokio::test]
    async fn etag_changes_when_a_channel_is_replaced_by_rename() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        let http = client();
        let url = server.url("/channels/production.json");
        let etag = etag_of(&http.get(&url).send().await.unwrap());

        let next = CHANNEL.replace("AAAA", "CCCC");
        let tmp = repo.root().join("channels/.production.json.tmp");
        std::fs::write(&tmp, &next).unwrap();
        std::fs::rename(&tmp, repo.root().join("channels/production.json")).unwrap();
        let res = http
            .get(&url)
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_ne!(etag_of(&res), etag);
        assert_eq!(res.text().await.unwrap(), next);
    }

    #[tokio::test]
    async fn if_modified_since_cannot_mask_a_rewrite() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        let res = client()
            .get(server.url("/channels/production.json"))
            .header(header::IF_MODIFIED_SINCE, "Fri, 01 Jan 2100 00:00:00 GMT")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().get(header::LAST_MODIFIED).is_none());
    }

    #[tokio::test]
    async fn channels_must_revalidate_and_content_addressed_files_are_immutable() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        let http = client();
        for (path, policy) in [
            ("/channels/production.json", "no-cache"),
            ("/releases/1.json", "no-cache"),
            (
                "/bundles/0123abcd.zip",
                "public, max-age=31536000, immutable",
            ),
            ("/files/ab/cdef", "public, max-age=31536000, immutable"),
        ] {
            let res = http.get(server.url(path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(res.headers()[header::CACHE_CONTROL], policy, "{path}");
        }
        let res = http
            .head(server.url("/bundles/0123abcd.zip"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().contains_key(header::ETAG));
    }
}

mod operations {
    use super::*;

    #[test]
    fn a_missing_repository_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let (status, stderr) = start_fails(&[missing.as_os_str()]);
        assert!(!status.success());
        assert!(stderr.contains("cannot open repository"), "{stderr}");
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let (status, stderr) = start_fails(&[file.as_os_str()]);
        assert!(!status.success());
        assert!(stderr.contains("is not a directory"), "{stderr}");
    }

    #[test]
    fn a_port_in_use_is_refused_naming_the_address() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        let addr = format!("127.0.0.1:{}", server.port());
        let root = repo.root();
        let out = Command::new(env!("CARGO_BIN_EXE_liveship"))
            .arg("serve")
            .arg(&root)
            .args(["--addr", &addr])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("cannot listen on {addr}")),
            "{stderr}"
        );
    }

    #[tokio::test]
    async fn each_request_is_logged_on_stderr_with_status_and_bytes() {
        let repo = Repo::new();
        let server = Server::start(&repo.root(), &[]);
        let http = client();
        http.get(server.url("/channels/production.json"))
            .send()
            .await
            .unwrap();
        http.get(server.url("/bundles/0123abcd.zip"))
            .header(header::RANGE, "bytes=0-99")
            .send()
            .await
            .unwrap();
        http.get(server.url("/missing.json")).send().await.unwrap();
        let expected = [
            format!("GET /channels/production.json 200 {}", CHANNEL.len()),
            "GET /bundles/0123abcd.zip range=bytes=0-99 206 100".to_owned(),
            "GET /missing.json 404 0".to_owned(),
        ];
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = server.stderr();
            if expected.iter().all(|e| log.contains(e.as_str())) {
                break;
            }
            assert!(Instant::now() < deadline, "missing request lines in {log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[cfg(unix)]
    fn assert_stops_cleanly_on(signal: &str, request_first: bool) {
        let repo = Repo::new();
        let mut server = Server::start(&repo.root(), &[]);
        let port = server.port();
        if request_first {
            let (status, _) = raw_get(port, "/channels/production.json");
            assert_eq!(status, 200);
        }
        let exit = server.signal(signal);
        assert!(exit.success(), "exit status after SIG{signal}: {exit:?}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !server.stderr().contains("liveship serve: stopped") {
            assert!(
                Instant::now() < deadline,
                "no shutdown log: {}",
                server.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "still listening"
        );
    }

    #[cfg(unix)]
    #[test]
    fn sigterm_stops_the_server_cleanly() {
        assert_stops_cleanly_on("TERM", true);
    }

    /// The handlers are installed before the `listening on` line, so a Ctrl-C sent as soon as
    /// the line is read is not lost (nor fatal).
    #[cfg(unix)]
    #[test]
    fn sigint_right_after_the_listening_line_stops_the_server_cleanly() {
        assert_stops_cleanly_on("INT", false);
    }
}
