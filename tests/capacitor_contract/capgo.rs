//! Capgo 8's methods beyond the update cycle (src/capacitor/capgo_api.rs), through the plugin
//! contract as the shells call it.

use super::*;

/// A rejection's code and message.
fn rejected_with(a: &App, method: &str, options: Value) -> (String, String) {
    let (code, message, _) = a.rejected(method, options);
    (code, message)
}

#[test]
fn urls_and_the_app_id_change_only_when_the_configuration_allows_it() {
    let a = app();
    let other = Net::repo(a.p.repo());
    let url = other.update_url();
    for (method, field, option) in [
        ("setUpdateUrl", "url", "allowModifyUrl"),
        ("setStatsUrl", "url", "allowModifyUrl"),
        ("setChannelUrl", "url", "allowModifyUrl"),
        ("setAppId", "appId", "allowModifyAppId"),
    ] {
        let (code, message) = rejected_with(&a, method, json!({ field: url }));
        assert_eq!(code, "invalidArgument", "{method}: {message}");
        assert!(message.contains(option), "{method}: {message}");
    }
    a.downloaded(1);
    assert!(
        other.server.requests().is_empty(),
        "the refused URL was used"
    );
    assert_eq!(a.ok("getAppId", json!({}))["appId"], "com.example.app");
}

#[test]
fn a_new_update_url_serves_the_next_check_and_survives_a_restart_only_when_persisted() {
    for persist in [false, true] {
        let a = app_with(|c| {
            c.allow_modify_url = true;
            c.persist_modify_url = persist;
        });
        let other = Net::repo(a.p.repo());
        for bad in ["http://example.com/repo/", "not a url", ""] {
            let (code, message) = rejected_with(&a, "setUpdateUrl", json!({ "url": bad }));
            assert_eq!(code, "invalidArgument", "{bad:?}: {message}");
        }
        a.ok("setUpdateUrl", json!({ "url": other.update_url() }));
        a.downloaded(1);
        assert!(
            !other.server.requests().is_empty(),
            "the new URL was not used"
        );

        let a = a.restart();
        let (first, second) = (a.net.server.requests().len(), other.server.requests().len());
        a.downloaded(2);
        let used_other = other.server.requests().len() > second;
        let used_first = a.net.server.requests().len() > first;
        assert_eq!(used_other, persist, "persistModifyUrl {persist}");
        assert_eq!(used_first, !persist, "persistModifyUrl {persist}");
    }
}

#[test]
fn set_app_id_changes_which_signed_releases_address_this_device() {
    let a = app_with(|c| c.allow_modify_app_id = true);
    a.p.pack(1, "one");
    let (_, message) = rejected_with(&a, "setAppId", json!({ "appId": "" }));
    assert!(message.contains("appId"), "{message}");
    a.ok("setAppId", json!({ "appId": "com.example.preview" }));
    assert_eq!(a.ok("getAppId", json!({}))["appId"], "com.example.preview");
    // The repository's releases name com.example.app: not this app any more.
    let (code, message) = rejected_with(&a, "download", json!({}));
    assert_eq!(code, "invalidArgument", "{message}");
    assert!(message.contains("wrongApp"), "{message}");
    a.ok("setAppId", json!({ "appId": "com.example.app" }));
    a.ok("download", json!({}));
}

#[test]
fn the_custom_id_is_exported_erased_with_the_data_and_kept_only_when_persisted() {
    for persist in [false, true] {
        let a = app_with(|c| c.persist_custom_id = persist);
        let exported = |a: &App| -> Value {
            serde_json::from_str(a.ok("exportData", json!({}))["json"].as_str().unwrap()).unwrap()
        };
        a.ok("setCustomId", json!({ "customId": "user-7" }));
        assert_eq!(exported(&a)["customId"], "user-7");
        let a = a.restart();
        let kept = if persist { "user-7" } else { "" };
        assert_eq!(exported(&a)["customId"], kept, "persistCustomId {persist}");
        a.ok("setCustomId", json!({ "customId": "user-8" }));
        a.ok("deleteData", json!({}));
        assert_eq!(exported(&a)["customId"], "");
        let a = a.restart();
        assert_eq!(
            exported(&a)["customId"],
            "",
            "deleteData erased the stored id"
        );
        a.ok("setCustomId", json!({ "customId": "user-9" }));
        a.ok("setCustomId", json!({ "customId": "" }));
        assert_eq!(exported(&a)["customId"], "", "an empty id clears it");
    }
}

