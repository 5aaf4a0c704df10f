//! The delta plan of a signed manifest: which files a device takes from its local copies and
//! which objects it fetches, and what they weigh (`delta::plan_from`, the decision half of
//! `delta::plan`). Input: one byte choosing which hashes the device holds, then the manifest
//! JSON (seeded from the vectors' manifest, like the `manifest` target).
//! Defends: arithmetic on signed sizes (any `u64` a publisher signs: object sizes, the
//! delta's total and an install's free-space need must not overflow, nor wrap into a small
//! figure), and the plan's
//! bookkeeping: every signed file is planned exactly once, in order, local only when held,
//! identical files fetched once.
#![no_main]

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use liveship::release::Manifest;
use liveship::{crypto, delta};

fuzz_target!(|data: &[u8]| {
    let Some((&held, json)) = data.split_first() else {
        return;
    };
    let Ok(m) = serde_json::from_slice::<Manifest>(json) else {
        return;
    };
    // Only what a device could be handed: a manifest that meets the format's rules.
    if m.check_constraints().is_err() {
        return;
    }
    // The device holds the hashes whose first byte is below `held`.
    let index: HashMap<String, PathBuf> = m
        .files
        .iter()
        .filter(|f| u8::from_str_radix(f.sha256.get(..2).unwrap_or("ff"), 16).unwrap_or(255) < held)
        .map(|f| (f.sha256.clone(), PathBuf::from("local").join(&f.path)))
        .collect();

    let plan = delta::plan_from(&index, &m);

    // Every file once, in the signed order, split by whether its hash is held.
    let mut local = plan.local.iter().map(|(f, _)| f).peekable();
    let mut remote = plan.remote.iter().peekable();
    for f in &m.files {
        let next = if index.contains_key(&f.sha256) {
            local.next()
        } else {
            remote.next()
        };
        assert_eq!(next, Some(f));
    }
    assert!(local.next().is_none() && remote.next().is_none());
    for (f, src) in &plan.local {
        assert_eq!(Some(src), index.get(&f.sha256));
    }

    // What the fetched objects weigh, summed without overflow: the plan says the same, or
    // saturates at u64::MAX where the true figure does not fit (a delta never looks cheaper
    // than it is).
    let encrypted = m.bundle.encryption.is_some();
    let mut seen = HashSet::new();
    let mut want: u128 = 0;
    for f in &plan.remote {
        if seen.insert(&f.sha256) {
            let seg = crypto::SEGMENT_SIZE as u128;
            let size = f.size as u128;
            want += if encrypted {
                size + size.div_ceil(seg).max(1) * crypto::TAG_SIZE as u128
            } else {
                size
            };
        }
    }
    assert_eq!(plan.remote_bytes as u128, want.min(u64::MAX as u128));

    // The free space an install asks for covers every file and the object, saturating too.
    let need = liveship::install::space_needed(&m) as u128;
    let files: u128 = m.files.iter().map(|f| f.size as u128).sum();
    let zip = if encrypted { m.bundle.size as u128 } else { 0 };
    assert!(need >= (files + zip).min(u64::MAX as u128));
});
