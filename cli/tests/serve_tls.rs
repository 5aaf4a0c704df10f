//! `liveship serve` over TLS: certificates, client trust and refusals.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use support::server::*;

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

    /// A connection that never sends its ClientHello is closed after `--header-timeout`, as an
    /// HTTP one is (the TLS handshake would otherwise wait 10 s).
    #[test]
    fn a_stalled_tls_handshake_is_closed_after_the_header_timeout() {
        let repo = Repo::new();
        let pki = make_pki(repo.dir.path());
        let server = Server::start(
            &repo.root(),
            &[
                "--tls-cert",
                pki.cert.to_str().unwrap(),
                "--tls-key",
                pki.key.to_str().unwrap(),
                "--header-timeout",
                "1",
            ],
        );
        let mut stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let started = std::time::Instant::now();
        let mut buf = [0u8; 64];
        match stream.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("expected the server to close, got {other:?}"),
        }
        let took = started.elapsed();
        assert!(took < Duration::from_secs(5), "held for {took:?}");
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
