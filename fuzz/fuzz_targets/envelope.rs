//! Envelope bytes as a device receives them (`channels/<channel>.json`, a dynamic server's
//! answer): decoded and verified against the pinned keys by `release::verify_envelope`.
//! Defends: the size cap, the DSSE shape, base64, signature selection and strict Ed25519
//! verification, never a panic on any byte string; whatever verifies meets every field rule.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveship::release;

fuzz_target!(|data: &[u8]| {
    let keys = liveship_fuzz::pinned_keys();
    if let Ok(verified) = release::verify_envelope(data, &keys) {
        // Only what a pinned key signed comes out, and it meets FORMAT.md's field rules.
        verified
            .manifest
            .check_constraints()
            .expect("a verified manifest meets the field rules");
        assert_eq!(verified.manifest.format, release::FORMAT_VERSION);
        let key = keys
            .iter()
            .find(|k| k.key_id == verified.key_id)
            .expect("signed by a pinned key");
        assert!(key.allows_channel(&verified.manifest.channel));
        let _ = verified.manifest.content_id();
        let _ = verified.manifest.label();
    }
});
