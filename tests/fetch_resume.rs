//! Resumable downloads against scripted loopback servers: resets and truncation resume with
//! `Range`, bad ranges restart cleanly, and only a file of exactly the signed length and SHA-256
//! is accepted (a wrong one is deleted).

mod support;

use liveship::crypto::sha256_hex;
use liveship::fetch::{FetchError, Fetcher, HttpConfig};
use support::fetching::{
    cfg, cut_at, download, fetcher, full, partial, reset_then_resumed, staging, CUT, SIZE,
};
use support::{data, head, respond, Server, Step};

// ---------------------------------------------------------------- resume

#[tokio::test]
async fn connection_reset_mid_body_resumes_with_range_and_completes() {
    let body = data(SIZE);
    let server = reset_then_resumed(&body).await;
    let (_dir, dest) = staging();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("range"), None);
    assert_eq!(
        reqs[1].header("range"),
        Some(format!("bytes={CUT}-").as_str())
    );
    // Progress ends with (total, total) and never goes backwards.
    assert_eq!(d.calls.last(), Some(&(SIZE as u64, SIZE as u64)));
    assert!(d.calls.windows(2).all(|w| w[0].0 <= w[1].0));
}

/// The digest a download returns is the object check the install relies on (it does not hash
/// the file again): it must cover the prefix a resumed download found on disk.
#[tokio::test]
async fn a_resumed_download_returns_the_digest_of_the_whole_file() {
    let body = data(SIZE);
    let server = reset_then_resumed(&body).await;
    let (_dir, dest) = staging();
    // No expected digest (as for a sealed delta object): what comes back is what was measured.
    let object = fetcher()
        .download(&server.url("/b.zip"), &dest, SIZE as u64, None, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2, "the second request resumed");
    assert_eq!(object.sha256(), sha256_hex(&body));
    assert_eq!(object.size(), SIZE as u64);
    assert_eq!(object.path(), dest.as_path());
}

#[tokio::test]
async fn truncated_body_is_kept_for_resume_when_retries_run_out() {
    let body = data(SIZE);
    let b = body.clone();
    // Content-Length announces everything, the server closes after CUT bytes, every time.
    let server = Server::http(move |_, _| cut_at(&b, CUT, false)).await;
    let (_dir, dest) = staging();
    let f = Fetcher::new(HttpConfig {
        max_attempts: 2,
        ..cfg()
    })
    .unwrap();
    let d = download(&f, &server.url("/b.zip"), &dest, &body).await;
    match d.result {
        Err(FetchError::RetriesExhausted { attempts: 2, last }) => assert!(
            matches!(*last, FetchError::Truncated { got, expected: Some(e), .. }
                if got == CUT as u64 && e == SIZE as u64),
            "{last:?}"
        ),
        other => panic!("expected RetriesExhausted(Truncated), got {other:?}"),
    }
    // The second attempt asked to resume; the prefix stays on disk for the next call.
    assert_eq!(
        server.requests()[1].header("range"),
        Some(format!("bytes={CUT}-").as_str())
    );
    assert_eq!(std::fs::read(&dest).unwrap(), &body[..CUT]);
}

#[tokio::test]
async fn prefix_left_by_an_interrupted_run_is_resumed_with_range() {
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::http(move |_, _| partial(&b, CUT)).await;
    let (_dir, dest) = staging();
    std::fs::write(&dest, &body[..CUT]).unwrap();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].header("range"),
        Some(format!("bytes={CUT}-").as_str())
    );
}

#[tokio::test]
async fn server_ignoring_range_restarts_cleanly_from_zero() {
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::http(move |_, _| full(&b)).await;
    let (_dir, dest) = staging();
    // A prefix that is not even right: appending to it would fail the hash.
    std::fs::write(&dest, vec![0xAA; CUT]).unwrap();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].header("range"),
        Some(format!("bytes={CUT}-").as_str())
    );
}

#[tokio::test]
async fn partial_response_with_wrong_content_range_restarts_without_range() {
    let body = data(SIZE);
    let b = body.clone();
    let server = Server::http(move |n, _| match n {
        // Claims to start at byte 0 although byte CUT was asked for.
        0 => {
            let range = format!("bytes 0-{}/{}", b.len() - 1, b.len());
            respond("206 Partial Content", &[("Content-Range", range)], &b)
        }
        _ => full(&b),
    })
    .await;
    let (_dir, dest) = staging();
    std::fs::write(&dest, &body[..CUT]).unwrap();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("range"), None);
}

#[tokio::test]
async fn complete_file_on_disk_is_verified_without_a_request() {
    let body = data(SIZE);
    let server = Server::http(|_, _| respond("500 Internal Server Error", &[], b"")).await;
    let (_dir, dest) = staging();
    std::fs::write(&dest, &body).unwrap();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    d.result.unwrap();
    assert!(server.requests().is_empty());
    assert_eq!(d.calls, vec![(SIZE as u64, SIZE as u64)]);
}

// ---------------------------------------------------------------- length and hash

#[tokio::test]
async fn body_longer_than_expected_is_cut_off_as_too_long() {
    let body = data(SIZE);
    let b = body.clone();
    // No Content-Length: the body runs to the close, far past the expected size.
    let server = Server::http(move |_, _| {
        let mut bytes = head("200 OK", &[]);
        bytes.extend_from_slice(&b);
        bytes.extend_from_slice(&data(4 * SIZE));
        vec![Step::Send(bytes)]
    })
    .await;
    let (_dir, dest) = staging();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    assert!(
        matches!(d.result, Err(FetchError::TooLong { limit, .. }) if limit == SIZE as u64),
        "{:?}",
        d.result
    );
    assert_eq!(server.requests().len(), 1, "TooLong is not retried");
    assert!(!dest.exists(), "an overlong download leaves no file");
}

#[tokio::test]
async fn announced_length_over_expected_is_refused_before_the_body() {
    let body = data(SIZE);
    let big = data(SIZE + 1);
    let server = Server::http(move |_, _| full(&big)).await;
    let (_dir, dest) = staging();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    assert!(
        matches!(d.result, Err(FetchError::TooLong { limit, .. }) if limit == SIZE as u64),
        "{:?}",
        d.result
    );
}

#[tokio::test]
async fn announced_length_under_expected_is_a_wrong_length() {
    let body = data(SIZE);
    let short = body[..SIZE - 10].to_vec();
    let server = Server::http(move |_, _| full(&short)).await;
    let (_dir, dest) = staging();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    assert!(
        matches!(d.result, Err(FetchError::WrongLength { announced, expected, .. })
            if announced == (SIZE - 10) as u64 && expected == SIZE as u64),
        "{:?}",
        d.result
    );
    assert_eq!(server.requests().len(), 1, "WrongLength is not retried");
}

#[tokio::test]
async fn wrong_bytes_fail_the_hash_and_the_file_is_deleted() {
    let body = data(SIZE);
    let mut evil = body.clone();
    evil[SIZE / 2] ^= 1;
    let server = Server::http(move |_, _| full(&evil)).await;
    let (_dir, dest) = staging();
    let d = download(&fetcher(), &server.url("/b.zip"), &dest, &body).await;
    match d.result {
        Err(FetchError::HashMismatch { expected, got }) => {
            assert_eq!(expected, sha256_hex(&body));
            assert_ne!(got, expected);
        }
        other => panic!("expected HashMismatch, got {other:?}"),
    }
    assert!(!dest.exists());
    assert_eq!(
        server.requests().len(),
        1,
        "a clean mismatch is not retried"
    );
}
