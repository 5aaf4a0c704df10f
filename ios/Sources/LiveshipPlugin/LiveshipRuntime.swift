// The process-wide half of the iOS shell: one `CapacitorPlugin` (src/capacitor) per process,
// shared by the plugin class and the background task; the listener that hands the core's events
// and effects to the loaded plugin instance; the data folders; the effects that need no WebView.
//
// Storage: Capacitor serves live-update bundles from Library/NoCloud/ionic_built_snapshots/<id>.
// The core keeps its state in Library/NoCloud/liveship and its bundles in <dataDir>/bundles, a
// symbolic link to ionic_built_snapshots, so every bundle directory the core creates (an atomic
// rename from <dataDir>/staging on the same volume) is where Capacitor requires it.
import Foundation
import BackgroundTasks
import UIKit
import os.log

final class LiveshipRuntime: @unchecked Sendable {
    static let shared = LiveshipRuntime()
    static let log = OSLog(subsystem: "io.liveship", category: "Liveship")

    /// Guards `core`: one core per process.
    private let lock = NSLock()
    private var core: CapacitorPlugin?
    /// Guards `plugin`, written on main and read on the core's threads (an unguarded event sink
    /// was defect #9); its own lock, as the core may send while `lock` is held.
    private let pluginLock = NSLock()
    private weak var plugin: LiveshipPlugin?
    /// The background task held while an update runs (`Effect.updateRunning`); main thread only.
    private var updateTask = UIBackgroundTaskIdentifier.invalid

    /// The process's core, opened on first use from the `plugins.Liveship` object. Never fails:
    /// a configuration the core refuses gives a core that serves the built-in bundle and whose
    /// calls reject with the reason.
    func open(config: [String: Any]) -> CapacitorPlugin {
        lock.locked {
            if let core { return core }
            _ = setLogger(logger: OSLogger(), level: .info) // the core raises it for `development`
            do { try Self.prepareFolders() } catch {
                os_log("data folders: %{public}@", log: Self.log, type: .error, "\(error)")
            }
            let info = Bundle.main.infoDictionary ?? [:]
            // The build number too: Capacitor's isNewBinary (CAPBridgeViewController) treats a
            // change of CFBundleVersion or CFBundleShortVersionString as a new binary and serves
            // the built-in assets; the core must see the same change (`nativeBuild`).
            let host = HostInfo(appId: Bundle.main.bundleIdentifier ?? "app", platform: "ios",
                                nativeVersion: info["CFBundleShortVersionString"] as? String ?? "0",
                                nativeBuild: info["CFBundleVersion"] as? String, dataDir: Self.dataDir.path,
                                builtinDir: Bundle.main.url(forResource: "public", withExtension: nil)?.path ?? "",
                                osVersion: ProcessInfo.processInfo.operatingSystemVersionString,
                                isEmulator: Self.isSimulator)
            // Not JSON: text the core cannot parse, so it refuses with its reason.
            let opened = CapacitorPlugin.open(configJson: Self.jsonText(config) ?? "", host: host, listener: Listener())
            core = opened
            return opened
        }
    }

    /// Events and `serve` effects go to `plugin` from now on.
    func attach(_ plugin: LiveshipPlugin) { pluginLock.locked { self.plugin = plugin } }

    private var loaded: LiveshipPlugin? { pluginLock.locked { plugin } }

    /// On the main thread, in the order given. A `serve` with no plugin loaded (a background
    /// launch) is dropped: the next start serves that bundle.
    func carryOut(_ effect: Effect) {
        DispatchQueue.main.async {
            switch effect {
            case let .serve(bundleId, path): self.loaded?.serve(bundleId: bundleId, path: path)
            // BGAppRefreshTaskRequest has no network or power constraint (BGProcessingTaskRequest
            // has, but runs rarely and needs the `processing` mode): the flags are Android's.
            case let .scheduleBackground(minutes, _, _): LiveshipBackground.schedule(afterMinutes: minutes)
            case .cancelBackground: LiveshipBackground.cancel()
            case let .updateRunning(running): self.setUpdateRunning(running)
            case let .shakeMenu(enabled): ShakeMenu.core = enabled ? self.lock.locked({ self.core }) : nil
            }
        }
    }

    /// One background task while the core runs an update, so that a download under way when the
    /// user leaves gets the extra time iOS grants. The expiration handler (main thread) ends it, as
    /// iOS requires before it suspends the app; the partial download resumes next cycle.
    private func setUpdateRunning(_ running: Bool) {
        let app = UIApplication.shared
        if running, updateTask == .invalid {
            updateTask = app.beginBackgroundTask(withName: "liveship-update") { [weak self] in
                self?.setUpdateRunning(false)
            }
        } else if !running, updateTask != .invalid {
            app.endBackgroundTask(updateTask)
            updateTask = .invalid
        }
    }

    /// The core calls these on its own threads.
    private final class Listener: PluginListener {
        /// With no plugin loaded (a background launch) the event is dropped.
        func notify(event: String, data: String, retain: Bool) {
            LiveshipRuntime.shared.loaded?.emit(event, LiveshipRuntime.jsonObject(data), retain: retain)
        }

        func perform(effect: Effect) { LiveshipRuntime.shared.carryOut(effect) }
    }

    private final class OSLogger: Logger {
        func log(level: LogLevel, target: String, message: String) {
            let type: OSLogType = level == .error ? .error : level == .warn ? .default : level == .info ? .info : .debug
            os_log("[%{public}@] %{public}@", log: LiveshipRuntime.log, type: type, target, message)
        }
    }