#[test]
fn set_bundle_error_reverts_the_serving_trial_when_the_app_may_declare_it() {
    let a = app();
    let id = a.downloaded(1);
    let (code, message) = rejected_with(&a, "setBundleError", json!({ "id": id }));
    assert_eq!(code, "invalidArgument", "{message}");
    assert!(message.contains("allowManualBundleError"), "{message}");

    let a = app_with(|c| c.allow_manual_bundle_error = true);
    let id = a.downloaded(1);
    let (_, effects) = a.ok_with("set", json!({ "id": id }));
    assert_eq!(effects, vec![serve(&id, &a)]);
    a.shell.clear();
    let (bundle, effects) = a.ok_with("setBundleError", json!({ "id": id }));
    assert_eq!(bundle["status"], "error", "{bundle}");
    assert_eq!(bundle["role"], "failed", "{bundle}");
    assert_eq!(
        effects,
        vec![serve_builtin()],
        "the page reloads on what serves now"
    );
    let (failed, _) = a.shell.event("updateFailed");
    assert_eq!(failed["bundle"]["id"], id.as_str(), "{failed}");
    assert_eq!(a.ok("current", json!({}))["bundle"]["id"], "builtin");
    // Never offered again.
    let (code, message) = rejected_with(&a, "download", json!({}));
    assert_eq!(code, "invalidArgument", "{message}");
    // A bundle that is not serving is failed without a reload; one failed already stays so.
    let next = a.downloaded(2);
    let (bundle, effects) = a.ok_with("setBundleError", json!({ "id": next }));
    assert_eq!(bundle["status"], "error");
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(a.ok("getNextBundle", json!({})), Value::Null);
    a.ok("setBundleError", json!({ "id": next }));
    a.refused("setBundleError", json!({ "id": "builtin" }), "id");
}

#[test]
fn missing_files_and_their_sizes_come_from_the_signed_file_list() {
    let a = app();
    a.downloaded(1);
    a.p.pack(2, "two"); // main.js differs; index.html and the assets are the same
    let missing = a.ok("getMissingBundleFiles", json!({}));
    assert_eq!(missing["total"], 10, "{missing}");
    assert_eq!(missing["missingCount"], 1, "{missing}");
    assert_eq!(missing["reusableCount"], 9, "{missing}");
    let entry = &missing["missing"][0];
    assert_eq!(entry["file_name"], "main.js", "{missing}");
    let hash = entry["file_hash"].as_str().unwrap();
    assert!(
        entry["download_url"].as_str().unwrap().ends_with(hash),
        "{entry}"
    );

    let size = a.ok(
        "getBundleDownloadSize",
        json!({ "manifest": missing["missing"] }),
    );
    assert_eq!(size["knownFiles"], 1, "{size}");
    assert_eq!(size["unknownFiles"], 0, "{size}");
    let one = size["files"][0]["size"].as_u64().unwrap();
    assert!(one > 200 * 20, "main.js's sealed object: {size}");
    assert_eq!(size["totalSize"].as_u64(), Some(one));

    // Entries the app passes: matched by content; unknown ones are missing and unsized.
    let local = a.ok("getMissingBundleFiles", json!({}))["missing"][0].clone();
    let given = json!([
        {"file_name": "main.js", "file_hash": local["file_hash"], "download_url": null},
        {"file_name": "index.html", "file_hash": "00".repeat(32), "download_url": null},
        {"file_name": null, "file_hash": null, "download_url": null},
    ]);
    let m = a.ok("getMissingBundleFiles", json!({ "manifest": given }));
    assert_eq!(
        m["missingCount"], 3,
        "nothing of these is on the device yet: {m}"
    );
    let s = a.ok("getBundleDownloadSize", json!({ "manifest": given }));
    assert_eq!(s["knownFiles"], 1, "{s}");
    assert_eq!(s["unknownFiles"], 2, "{s}");
    assert!(s["files"][1]["error"]
        .as_str()
        .unwrap()
        .contains("signed file list"));

    a.refused(
        "getMissingBundleFiles",
        json!({ "version": "9.9.9" }),
        "version",
    );
    a.refused(
        "getMissingBundleFiles",
        json!({ "manifest": "x" }),
        "manifest",
    );
    a.refused(
        "getBundleDownloadSize",
        json!({ "manifest": [{"file_hash": 7}] }),
        "manifest",
    );
    a.ok("download", json!({}));
    let (code, message) = rejected_with(&a, "getMissingBundleFiles", json!({}));
    assert_eq!(code, "invalidArgument", "nothing on offer: {message}");
}

