//! The app's configuration JSON (`plugins.Liveship`, docs/CONFIG.md) as native code hands it
//! over: parsed by `HostInfo::config_from_json`, then checked by `Config::validate`.
//! Defends: the parse and the checks never panic on any text; a configuration that parses
//! serializes and reads back as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveship::config::{self, Config};
use liveship::ffi::HostInfo;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let host = HostInfo {
        app_id: "com.example.app".into(),
        platform: "android".into(),
        native_version: "1.2.0".into(),
        native_build: Some("7".into()),
        data_dir: "/data/liveship".into(),
        builtin_dir: "/data/builtin".into(),
        os_version: Some("14".into()),
        is_emulator: false,
    };
    let Ok(cfg) = host.config_from_json(json) else {
        return;
    };
    let _ = cfg.validate();
    let value = serde_json::to_value(&cfg).expect("a config serializes");
    let again: Config = serde_json::from_value(value).expect("a serialized config parses");
    assert_eq!(again, cfg);
    let cfg = cfg.with_record_defaults();
    for v in ["1.2.0", &cfg.native_version, &cfg.builtin_version] {
        let ord = config::compare_versions(v, &cfg.default_channel);
        assert_eq!(
            ord.reverse(),
            config::compare_versions(&cfg.default_channel, v)
        );
    }
});