    /// JSON text of `object`; nil when it is not JSON (JSONSerialization would raise).
    static func jsonText(_ object: Any) -> String? {
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    static func jsonObject(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    static var noCloud: URL {
        FileManager.default.urls(for: .libraryDirectory, in: .userDomainMask)[0].appendingPathComponent("NoCloud", isDirectory: true)
    }
    static var snapshots: URL { noCloud.appendingPathComponent("ionic_built_snapshots", isDirectory: true) }
    /// Sent as `is_emulator` in update events (only with consent, docs/PRIVACY.md).
    static var isSimulator: Bool {
        #if targetEnvironment(simulator)
        return true
        #else
        return false
        #endif
    }

    static var dataDir: URL { noCloud.appendingPathComponent("liveship", isDirectory: true) }

    /// Capacitor's path for a bundle the core serves: <dataDir>/bundles/<id> seen through the link.
    static func servingPath(_ bundleId: String) -> String { snapshots.appendingPathComponent(bundleId).path }

    /// The `plugins.Liveship` object of the app's capacitor.config.json (for a background launch).
    static func configFromBundle() -> [String: Any] {
        guard let url = Bundle.main.url(forResource: "capacitor.config", withExtension: "json"),
              let text = try? String(contentsOf: url, encoding: .utf8) else { return [:] }
        return (jsonObject(text)["plugins"] as? [String: Any])?["Liveship"] as? [String: Any] ?? [:]
    }

    /// Creates NoCloud/liveship with `bundles` linking to ionic_built_snapshots; all three
    /// excluded from iCloud backup (downloads can be fetched again).
    private static func prepareFolders() throws {
        let fm = FileManager.default
        try fm.createDirectory(at: snapshots, withIntermediateDirectories: true)
        try fm.createDirectory(at: dataDir, withIntermediateDirectories: true)
        let link = dataDir.appendingPathComponent("bundles")
        if (try? fm.destinationOfSymbolicLink(atPath: link.path)) == nil {
            try fm.createSymbolicLink(at: link, withDestinationURL: snapshots)
        }
        for var url in [noCloud, snapshots, dataDir] {
            var values = URLResourceValues()
            values.isExcludedFromBackup = true
            try? url.setResourceValues(values)
        }
    }
}

/// The background update task. Apple requires registration before the app finishes launching:
/// call `LiveshipBackground.register()` from `application(_:didFinishLaunchingWithOptions:)`,
/// and list `io.liveship.background-update` under `BGTaskSchedulerPermittedIdentifiers` in
/// Info.plist (docs/PLUGIN.md). The core decides when it is scheduled (`Effect`).
@objc public final class LiveshipBackground: NSObject {
    public static let taskIdentifier = "io.liveship.background-update"
    /// App refresh tasks get about 30 seconds (BGAppRefreshTask); the core's own deadline ends
    /// the run well before that, so the expiration handler is only a safety net.
    static let deadlineSeconds: UInt64 = 20
    private static let lock = NSLock()
    private static var attempted = false
    private static var registered = false

    /// Registers the launch handler once. BGTaskScheduler.register(forTaskWithIdentifier:using:
    /// launchHandler:) raises NSInternalInconsistencyException when an identifier is registered
    /// twice; a second call here (an app that also registers from a scene delegate) is ignored.
    @objc public static func register() {
        lock.locked {
            guard !attempted else { return }
            attempted = true
            registered = BGTaskScheduler.shared.register(forTaskWithIdentifier: taskIdentifier, using: nil) { Self.run($0) }
            if !registered {
                os_log("BGTaskScheduler refused %{public}@: is it in BGTaskSchedulerPermittedIdentifiers?",
                       log: LiveshipRuntime.log, type: .error, taskIdentifier)
            }
        }
    }

    /// The next run no earlier than `minutes` from now (a new request replaces the pending one).
    static func schedule(afterMinutes minutes: UInt64) {
        guard lock.locked({ registered }) else { return } // a launch with no handler would crash
        let request = BGAppRefreshTaskRequest(identifier: taskIdentifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: TimeInterval(minutes) * 60)
        do { try BGTaskScheduler.shared.submit(request) } catch {
            os_log("background update not scheduled: %{public}@", log: LiveshipRuntime.log, type: .error, "\(error)")
        }
    }

    static func cancel() { BGTaskScheduler.shared.cancel(taskRequestWithIdentifier: taskIdentifier) }

    /// Completes the task once: at the run's end, or at expiration, where the core stops the run
    /// as at its deadline (partial download kept). `.retry` completes as a success: the run did
    /// what this window allowed (offline, deadline, another update in flight), the next request
    /// is already submitted (the run's effects start with the schedule), and the flag asks the
    /// system for nothing more; `.failure` (a refused configuration, a bad release) is false.
    private static func run(_ task: BGTask) {
        let lock = NSLock()
        var completed = false
        var core: CapacitorPlugin?
        let complete = { (success: Bool) in
            let first = lock.locked { () -> Bool in
                defer { completed = true }
                return !completed
            }
            if first { task.setTaskCompleted(success: success) }
        }
        // Set first: the core is opened off this thread.
        task.expirationHandler = {
            lock.locked { core }?.endBackgroundRun()
            complete(false)
        }
        DispatchQueue.global(qos: .utility).async {
            let opened = LiveshipRuntime.shared.open(config: LiveshipRuntime.configFromBundle())
            guard lock.locked({ () -> Bool in core = opened; return !completed }) else { return }
            let outcome = opened.runBackground(deadlineSeconds: Self.deadlineSeconds)
            os_log("background update: %{public}@", log: LiveshipRuntime.log, type: .info, outcome.message)
            outcome.effects.forEach(LiveshipRuntime.shared.carryOut)
            complete(outcome.result != .failure)
        }
    }
}

extension NSLock {
    /// `withLock` is iOS 16+; the plugin targets 15.
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