#[test]
fn trigger_update_check_queues_a_cycle_as_capgo_answers() {
    let a = app();
    a.downloaded(1);
    let queued = a.ok("triggerUpdateCheck", json!({}));
    assert_eq!(queued, json!({"status": "queued", "queued": true}));
    let (result, _) = a.shell.event("updateCheckResult");
    assert_eq!(result["outcome"], "noUpdate", "{result}");
    assert_eq!(result["kind"], "up_to_date", "{result}");
    assert_eq!(result["bundle"]["id"], "builtin", "{result}");
    a.shell.wait("the end of the cycle", |s| {
        s.effects
            .contains(&Effect::UpdateRunning { running: false })
            .then_some(())
    });

    let none = app_with(|c| c.update_url = None);
    assert_eq!(
        none.ok("triggerUpdateCheck", json!({})),
        json!({"status": "unavailable", "queued": false})
    );
    assert_eq!(
        none.ok("isAutoUpdateAvailable", json!({})),
        json!({"available": false})
    );
    assert_eq!(
        a.ok("isAutoUpdateAvailable", json!({})),
        json!({"available": true})
    );
}

#[test]
fn a_release_for_another_native_build_announces_that_a_native_update_is_needed() {
    let a = app();
    a.p.pack_with("production", 1, "one", |o| {
        o.native.min = Some("99.0.0".into());
    });
    let (code, message) = rejected_with(&a, "download", json!({}));
    assert_eq!(code, "invalidArgument", "{message}");
    let (breaking, _) = a.shell.event("breakingAvailable");
    assert_eq!(breaking, json!({"version": "1.0.1"}));
    let (major, _) = a.shell.event("majorAvailable");
    assert_eq!(major, breaking, "Capgo's older name, sent with it");
}

/// A Capgo-style channel endpoint at `/channel_self`: devices may choose `beta`; `production`
/// is the public default (set answers `unset`); `private` refuses self-assignment; anything
/// else is not found. *Get* answers the channel last set, if any.
fn channel_backend() -> Net {
    let chosen = Arc::new(Mutex::new(None::<String>));
    Net::scripted(move |_, req| {
        let reply = |status: &str, body: Value| {
            support::respond(
                status,
                &[("Content-Type", "application/json".into())],
                body.to_string().as_bytes(),
            )
        };
        let info: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        match (req.method.as_str(), req.path.split('?').next().unwrap()) {
            ("POST", "/channel_self") => match info["channel"].as_str() {
                Some("beta") => {
                    *chosen.lock().unwrap() = Some("beta".into());
                    reply("200 OK", json!({"status": "ok"}))
                }
                Some("production") => reply("200 OK", json!({"status": "ok", "unset": true})),
                Some("private") => reply(
                    "400 Bad Request",
                    json!({"error": "channel_self_set_not_allowed", "message": "This channel does not allow devices to self associate"}),
                ),
                _ => reply(
                    "400 Bad Request",
                    json!({"error": "channel_not_found", "message": "Cannot find channel"}),
                ),
            },
            ("PUT", "/channel_self") => match chosen.lock().unwrap().clone() {
                Some(c) => reply(
                    "200 OK",
                    json!({"channel": c, "status": "override", "allowSet": true}),
                ),
                None => reply(
                    "400 Bad Request",
                    json!({"error": "channel_not_found", "message": "No channel"}),
                ),
            },
            ("GET", "/channel_self") if req.path.contains("app_id=com.example.app") => reply(
                "200 OK",
                json!([
                    {"id": 1, "name": "production", "public": true, "allow_self_set": false},
                    {"id": 2, "name": "beta", "public": false, "allow_self_set": true},
                ]),
            ),
            _ => reply(
                "404 Not Found",
                json!({"error": "not_found", "message": "?"}),
            ),
        }
    })
}

