// The process-wide core (one `Updater` per process, shared by the plugin and the background
// task), where it keeps its files, and the BGTaskScheduler task.
//
// Storage: Capacitor serves live-update bundles from Library/NoCloud/ionic_built_snapshots/<id>.
// The core keeps its state in Library/NoCloud/liveship and its bundles in <dataDir>/bundles, which
// is a symbolic link to ionic_built_snapshots, so every bundle directory the core creates (by an
// atomic rename from <dataDir>/staging on the same volume) is where Capacitor requires it.
import Foundation
import BackgroundTasks
import os.log

final class LiveshipRuntime {
    static let shared = LiveshipRuntime()
    static let log = OSLog(subsystem: "io.liveship", category: "Liveship")

    private let lock = NSLock()
    private(set) var updater: Updater?
    private(set) var settings: Settings?

    /// Where events go; the plugin sets it while loaded. Read on the core's threads, written on
    /// the main thread: guarded by its own lock (not `lock`, which `open` holds while the core
    /// starts and may already send events).
    private let sinkLock = NSLock()
    private var sink: ((Event) -> Void)?

    func setSink(_ newSink: ((Event) -> Void)?) {
        sinkLock.lock()
        sink = newSink
        sinkLock.unlock()
    }

    fileprivate func currentSink() -> ((Event) -> Void)? {
        sinkLock.lock()
        defer { sinkLock.unlock() }
        return sink
    }

    struct Settings {
        let autoUpdate: Bool
        let updateUrl: String?
        let builtinVersion: String
        let nativeVersion: String
        let periodCheckDelay: TimeInterval
        let backgroundInterval: TimeInterval
    }

    private final class Listener: EventListener {
        func onEvent(event: Event) {
            // Called outside the lock: the sink only queues the event.
            if let sink = LiveshipRuntime.shared.currentSink() { sink(event) }
            else { os_log("event with no plugin loaded: %{public}@", log: LiveshipRuntime.log, type: .debug, "\(event)") }
        }
    }

    private final class OSLogger: Logger {
        func log(level: LogLevel, target: String, message: String) {
            let type: OSLogType
            switch level {
            case .error: type = .error
            case .warn: type = .default
            case .info: type = .info
            case .debug, .trace: type = .debug
            }
            os_log("[%{public}@] %{public}@", log: LiveshipRuntime.log, type: type, target, message)
        }
    }

    static var noCloud: URL {
        FileManager.default.urls(for: .libraryDirectory, in: .userDomainMask)[0].appendingPathComponent("NoCloud", isDirectory: true)
    }
    static var snapshots: URL { noCloud.appendingPathComponent("ionic_built_snapshots", isDirectory: true) }
    static var dataDir: URL { noCloud.appendingPathComponent("liveship", isDirectory: true) }

    /// The `plugins.Liveship` object of the app's capacitor.config.json (for a background launch).
    static func configFromBundle() -> [String: Any] {
        guard let url = Bundle.main.url(forResource: "capacitor.config", withExtension: "json"),
              let data = try? Data(contentsOf: url),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let plugins = root["plugins"] as? [String: Any],
              let liveship = plugins["Liveship"] as? [String: Any] else { return [:] }
        return liveship
    }

    /// Opens the core once per process; throws the core's error for a configuration it refuses.
    func open(config pluginConfig: [String: Any]) throws -> (Updater, Settings) {
        lock.lock()
        defer { lock.unlock() }
        if let u = updater, let s = settings { return (u, s) }
        let nativeVersion = Bundle.main.object(forInfoDictionaryKey: "CFBundleShortVersionString") as? String ?? "0"
        var json = pluginConfig
        if json["builtinVersion"] == nil { json["builtinVersion"] = nativeVersion }
        // The build number too: Capacitor's isNewBinary() (CAPBridgeViewController) treats a
        // change of CFBundleVersion or CFBundleShortVersionString as a new binary and serves the
        // built-in assets; the core must see the same change (config option `nativeBuild`).
        json["nativeBuild"] = Bundle.main.object(forInfoDictionaryKey: "CFBundleVersion") as? String ?? 
        _ = setLogger(logger: OSLogger(), level: (json["development"] as? Bool ?? false) ? .debug : .info)
        try Self.prepareFolders()
        let builtin = Bundle.main.url(forResource: "public", withExtension: nil)?.path ?? ""
        let host = HostInfo(appId: Bundle.main.bundleIdentifier ?? "app", platform: "ios", nativeVersion: nativeVersion,
                            dataDir: Self.dataDir.path, builtinDir: builtin)
        let text = String(data: try JSONSerialization.data(withJSONObject: json), encoding: .utf8) ?? "{}"
        let u = try Updater.fromJson(json: text, host: host, listener: Listener())
        // Every option as the core parsed it (docs/CONFIG.md); none is read from the JSON here.
        let c = u.config()
        let s = Settings(
            autoUpdate: c.autoUpdate,
            updateUrl: c.updateUrl.flatMap { $0.isEmpty ? nil : $0 },
            builtinVersion: c.builtinVersion,
            nativeVersion: c.nativeVersion,
            periodCheckDelay: TimeInterval(c.periodCheckDelay),
            backgroundInterval: TimeInterval(c.backgroundIntervalMinutes) * 60)
        updater = u
        settings = s
        return (u, s)
    }

