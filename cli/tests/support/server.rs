//! A running `liveship serve` on a loopback port, a repository laid out as `pack` writes it, and
//! HTTP clients (reqwest on ring, raw TCP) for the serve tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header;

pub const CHANNEL: &str =
    r#"{"payloadType":"application/vnd.liveship.manifest+json","payload":"AAAA","signatures":[]}"#;

/// A running `liveship serve`; killed and reaped on drop, so a failing test leaks no process.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub stderr: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn start(repo: &Path, extra: &[&str]) -> Server {
        let mut args = vec![
            "serve".as_ref(),
            repo.as_os_str(),
            "--addr".as_ref(),
            "127.0.0.1:0".as_ref(),
        ];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        Server::spawn(&args)
    }

    /// The binary with `args`, once it printed its `listening on URL` line (`serve`, `dev`).
    pub fn spawn(args: &[&std::ffi::OsStr]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_liveship"))
            .args(args)
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

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn port(&self) -> u16 {
        self.base
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends `signal` (`TERM`, `INT`) and waits for the exit status (at most 15 s).
    #[cfg(unix)]
    pub fn signal(&mut self, signal: &str) -> ExitStatus {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "no exit within 15 s of SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Runs `liveship serve` expecting it to fail at start-up; returns (status, stderr).
pub fn start_fails(args: &[&std::ffi::OsStr]) -> (ExitStatus, String) {
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
pub struct Repo {
    pub dir: tempfile::TempDir,
    pub bundle: Vec<u8>,
}

impl Repo {
    pub fn new() -> Repo {
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

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }
}

pub fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub fn client_trusting(roots: rustls::RootCertStore) -> reqwest::Client {
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

pub fn client() -> reqwest::Client {
    client_trusting(rustls::RootCertStore::empty())
}

pub fn etag_of(res: &reqwest::Response) -> String {
    res.headers()
        .get(header::ETAG)
        .expect("ETag on a file answer")
        .to_str()
        .unwrap()
        .to_owned()
}

/// A raw HTTP/1.1 GET with the target sent byte for byte; returns (status, whole response).
pub fn raw_get(port: u16, target: &str) -> (u16, String) {
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

/// [`raw_get`] that tolerates a connection closed without an answer: `None` then.
pub fn try_raw_get(port: u16, target: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    String::from_utf8_lossy(&response)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
}