#[test]
fn capgo_modes_channel_calls_go_to_the_channel_endpoint_and_the_device_follows_its_answers() {
    let backend = channel_backend();
    let url = backend.server.url("/channel_self").to_string();
    let a = app_with(move |c| {
        c.update_mode = liveship::config::UpdateMode::Capgo;
        c.allow_unsigned_capgo_bundles = true;
        c.channel_url = Some(url.clone());
    });
    assert_eq!(
        a.ok("getChannel", json!({})),
        json!({"channel": "production", "status": "default", "allowSet": true}),
        "no channel on the endpoint: the default"
    );
    let listed = a.ok("listChannels", json!({}));
    assert_eq!(listed["channels"][1]["name"], "beta", "{listed}");
    assert_eq!(listed["channels"][0]["allow_self_set"], false, "{listed}");

    a.ok("setChannel", json!({"channel": "beta"}));
    assert_eq!(a.ok("getChannel", json!({}))["channel"], "beta");
    let set: Value = serde_json::from_slice(
        &backend
            .server
            .requests()
            .iter()
            .find(|r| r.method == "POST")
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(set["channel"], "beta", "{set}");
    assert_eq!(
        set["app_id"], "com.example.app",
        "the info object goes with it: {set}"
    );

    // A channel devices may not choose: refused, named in channelPrivate, and not followed.
    let (code, message) = rejected_with(&a, "setChannel", json!({"channel": "private"}));
    assert_eq!(code, "invalidArgument", "{message}");
    assert!(
        message.contains("channel_self_set_not_allowed"),
        "{message}"
    );
    let (private, _) = a.shell.event("channelPrivate");
    assert_eq!(private["channel"], "private", "{private}");
    let (code, _) = rejected_with(&a, "setChannel", json!({"channel": "nope"}));
    assert_eq!(code, "invalidArgument");
    let exported: Value =
        serde_json::from_str(a.ok("exportData", json!({}))["json"].as_str().unwrap()).unwrap();
    assert_eq!(
        exported["channel"], "beta",
        "a refused channel is not followed"
    );

    // The public default answers `unset`: the override is forgotten.
    a.ok("setChannel", json!({"channel": "production"}));
    let exported: Value =
        serde_json::from_str(a.ok("exportData", json!({}))["json"].as_str().unwrap()).unwrap();
    assert_eq!(exported["channel"], "production");

    // Outside Capgo mode there is no list to ask.
    let (code, message) = rejected_with(&app(), "listChannels", json!({}));
    assert_eq!(code, "unavailable", "{message}");
}

/// The platform file and action a call is handed to, and its options.
fn native(a: &App, method: &str, options: Value) -> (String, String, Value) {
    match a.call(method, options) {
        Reply::Native {
            feature,
            action,
            options,
        } => (feature, action, serde_json::from_str(&options).unwrap()),
        other => panic!("{method} was not handed to the platform: {other:?}"),
    }
}

#[test]
fn store_updates_go_to_the_platform_file_with_the_addresses_made_in_the_core() {
    let android = app_with(|c| c.platform = "android".into());
    let (feature, action, options) = native(&android, "openAppStore", json!({}));
    assert_eq!((feature.as_str(), action.as_str()), ("appStore", "open"));
    assert_eq!(
        options["urls"],
        json!([
            "market://details?id=com.example.app",
            "https://play.google.com/store/apps/details?id=com.example.app"
        ])
    );
    let (_, _, options) = native(
        &android,
        "openAppStore",
        json!({"packageName": "com.other"}),
    );
    assert_eq!(options["urls"][0], "market://details?id=com.other");
    for (method, action) in [
        ("getAppUpdateInfo", "info"),
        ("performImmediateUpdate", "immediate"),
        ("startFlexibleUpdate", "flexible"),
        ("completeFlexibleUpdate", "complete"),
    ] {
        let (feature, got, _) = native(&android, method, json!({}));
        assert_eq!(
            (feature.as_str(), got.as_str()),
            ("appUpdate", action),
            "{method}"
        );
    }

    let ios = app_with(|c| c.platform = "ios".into());
    ios.refused("openAppStore", json!({}), "appId");
    ios.refused("openAppStore", json!({"appId": "com.example.app"}), "appId");
    let (_, _, options) = native(&ios, "openAppStore", json!({"appId": "1234567"}));
    assert_eq!(
        options["urls"],
        json!(["itms-apps://itunes.apple.com/app/id1234567"])
    );
    let (feature, action, options) = native(&ios, "getAppUpdateInfo", json!({"country": "FR"}));
    assert_eq!((feature.as_str(), action.as_str()), ("appStore", "info"));
    assert_eq!(
        options["lookupUrl"],
        "https://itunes.apple.com/lookup?bundleId={bundleId}&country=fr"
    );
    ios.refused("getAppUpdateInfo", json!({"country": "France"}), "country");
    for method in [
        "performImmediateUpdate",
        "startFlexibleUpdate",
        "completeFlexibleUpdate",
    ] {
        let (code, message) = rejected_with(&ios, method, json!({}));
        assert_eq!(code, "unavailable", "{method}");
        assert!(message.contains("only on Android"), "{message}");
    }
    let desktop = app_with(|c| c.platform = "linux".into());
    let (code, _) = rejected_with(&desktop, "getAppUpdateInfo", json!({}));
    assert_eq!(code, "unavailable");
}

#[test]
fn the_app_stores_lookup_answer_becomes_capgos_app_update_info() {
    use liveship::capacitor::capgo_api::app_store_info;
    let lookup = json!({"resultCount": 1, "results": [{
        "version": "2.1.0", "currentVersionReleaseDate": "2026-11-30T10:00:00Z", "minimumOsVersion": "15.0"
    }]})
    .to_string();
    let info: Value =
        serde_json::from_str(&app_store_info(lookup.clone(), "2.0.9".into(), "42".into())).unwrap();
    assert_eq!(info["updateAvailability"], 2, "{info}");
    assert_eq!(info["availableVersionName"], "2.1.0");
    assert_eq!(info["availableVersionReleaseDate"], "2026-11-30T10:00:00Z");
    assert_eq!(info["minimumOsVersion"], "15.0");
    assert_eq!(
        (
            info["currentVersionName"].as_str(),
            info["currentVersionCode"].as_str()
        ),
        (Some("2.0.9"), Some("42"))
    );
    let same: Value =
        serde_json::from_str(&app_store_info(lookup, "2.1.0".into(), "43".into())).unwrap();
    assert_eq!(same["updateAvailability"], 1, "{same}");
    let unknown: Value = serde_json::from_str(&app_store_info(
        r#"{"resultCount":0,"results":[]}"#.into(),
        "1.0".into(),
        "1".into(),
    ))
    .unwrap();
    assert_eq!(unknown["updateAvailability"], 0, "{unknown}");
}

#[test]
fn the_debug_menu_is_decided_in_the_core_and_its_choices_are_carried_out_there() {
    let a = app();
    assert_eq!(a.ok("isShakeMenuEnabled", json!({}))["enabled"], false);
    assert_eq!(a.plugin.shake_menu(), None, "off until enabled");
    let (_, effects) = a.ok_with("setShakeMenu", json!({"enabled": true}));
    assert_eq!(effects, vec![Effect::ShakeMenu { enabled: true }]);
    assert_eq!(a.ok("isShakeMenuEnabled", json!({}))["enabled"], true);
    let menu = a.plugin.shake_menu().unwrap();
    let ids: Vec<&str> = menu.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        ["reload", "reset", "close"],
        "no channels without the selector"
    );
    assert!(menu.title.contains("production"), "{}", menu.title);

    // The channel selector offers the channels the pinned keys may sign for, but the current one.
    let b = app_with(|c| {
        c.shake_menu = true;
        c.allow_shake_channel_selector = true;
        let mut beta = c.public_keys[0].clone();
        beta.channels = vec!["beta".into(), "production".into()];
        c.public_keys.push(beta);
    });
    let started = b.plugin.start();
    assert!(
        started
            .effects
            .contains(&Effect::ShakeMenu { enabled: true }),
        "{:?}",
        started.effects
    );
    let menu = b.plugin.shake_menu().unwrap();
    let ids: Vec<&str> = menu.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["reload", "reset", "channel:beta", "close"]);
    b.plugin.shake_choice("channel:beta".into());
    assert_eq!(b.ok("getChannel", json!({}))["channel"], "beta");

    // Reset serves the built-in bundle; close and unknown ids do nothing.
    let id = a.downloaded(1);
    a.ok("set", json!({ "id": id }));
    assert_eq!(a.plugin.shake_choice("reset".into()), vec![serve_builtin()]);
    assert_eq!(a.ok("current", json!({}))["bundle"]["id"], "builtin");
    assert!(a.plugin.shake_choice("close".into()).is_empty());
    assert!(a.plugin.shake_choice("rm -rf".into()).is_empty());
    let (_, effects) = b.ok_with("setShakeMenu", json!({"enabled": false}));
    assert_eq!(
        effects,
        vec![Effect::ShakeMenu { enabled: true }],
        "the selector still watches"
    );
    let (_, effects) = b.ok_with("setShakeChannelSelector", json!({"enabled": false}));
    assert_eq!(effects, vec![Effect::ShakeMenu { enabled: false }]);
    assert_eq!(b.plugin.shake_menu(), None);
}

