//! `liveship serve` as a device and the demo see it: the real binary on a loopback port, real
//! files in a temporary repository, requests from reqwest (rustls on ring) or raw TCP where an
//! HTTP client would normalise the path.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header;
use reqwest::StatusCode;

const CHANNEL: &str =
    r#"{"payloadType":"application/vnd.liveship.manifest+json","payload":"AAAA","signatures":[]}"#;

/// A running `liveship serve`; killed and reaped on drop, so a failing test leaks no process.
struct Server {
    child: Child,
    base: String,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(repo: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_liveship"))
            .arg("serve")
            .arg(repo)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn liveship serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(out);
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let _ = tx.send(first);
            // Keep draining so a chatty child could never block on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut server = Server {
            child,
            base: String::new(),
            stderr,
        };
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("no `listening on` line within 20 s");
        let base = line
            .trim_end()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first stdout line {line:?}"));
        server.base = base.to_owned();
        server
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the exit status (at most 15 s).
    #[cfg(unix)]
    fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit within 15 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Runs `liveship serve` expecting it to fail at start-up; returns (status, stderr).
fn start_fails(args: &[&std::ffi::OsStr]) -> (ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_liveship"))
        .arg("serve")
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve kept running although it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.stdout.is_empty(),
        "no `listening on` line on failure, got {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A repository laid out as `pack` writes it, inside a temp dir that also holds a secret
/// *outside* the repository.
struct Repo {
    dir: tempfile::TempDir,
    bundle: Vec<u8>,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        for sub in ["channels", "releases", "bundles", "files/ab"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        std::fs::write(root.join("channels/production.json"), CHANNEL).unwrap();
        std::fs::write(root.join("releases/1.json"), CHANNEL).unwrap();
        let bundle: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(root.join("bundles/0123abcd.zip"), &bundle).unwrap();
        std::fs::write(root.join("files/ab/cdef"), b"file body").unwrap();
        std::fs::write(dir.path().join("secret.txt"), b"TOP-SECRET-OUTSIDE-REPO").unwrap();
        Repo { dir, bundle }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }
}

fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_trusting(roots: rustls::RootCertStore) -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .no_proxy()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap()
}

fn client() -> reqwest::Client {
    client_trusting(rustls::RootCertStore::empty())
}

fn etag_of(res: &reqwest::Response) -> String {
    res.headers()
        .get(header::ETAG)
        .expect("ETag on a file answer")
        .to_str()
        .unwrap()
        .to_owned()
}

/// A raw HTTP/1.1 GET with the target sent byte for byte; returns (status, whole response).
fn raw_get(port: u16, target: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"));
    (status, response)
}

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

mod tls {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

    /// A CA and a leaf for localhost/127.0.0.1 signed by it, written as PEM files.
    struct Pki {
        ca_der: rustls::pki_types::CertificateDer<'static>,
        cert: PathBuf,
        key: PathBuf,
        other_key: PathBuf,
    }

    fn make_pki(dir: &Path) -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        let other_key = dir.join("other-key.pem");
        std::fs::write(&cert, leaf.pem()).unwrap();
        std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
        std::fs::write(&other_key, KeyPair::generate().unwrap().serialize_pem()).unwrap();
        Pki {
            ca_der: ca.der().clone(),
            cert,
            key,
            other_key,
        }
    }

    #[tokio::test]
    async fn https_is_served_with_the_given_certificate() {
        let repo = Repo::new();
        let pki = make_pki(repo.dir.path());
        let server = Server::start(
            &repo.root(),
            &[
                "--tls-cert",
                pki.cert.to_str().unwrap(),
                "--tls-key",
                pki.key.to_str().unwrap(),
            ],
        );
        assert!(
            server.base.starts_with("https://127.0.0.1:"),
            "{}",
            server.base
        );

        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca_der.clone()).unwrap();
        let res = client_trusting(roots)
            .get(server.url("/channels/production.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.text().await.unwrap(), CHANNEL);

        // The same request from a client that does not trust the CA fails the handshake:
        // the server really speaks TLS with that certificate.
        let refused = client()
            .get(server.url("/channels/production.json"))
            .send()
            .await;
        assert!(refused.is_err(), "untrusted CA accepted");

        // Plain HTTP on the TLS port gets no file.
        let (_, response) = {
            let mut stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            stream
                .write_all(b"GET /channels/production.json HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let mut buf = Vec::new();
            let _ = stream.read_to_end(&mut buf);
            ((), String::from_utf8_lossy(&buf).into_owned())
        };
        assert!(!response.contains("payloadType"));
    }

    #[test]
    fn tls_flags_must_be_given_together() {
        let repo = Repo::new();
        let pki = make_pki(repo.dir.path());
        let root = repo.root();
        let (status, stderr) = start_fails(&[
            root.as_os_str(),
            "--tls-cert".as_ref(),
            pki.cert.as_os_str(),
        ]);
        assert!(!status.success());
        assert!(stderr.contains("--tls-key"), "{stderr}");
        let (status, stderr) =
            start_fails(&[root.as_os_str(), "--tls-key".as_ref(), pki.key.as_os_str()]);
        assert!(!status.success());
        assert!(stderr.contains("--tls-cert"), "{stderr}");
    }

    #[test]
    fn unreadable_or_invalid_pem_is_refused_naming_the_file() {
        let repo = Repo::new();
        let pki = make_pki(repo.dir.path());
        let dir = repo.dir.path();
        let root = repo.root();
        let garbage = dir.join("garbage.pem");
        std::fs::write(&garbage, "this is not PEM at all\n").unwrap();
        let broken = dir.join("broken.pem");
        std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap();
        let missing = dir.join("missing.pem");

        let cases: [(&Path, &Path, &str); 5] = [
            (&missing, &pki.key, "cannot read TLS certificate file"),
            (&pki.cert, &missing, "cannot read TLS key file"),
            (&garbage, &pki.key, "holds no CERTIFICATE section"),
            (&broken, &pki.key, "is not valid PEM"),
            (&pki.cert, &garbage, "holds no private key"),
        ];
        for (cert, key, expected) in cases {
            let (status, stderr) = start_fails(&[
                root.as_os_str(),
                "--tls-cert".as_ref(),
                cert.as_os_str(),
                "--tls-key".as_ref(),
                key.as_os_str(),
            ]);
            assert!(!status.success());
            assert!(stderr.contains(expected), "{expected}: {stderr}");
            let named = if stderr.contains("key file") {
                key
            } else {
                cert
            };
            assert!(stderr.contains(&*named.to_string_lossy()), "{stderr}");
        }

        let (status, stderr) = start_fails(&[
            root.as_os_str(),
            "--tls-cert".as_ref(),
            pki.cert.as_os_str(),
            "--tls-key".as_ref(),
            pki.other_key.as_os_str(),
        ]);
        assert!(!status.success());
        assert!(
            stderr.contains("were rejected"),
            "key not matching cert: {stderr}"
        );
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
    #[test]
    fn sigterm_stops_the_server_cleanly() {
        let repo = Repo::new();
        let mut server = Server::start(&repo.root(), &[]);
        let port = server.port();
        let (status, _) = raw_get(port, "/channels/production.json");
        assert_eq!(status, 200);
        let exit = server.terminate();
        assert!(exit.success(), "exit status after SIGTERM: {exit:?}");
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
}
