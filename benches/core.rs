//! Benchmarks of the paths where speed matters to users: the work `launch()` adds to app
//! start-up, opening a sealed bundle, and a whole local install. Figures and the command that
//! reproduces them are in docs/PERFORMANCE.md.

use std::hint::black_box;
use std::io::{self, Write};
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ed25519_dalek::SigningKey;
use liveship::clock::{Clock, SystemClock};
use liveship::config::Config;
use liveship::crypto;
use liveship::engine::Engine;
use liveship::publish::{self, PackOptions};
use liveship::release::{BundleKey, NativeRange, PinnedKey};

fn stream_open(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream_open");
    for size in [64 * 1024usize, 4 * 1024 * 1024] {
        let plain: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut sealed = Vec::new();
        crypto::seal_stream(&[7; 32], &[1; 7], plain.as_slice(), &mut sealed).unwrap();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &sealed, |b, sealed| {
            b.iter(|| {
                crypto::open_stream(&[7; 32], &[1; 7], sealed.as_slice(), io::sink()).unwrap()
            })
        });
    }
    group.finish();
}

struct Fixture {
    _dir: tempfile::TempDir,
    config: Config,
    data: std::path::PathBuf,
    channel_json: std::path::PathBuf,
}

fn fixture(files: usize, file_size: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(web.join("assets")).unwrap();
    std::fs::write(web.join("index.html"), b"<!doctype html><p>bench</p>").unwrap();
    for i in 0..files {
        let mut f = std::fs::File::create(web.join("assets").join(format!("f{i}.js"))).unwrap();
        let body: Vec<u8> = (0..file_size)
            .map(|j| ((i * 31 + j) % 97) as u8 + 32)
            .collect();
        f.write_all(&body).unwrap();
    }
    let signing = SigningKey::from_bytes(&[9; 32]);
    let public = signing.verifying_key().to_bytes();
    use base64::Engine;
    let pinned = PinnedKey {
        key_id: crypto::public_key_id(&public),
        public_key: base64::engine::general_purpose::STANDARD.encode(public),
        channels: vec!["*".into()],
    };
    let bundle_key = BundleKey::new(&[5; 32]);
    let repo = dir.path().join("repo");
    let opts = PackOptions {
        webdir: &web,
        repo: &repo,
        app_id: "bench.app",
        channel: "production",
        sequence: 1,
        version: "1.0.0",
        signing_key: &signing,
        bundle_key: Some(&bundle_key),
        expires_in: 86_400,
        native: NativeRange::default(),
        platforms: vec![],
        rollout: None,
        incident: None,
        now: SystemClock.now(),
    };
    let packed = publish::pack(&opts, &publish::Silent).unwrap();
    let config: Config = serde_json::from_value(serde_json::json!({
        "appId": "bench.app", "platform": "android", "nativeVersion": "1.0.0",
        "builtinDir": web, "publicKeys": [pinned], "bundleKeys": [bundle_key],
        "appReadyTimeout": 0,
    }))
    .unwrap();
    Fixture {
        data: dir.path().join("device"),
        channel_json: packed.channel_path,
        config,
        _dir: dir,
    }
}

fn open(config: &Config, data: &Path) -> Engine {
    Engine::open(config.clone(), data, liveship::events::discard()).unwrap()
}

/// `launch()` on an installed, confirmed bundle: the work native start-up waits for, beyond
/// opening the database (measured separately).
fn launch(c: &mut Criterion) {
    let fx = fixture(10, 4096);
    let u = open(&fx.config, &fx.data);
    let id = u.install_from_file(&fx.channel_json).unwrap().id;
    assert!(u.launch().trial);
    u.notify_app_ready(&id).unwrap();
    c.bench_function("launch_current", |b| b.iter(|| black_box(u.launch())));
    drop(u);
    c.bench_function("open_store_and_launch", |b| {
        b.iter(|| {
            let u = open(&fx.config, &fx.data);
            black_box(u.launch())
        })
    });
}

/// A whole local install (verify, check object, decrypt, unpack with budgets, fsync, commit).
fn install(c: &mut Criterion) {
    let mut group = c.benchmark_group("install");
    group.sample_size(10);
    for (files, size) in [(20usize, 16 * 1024usize), (100, 32 * 1024)] {
        let fx = fixture(files, size);
        group.throughput(Throughput::Bytes((files * size) as u64));
        group.bench_function(
            BenchmarkId::from_parameter(format!("{files}x{}KiB", size / 1024)),
            |b| {
                b.iter_batched(
                    || {
                        let _ = std::fs::remove_dir_all(&fx.data);
                        open(&fx.config, &fx.data)
                    },
                    |u| black_box(u.install_from_file(&fx.channel_json).unwrap()),
                    criterion::BatchSize::PerIteration,
                )
            },
        );
    }
    group.finish();
}

/// Capgo v2 bundles: AES-128-CBC decryption as one stream, hashing the plaintext (the work
/// before the RSA checksum check, which is one public-key operation).
fn capgo_decrypt(c: &mut Criterion) {
    use cbc::cipher::{block_padding::Pkcs7, BlockModeEncrypt, KeyIvInit};
    let (key, iv) = ([7u8; 16], [9u8; 16]);
    let mut group = c.benchmark_group("capgo_decrypt");
    for size in [1usize << 20, 8 << 20] {
        let plain: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let enc = cbc::Encryptor::<aes::Aes128>::new(&key.into(), &iv.into())
            .encrypt_padded_vec::<Pkcs7>(&plain);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &enc, |b, enc| {
            b.iter(|| {
                let session = liveship::capgo::SessionKey::from_parts(key, iv);
                black_box(liveship::capgo::decrypt(&session, &enc[..], std::io::sink()).unwrap())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, stream_open, launch, install, capgo_decrypt);
criterion_main!(benches);