    /// Creates NoCloud/liveship with `bundles` linking to ionic_built_snapshots; both excluded
    /// from iCloud backup (downloads can be fetched again).
    private static func prepareFolders() throws {
        let fm = FileManager.default
        try fm.createDirectory(at: snapshots, withIntermediateDirectories: true)
        try fm.createDirectory(at: dataDir, withIntermediateDirectories: true)
        let link = dataDir.appendingPathComponent("bundles")
        if (try? fm.destinationOfSymbolicLink(atPath: link.path)) == nil {
            if fm.fileExists(atPath: link.path) {
                // A real folder from an earlier layout: move its bundles over, then link.
                for name in try fm.contentsOfDirectory(atPath: link.path) {
                    let target = snapshots.appendingPathComponent(name)
                    if !fm.fileExists(atPath: target.path) { try fm.moveItem(at: link.appendingPathComponent(name), to: target) }
                }
                try fm.removeItem(at: link)
            }
            try fm.createSymbolicLink(at: link, withDestinationURL: snapshots)
        }
        for var url in [noCloud, snapshots, dataDir] {
            var values = URLResourceValues()
            values.isExcludedFromBackup = true
            try? url.setResourceValues(values)
        }
    }

    /// Capacitor's path for a bundle the core returned (under the `bundles` link).
    static func servingPath(_ bundleId: String) -> String {
        snapshots.appendingPathComponent(bundleId, isDirectory: true).path
    }
}

/// The background update task. Apple requires registration before the app finishes launching:
/// call `LiveshipBackground.register()` from `application(_:didFinishLaunchingWithOptions:)`,
/// and list `io.liveship.background-update` under `BGTaskSchedulerPermittedIdentifiers` in
/// Info.plist (docs/PLUGIN.md).
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
    /// twice, and it must be called before the app finishes launching; a second call here (an
    /// app that also registers from a scene delegate, a plugin reload) is ignored.
    @objc public static func register() {
        lock.lock()
        defer { lock.unlock() }
        guard !attempted else { return }
        attempted = true
        registered = BGTaskScheduler.shared.register(forTaskWithIdentifier: taskIdentifier, using: nil) { task in
            guard let task = task as? BGAppRefreshTask else { task.setTaskCompleted(success: false); return }
            handle(task)
        }
        if !registered {
            os_log("BGTaskScheduler refused %{public}@: is it in BGTaskSchedulerPermittedIdentifiers?", log: LiveshipRuntime.log,
                   type: .error, taskIdentifier)
        }
    }

    private static var isRegistered: Bool {
        lock.lock()
        defer { lock.unlock() }
        return registered
    }

    /// Asks for the next run no earlier than `interval` from now (a new request replaces the
    /// pending one with the same identifier).
    static func schedule(after interval: TimeInterval) {
        guard isRegistered, interval > 0 else { return }
        let request = BGAppRefreshTaskRequest(identifier: taskIdentifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: interval)
        do { try BGTaskScheduler.shared.submit(request) } catch {
            os_log("background update not scheduled: %{public}@", log: LiveshipRuntime.log, type: .error, "\(error)")
        }
    }

    /// Automatic updates are off: no pending request stays (Android cancels its work too).
    static func cancel() {
        BGTaskScheduler.shared.cancel(taskRequestWithIdentifier: taskIdentifier)
    }

    private static func handle(_ task: BGAppRefreshTask) {
        let lock = NSLock()
        var completed = false
        let complete = { (success: Bool) in
            lock.lock()
            defer { lock.unlock() }
            if !completed { completed = true; task.setTaskCompleted(success: success) }
        }
        // Set before the work starts, as BGTask.expirationHandler requires.
        task.expirationHandler = {
            // The core stops the running background run now, as at its deadline (network work
            // dropped, the partial download kept for next time), and the task is completed at
            // once, as the system requires before it suspends the app.
            os_log("background update expired", log: LiveshipRuntime.log, type: .info)
            LiveshipRuntime.shared.updater?.endBackgroundRun()
            complete(false)
        }
        let work = Thread {
            var ok = false
            do {
                let (updater, settings) = try LiveshipRuntime.shared.open(config: LiveshipRuntime.configFromBundle())
                guard settings.autoUpdate, settings.updateUrl != nil else {
                    cancel()
                    complete(true)
                    return
                }
                schedule(after: settings.backgroundInterval)
                _ = try updater.runBackgroundUpdate(deadlineSeconds: deadlineSeconds)
                ok = true
            } catch {
                os_log("background update: %{public}@", log: LiveshipRuntime.log, type: .info, "\(error)")
            }
            complete(ok)
        }
        work.name = "liveship-background"
        work.start()
    }
}
