// Lifecycle of a Liveship device driven through the generated Swift bindings, the same scenario
// as bindings/kotlin/LifecycleTest.kt and bindings/python/test_lifecycle.py. Needs macOS: see
// docs/BUILD.md ("Swift host test") for the package layout and the command. The fixtures
// (releases published with the CLI and served on loopback) come from scripts/bindings-test.sh
// run with KEEP_WORK=1 and the printed LIVESHIP_TEST_* variables exported.

import Foundation
import XCTest

@testable import Liveship

final class Events: EventListener, @unchecked Sendable {
    private let lock = NSLock()
    private var events: [Event] = []
    let finished = DispatchSemaphore(value: 0)

    func onEvent(event: Event) {
        lock.lock()
        events.append(event)
        lock.unlock()
        switch event {
        case .updateFinished, .updateError: finished.signal()
        default: break
        }
    }

    func take() -> [Event] {
        lock.lock()
        defer { lock.unlock() }
        let out = events
        events = []
        return out
    }
}

final class Logs: Logger, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var targets: [String] = []

    func log(level: LogLevel, target: String, message: String) {
        lock.lock()
        targets.append(target)
        lock.unlock()
    }
}

final class LifecycleTests: XCTestCase {
    let env = ProcessInfo.processInfo.environment
    let appId = "com.example.liveship"

    func require(_ name: String) throws -> String {
        guard let v = env[name] else { throw XCTSkip("\(name) is not set: run scripts/bindings-test.sh with KEEP_WORK=1 first") }
        return v
    }

    func testLifecycle() throws {
        let work = try require("LIVESHIP_TEST_WORK")
        let keysJson = try String(contentsOfFile: try require("LIVESHIP_TEST_KEYS_JSON"), encoding: .utf8)
        let keys = try JSONSerialization.jsonObject(with: Data(keysJson.utf8)) as! [String: Any]
        let pinned = (keys["publicKeys"] as! [[String: Any]]).map {
            PublicKey(keyId: $0["keyId"] as! String, publicKey: $0["publicKey"] as! String, channels: $0["channels"] as! [String])
        }
        let bundleKeys = (keys["bundleKeys"] as! [[String: Any]]).map {
            BundleKey(keyId: $0["keyId"] as! String, key: $0["key"] as! String)
        }
        let dataDir = "\(work)/swift-device-\(UUID().uuidString)"
        let builtin = try require("LIVESHIP_TEST_BUILTIN")
        let logs = Logs()
        XCTAssertTrue(setLogger(logger: logs, level: .debug))
        let events = Events()

        // -- release 1: a good update, confirmed by its page
        var u: Updater? = try Updater(
            config: Config(
                appId: appId, platform: "ios", nativeVersion: "1.0.0", dataDir: dataDir, builtinDir: builtin,
                updateUrl: try require("LIVESHIP_TEST_URL_A"), updateMode: .static, publicKeys: pinned,
                bundleKeys: bundleKeys, appReadyTimeoutMs: 600_000, applyMode: .nextLaunch,
                allowInsecureLoopback: true),
            listener: events)
        XCTAssertEqual(u!.launch().id, "builtin")
        guard case let .updateAvailable(_, sequence, version, _) = try u!.check() else { return XCTFail("no update") }
        XCTAssertEqual(sequence, 1)
        XCTAssertEqual(version, "1.0.0")

        _ = events.take()
        guard case let .installed(id, _, _, _, _, _, _, applied) = try u!.downloadAndInstall() else {
            return XCTFail("not installed")
        }
        XCTAssertFalse(applied)
        XCTAssertTrue(events.take().contains { if case .download(_, 100, _, _) = $0 { return true } else { return false } })

        let trial = u!.launch()
        XCTAssertEqual(trial.id, id)
        XCTAssertTrue(trial.trial)
        XCTAssertThrowsError(try u!.notifyAppReady(bundleId: "builtin")) { error in
            guard case let LiveshipError.InvalidArgument(reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("not on trial"))
        }
        guard case .promoted = try u!.notifyAppReady(bundleId: id) else { return XCTFail("not promoted") }
        XCTAssertFalse(u!.launch().trial)
        u = nil

        // -- release 2: broken, never confirmed, reverted at the next launch
        var plugin = keys
        plugin["updateUrl"] = try require("LIVESHIP_TEST_URL_B")
        plugin["allowInsecureLoopback"] = true
        plugin["appReadyTimeout"] = 600_000
        let json = String(data: try JSONSerialization.data(withJSONObject: plugin), encoding: .utf8)!
        let host = HostInfo(appId: appId, platform: "ios", nativeVersion: "1.0.0", dataDir: dataDir, builtinDir: builtin)
        u = try Updater.fromJson(json: json, host: host, listener: events)
        XCTAssertEqual(u!.launch().id, id)
        try u!.startDownloadAndInstall()
        XCTAssertEqual(events.finished.wait(timeout: .now() + 60), .success)
        let brokenTrial = u!.launch()
        XCTAssertTrue(brokenTrial.trial)
        u = nil

        u = try Updater.fromJson(json: json, host: host, listener: events)
        let back = u!.launch()
        XCTAssertEqual(back.id, id)
        XCTAssertEqual(back.reverted?.id, brokenTrial.id)
        guard case let .noUpdate(code, _) = try u!.check() else { return XCTFail("broken release offered again") }
        XCTAssertTrue(["blocklisted", "upToDate"].contains(code))

        // A closed port is a network error.
        let offline = try Updater(
            config: Config(
                appId: appId, platform: "ios", nativeVersion: "1.0.0", dataDir: dataDir + "-offline",
                builtinDir: builtin, updateUrl: "http://127.0.0.1:9/", updateMode: .static, responseTimeout: 2,
                applyMode: .nextLaunch, allowInsecureLoopback: true),
            listener: nil)
        XCTAssertThrowsError(try offline.check()) { error in
            guard case LiveshipError.Network = error else { return XCTFail("\(error)") }
        }
        XCTAssertTrue(logs.targets.contains { $0.hasPrefix("liveship") })
    }
}
