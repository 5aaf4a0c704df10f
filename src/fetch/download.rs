//! Resumable object download: streams to disk with flat memory, resumes from the bytes already
//! on disk (`Range`), hashes while streaming (the prefix on disk included), reports throttled
//! progress, and returns `Ok` only for a file of exactly the expected size and SHA-256, fsynced.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::Instant;

use reqwest::header::{HeaderMap, CONTENT_RANGE, RANGE};
use reqwest::{Response, StatusCode, Url};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{
    check_url, redact, status_failure, Failure, FetchError, Fetcher, RateMeter, PROGRESS_INTERVAL,
};
use crate::fs::{io, IoError};

/// A file on disk with the size and SHA-256 of its bytes, computed once: while the download
/// streamed them to disk (the prefix of a resumed download included), or by one read of a local
/// file ([`VerifiedObject::measure`]). A download returns one only when the digest matched the
/// expected one, when one was given. The install compares it with the signed manifest instead
/// of hashing the file again. Only this crate makes one, so holding one means it was measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedObject {
    path: PathBuf,
    sha256: String,
    size: u64,
}

impl VerifiedObject {
    /// Reads `path` once and records its size and SHA-256.
    pub fn measure(path: &Path) -> Result<VerifiedObject, IoError> {
        let file = std::fs::File::open(path).map_err(io("opening", path))?;
        let (size, sha256) = crate::crypto::sha256_reader(file).map_err(io("reading", path))?;
        Ok(VerifiedObject {
            path: path.to_path_buf(),
            sha256,
            size,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Fetcher {
    /// Downloads `url` into `dest` (a staging file), resuming from the bytes already there.
    ///
    /// Returns `Ok` only when `dest` holds exactly `expected_size` bytes whose SHA-256 is
    /// `expected_sha256` (hex; `None` when the content is authenticated otherwise, e.g. an AEAD
    /// object the caller opens next), fsynced. A file that fails the hash check is deleted, so the next
    /// call starts clean; a file cut short by a transient failure is kept for resuming.
    /// `progress(done, total)` is called at most every [`PROGRESS_INTERVAL`] while bytes
    /// arrive, and once more with `(total, total)` on success.
    pub async fn download(
        &self,
        url: &Url,
        dest: &Path,
        expected_size: u64,
        expected_sha256: Option<&str>,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<VerifiedObject, FetchError> {
        check_url(url, self.cfg.allow_insecure_loopback)?;
        let expected_sha256 = expected_sha256.map(str::to_ascii_lowercase);
        let expected_sha256 = expected_sha256.as_deref();
        self.with_retries("download", url, |_| {
            self.download_attempt(url, dest, expected_size, expected_sha256, progress)
        })
        .await
    }

    /// Downloads `url` into `dest` when its size is not known in advance (a Capgo bundle: the
    /// update answer gives no size), taking at most `max_bytes`: a `Content-Length` above it, or
    /// a body that grows past it, fails with `TooLong` and leaves nothing behind. An announced
    /// `Content-Length` must then be met (`Truncated` otherwise). Each attempt starts from the
    /// first byte: without a known size a partial file cannot be checked as a prefix. Progress
    /// reports the announced size, or `max_bytes` when none is. The result's SHA-256 is what
    /// was streamed; the caller checks it against what it trusts.
    pub async fn download_unsized(
        &self,
        url: &Url,
        dest: &Path,
        max_bytes: u64,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<VerifiedObject, FetchError> {
        check_url(url, self.cfg.allow_insecure_loopback)?;
        self.with_retries("download", url, |_| async {
            let mut file = tokio::fs::File::create(dest)
                .await
                .map_err(io("creating", dest))?;
            let mut resp = self.send(self.client.get(url.clone()), url).await?;
            if resp.status() != StatusCode::OK {
                return Err(status_failure(&resp, url));
            }
            let announced = resp.content_length();
            if announced.is_some_and(|n| n > max_bytes) {
                drop(file);
                remove(dest).await?;
                return Err(FetchError::TooLong {
                    limit: max_bytes,
                    url: redact(url),
                }
                .into());
            }
            let (mut have, mut hasher) = (0u64, Sha256::new());
            let mut reporter = Progress::new(progress, announced.unwrap_or(max_bytes));
            let limit = announced.unwrap_or(max_bytes);
            let streamed = self
                .stream_body(
                    &mut resp,
                    &mut file,
                    dest,
                    &mut have,
                    &mut hasher,
                    limit,
                    url,
                    &mut reporter,
                )
                .await;
            file.flush().await.map_err(io("writing", dest))?;
            if let Err(failure) = streamed {
                drop(file);
                remove(dest).await?;
                return Err(failure);
            }
            if announced.is_some_and(|n| have < n) {
                return Err(FetchError::Truncated {
                    got: have,
                    expected: announced,
                    url: redact(url),
                }
                .into());
            }
            finish(file, dest, have, hasher, None, false, &mut reporter).await
        })
        .await
    }

    async fn download_attempt(
        &self,
        url: &Url,
        dest: &Path,
        expected_size: u64,
        expected_sha256: Option<&str>,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<VerifiedObject, Failure> {
        let mut file = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dest)
            .await
            .map_err(io("opening", dest))?;
        let (mut have, mut hasher) = hash_prefix(&mut file, dest, expected_size).await?;
        let mut reporter = Progress::new(progress, expected_size);

        if have == expected_size {
            // A previous run got every byte (and may have died before returning).
            return finish(
                file,
                dest,
                have,
                hasher,
                expected_sha256,
                false,
                &mut reporter,
            )
            .await;
        }
        let resumed = have > 0;
        let mut req = self.client.get(url.clone());
        if resumed {
            log::info!("download {}: resuming from byte {have}", redact(url));
            req = req.header(RANGE, format!("bytes={have}-"));
        }
        let mut resp = self.send(req, url).await?;
        match resp.status() {
            StatusCode::PARTIAL_CONTENT if resumed => {
                if !content_range_continues(resp.headers(), have, expected_size) {
                    let got = header_string(resp.headers(), CONTENT_RANGE);
                    log::warn!(
                        "download {}: Content-Range {got:?} does not continue byte {have}; restarting",
                        redact(url)
                    );
                    truncate(&mut file, dest).await?;
                    let from = have;
                    return Err(Failure::retry_now(FetchError::BadContentRange {
                        from,
                        got,
                        url: redact(url),
                    }));
                }
            }
            StatusCode::PARTIAL_CONTENT => {
                return Err(FetchError::BadContentRange {
                    from: 0,
                    got: header_string(resp.headers(), CONTENT_RANGE),
                    url: redact(url),
                }
                .into());
            }
            StatusCode::OK => {
                if resumed {
                    log::info!("download {}: server ignored Range; restarting", redact(url));
                    truncate(&mut file, dest).await?;
                    have = 0;
                    hasher = Sha256::new();
                }
                match resp.content_length() {
                    Some(n) if n > expected_size => {
                        return Err(FetchError::TooLong {
                            limit: expected_size,
                            url: redact(url),
                        }
                        .into())
                    }
                    Some(n) if n != expected_size => {
                        return Err(FetchError::WrongLength {
                            announced: n,
                            expected: expected_size,
                            url: redact(url),
                        }
                        .into())
                    }
                    _ => {}
                }
            }
            StatusCode::RANGE_NOT_SATISFIABLE if resumed => {
                // The bytes on disk do not fit what the server has: start over.
                truncate(&mut file, dest).await?;
                return Err(Failure::retry_now(FetchError::Status {
                    status: 416,
                    url: redact(url),
                }));
            }
            _ => return Err(status_failure(&resp, url)),
        }

        let streamed = self
            .stream_body(
                &mut resp,
                &mut file,
                dest,
                &mut have,
                &mut hasher,
                expected_size,
                url,
                &mut reporter,
            )
            .await;
        // Flush even on failure, so the next attempt sees every byte written as the prefix.
        file.flush().await.map_err(io("writing", dest))?;
        if let Err(failure) = streamed {
            if matches!(failure.error, FetchError::TooLong { .. }) {
                drop(file);
                remove(dest).await?;
            }
            return Err(failure);
        }
        reporter.tick(have);
        if have < expected_size {
            return Err(FetchError::Truncated {
                got: have,
                expected: Some(expected_size),
                url: redact(url),
            }
            .into());
        }
        finish(
            file,
            dest,
            have,
            hasher,
            expected_sha256,
            resumed,
            &mut reporter,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn stream_body(
        &self,
        resp: &mut Response,
        file: &mut tokio::fs::File,
        dest: &Path,
        have: &mut u64,
        hasher: &mut Sha256,
        expected_size: u64,
        url: &Url,
        reporter: &mut Progress<'_>,
    ) -> Result<(), Failure> {
        let mut meter = RateMeter::start(self.cfg.min_rate);
        while let Some(chunk) = self
            .next_chunk(resp, *have, Some(expected_size), url, &mut meter)
            .await?
        {
            let chunk = chunk.as_ref();
            if *have + chunk.len() as u64 > expected_size {
                return Err(FetchError::TooLong {
                    limit: expected_size,
                    url: redact(url),
                }
                .into());
            }
            file.write_all(chunk).await.map_err(io("writing", dest))?;
            hasher.update(chunk);
            *have += chunk.len() as u64;
            // Throttled to PROGRESS_INTERVAL, so a fast download reports a handful of times.
            reporter.tick(*have);
        }
        Ok(())
    }
}

/// Checks the hash of a complete file, fsyncs it, and makes the final progress report.
async fn finish(
    mut file: tokio::fs::File,
    dest: &Path,
    size: u64,
    hasher: Sha256,
    expected_sha256: Option<&str>,
    resumed: bool,
    reporter: &mut Progress<'_>,
) -> Result<VerifiedObject, Failure> {
    let got = hex::encode(hasher.finalize());
    if let Some(expected_sha256) = expected_sha256.filter(|e| *e != got) {
        drop(file);
        remove(dest).await?;
        let error = FetchError::HashMismatch {
            expected: expected_sha256.to_owned(),
            got,
        };
        // A resumed prefix may be what was wrong (written by another build, corrupted on
        // disk): one clean download settles it. A clean download that mismatches is final.
        return Err(if resumed {
            Failure::retry_now(error)
        } else {
            error.into()
        });
    }
    // The caller renames and extracts next; the bytes must be durable before that.
    file.flush().await.map_err(io("writing", dest))?;
    file.sync_all().await.map_err(io("syncing", dest))?;
    reporter.finish();
    Ok(VerifiedObject {
        path: dest.to_path_buf(),
        sha256: got,
        size,
    })
}

/// Hashes the bytes already in `file` (a previous run's prefix) and leaves the cursor at its
/// end. A file longer than `expected_size` cannot be a prefix and is emptied.
async fn hash_prefix(
    file: &mut tokio::fs::File,
    dest: &Path,
    expected_size: u64,
) -> Result<(u64, Sha256), FetchError> {
    let len = file.metadata().await.map_err(io("inspecting", dest))?.len();
    let mut hasher = Sha256::new();
    if len > expected_size {
        truncate(file, dest).await?;
        return Ok((0, hasher));
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut read = 0u64;
    while read < len {
        let n = file.read(&mut buf).await.map_err(io("reading", dest))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        read += n as u64;
    }
    file.seek(SeekFrom::Start(read))
        .await
        .map_err(io("seeking in", dest))?;
    Ok((read, hasher))
}

async fn truncate(file: &mut tokio::fs::File, dest: &Path) -> Result<(), FetchError> {
    file.set_len(0).await.map_err(io("truncating", dest))?;
    file.seek(SeekFrom::Start(0))
        .await
        .map_err(io("seeking in", dest))?;
    Ok(())
}

async fn remove(dest: &Path) -> Result<(), FetchError> {
    match tokio::fs::remove_file(dest).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("removing", dest)(e).into()),
        _ => Ok(()),
    }
}

/// Whether a `206`'s `Content-Range` is `bytes {from}-{total-1}/{total or *}`.
fn content_range_continues(headers: &HeaderMap, from: u64, total: u64) -> bool {
    let Some(value) = headers.get(CONTENT_RANGE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(spec) = value.trim().strip_prefix("bytes ") else {
        return false;
    };
    let Some((range, complete)) = spec.split_once('/') else {
        return false;
    };
    let Some((start, end)) = range.split_once('-') else {
        return false;
    };
    let parsed = (start.trim().parse::<u64>(), end.trim().parse::<u64>());
    let total_ok = complete.trim() == "*" || complete.trim().parse::<u64>() == Ok(total);
    matches!(parsed, (Ok(s), Ok(e)) if s == from && e + 1 == total) && total_ok
}

fn header_string(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Throttled progress reports.
struct Progress<'a> {
    report: &'a (dyn Fn(u64, u64) + Send + Sync),
    total: u64,
    last: Option<(Instant, u64)>,
}

impl<'a> Progress<'a> {
    fn new(report: &'a (dyn Fn(u64, u64) + Send + Sync), total: u64) -> Self {
        Progress {
            report,
            total,
            last: None,
        }
    }

    fn tick(&mut self, done: u64) {
        let due = match self.last {
            None => true,
            Some((at, bytes)) => done > bytes && at.elapsed() >= PROGRESS_INTERVAL,
        };
        if due {
            (self.report)(done, self.total);
            self.last = Some((Instant::now(), done));
        }
    }

    fn finish(&mut self) {
        (self.report)(self.total, self.total);
    }
}