/// An app that may preview channel `pr-7` (its key may sign for production and `pr-7`).
fn previewing() -> App {
    app_with(|c| {
        c.allow_preview = true;
        c.public_keys[0].channels = vec!["production".into(), "pr-7".into()];
    })
}

#[test]
fn a_preview_serves_beside_the_production_line_and_is_never_confirmed_into_it() {
    let a = app();
    let (code, message) = rejected_with(&a, "startPreviewSession", json!({"name": "pr-7"}));
    assert_eq!(code, "invalidArgument", "{message}");
    assert!(message.contains("allowPreview"), "{message}");

    let a = previewing();
    let live = a.downloaded(1);
    a.ok("set", json!({ "id": live }));
    a.ok("notifyAppReady", json!({ "bundleId": live }));
    a.p.pack_with("pr-7", 1, "the pull request", |_| {});
    a.refused(
        "startPreviewSession",
        json!({"name": "pr-7", "appId": "com.other"}),
        "appId",
    );
    let (_, effects) = a.ok_with(
        "startPreviewSession",
        json!({"name": "pr-7", "source": "qr"}),
    );
    let listed = a.ok("listPreviews", json!({}));
    let preview = listed["current"]["id"].as_str().unwrap().to_string();
    assert_eq!(effects, vec![serve(&preview, &a)], "the preview serves now");
    assert_eq!(listed["current"]["source"], "qr", "{listed}");
    assert_eq!(listed["current"]["channel"], "pr-7", "{listed}");
    assert_eq!(listed["liveBundle"]["id"], live.as_str(), "{listed}");
    assert_eq!(listed["currentBundle"]["id"], preview.as_str(), "{listed}");

    // Its page confirms that it started; the production line is untouched.
    a.ok("notifyAppReady", json!({ "bundleId": preview }));
    let a = a.restart();
    assert_eq!(
        a.plugin.start().bundle_id,
        preview,
        "a confirmed preview serves after a restart"
    );
    a.ok("notifyAppReady", json!({ "bundleId": preview }));
    let exported: Value =
        serde_json::from_str(a.ok("exportData", json!({}))["json"].as_str().unwrap()).unwrap();
    assert_eq!(
        exported["channel"], "production",
        "the device still follows production"
    );
    let (_, effects) = a.ok_with("resetPreview", json!({}));
    assert_eq!(
        effects,
        vec![serve(&live, &a)],
        "the production line serves again"
    );
    assert_eq!(a.ok("current", json!({}))["bundle"]["id"], live.as_str());
    assert_eq!(
        a.ok("listPreviews", json!({}))["previews"][0]["isActive"],
        false,
        "kept, not serving"
    );

    // A preview whose page never confirms ends at the next launch, like a trial.
    let (_, effects) = a.ok_with("setPreview", json!({ "id": preview }));
    assert_eq!(effects, vec![serve(&preview, &a)]);
    let a = a.restart();
    assert_eq!(
        a.plugin.start().bundle_id,
        preview,
        "launched as the preview"
    );
    let a = a.restart(); // killed before its page confirmed
    assert_eq!(
        a.plugin.start().bundle_id,
        live,
        "the preview ended; production serves"
    );

    // Newer release on the preview's channel: checked, then installed as the preview's bundle.
    let check = a.ok("checkPreviewUpdate", json!({ "id": preview }));
    assert_eq!(
        (check["upToDate"].as_bool(), check["updated"].as_bool()),
        (Some(true), Some(false)),
        "{check}"
    );
    a.p.pack_with("pr-7", 2, "the pull request, again", |_| {});
    let check = a.ok("checkPreviewUpdate", json!({ "id": preview }));
    assert_eq!(check["latestVersion"], "1.0.2", "{check}");
    assert_eq!(check["upToDate"], false, "{check}");
    let updated = a.ok("updatePreview", json!({ "id": preview }));
    assert_eq!(updated["updated"], true, "{updated}");
    let newer = updated["preview"]["id"].as_str().unwrap().to_string();
    assert_ne!(newer, preview);
    assert_eq!(updated["preview"]["source"], "qr", "labels kept: {updated}");
    let ids: Vec<String> = a.ok("list", json!({}))["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !ids.contains(&preview),
        "the old preview bundle is gone: {ids:?}"
    );

    // Deleted: gone from the list and the device; a production update is unaffected meanwhile.
    assert_eq!(
        a.ok("deletePreview", json!({ "id": newer })),
        json!({"removed": true, "deleted": true})
    );
    assert_eq!(a.ok("listPreviews", json!({}))["previews"], json!([]));
    assert_eq!(
        a.ok("deletePreview", json!({ "id": newer })),
        json!({"removed": false, "deleted": false})
    );
    assert_eq!(a.ok("current", json!({}))["bundle"]["id"], live.as_str());
}

#[test]
fn a_channel_no_pinned_key_may_sign_for_is_not_previewed() {
    let a = previewing();
    a.p.pack_with("pr-8", 1, "not allowed", |_| {});
    let (code, _, check) = a.rejected("startPreviewSession", json!({"name": "pr-8"}));
    assert_eq!(code, "verification");
    assert_eq!(check.as_deref(), Some("release.keyNotAllowedForChannel"));
    assert_eq!(a.ok("listPreviews", json!({}))["previews"], json!([]));
    a.refused("startPreviewSession", json!({}), "name");
    let (code, message) = rejected_with(&a, "startPreviewSession", json!({"name": "production"}));
    assert_eq!(
        code, "invalidArgument",
        "the channel it follows is no preview: {message}"
    );
}
