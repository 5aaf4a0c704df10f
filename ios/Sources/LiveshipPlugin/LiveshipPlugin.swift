// The Capacitor plugin class for iOS: argument mapping, threading, lifecycle and the WebView
// swap. Decisions live in the Rust core; payloads and checks in Payloads.swift.
//
// Threads: Capacitor calls methods on its plugin queue; every call moves to `work`, a serial
// queue of our own (the core's calls block). Core events arrive on the core's threads and move
// to `events`. WebView changes run on the main thread.
//
// Module: this file, the runtime and the generated bindings (Generated/Liveship.swift) are one
// Swift module (the SwiftPM target `LiveshipPlugin`, the pod `LiveshipCapacitor`), so the
// bindings need no import; they import the C module `LiveshipFFI` from the xcframework.
import Foundation
import Capacitor
import WebKit
import UIKit

@objc(LiveshipPlugin)
public class LiveshipPlugin: CAPPlugin, CAPBridgedPlugin {
    public let identifier = "LiveshipPlugin"
    public let jsName = "Liveship"
    public let pluginMethods: [CAPPluginMethod] = [
        "notifyAppReady", "download", "next", "set", "reload", "reset", "current", "list", "delete", "getLatest",
        "setChannel", "unsetChannel", "getChannel", "getDeviceId", "getPluginVersion", "getBuiltinVersion",
        "isAutoUpdateEnabled", "getNextBundle", "getFailedUpdate", "setMultiDelay", "cancelDelay", "triggerUpdateCheck",
        "getHistory", "exportData", "deleteData", "setConsent",
    ].map { CAPPluginMethod(name: $0, returnType: CAPPluginReturnPromise) }

    static let pluginVersion = "0.1.0"

    private let work = DispatchQueue(label: "io.liveship.plugin", qos: .utility)
    private let events = DispatchQueue(label: "io.liveship.events", qos: .utility)
    private var updater: Updater?
    private var settings: LiveshipRuntime.Settings?
    private var startupError: Error?
    private var mapper: EventMapper?
    private var failed: Payload?
    /// The app went to the background since it started (the core measures the time away).
    private var wasInBackground = false
    private var timer: DispatchSourceTimer?
    private let defaults = UserDefaults.standard
    /// Keeps a foreground download running for a while after the app is backgrounded.
    private var downloads: DownloadGuard?
    /// Watches the WebView after a swap, to send `appReloaded` to the new page (main thread).
    private var pageLoad: NSKeyValueObservation?
    private var swaps = 0

    // MARK: start-up

    /// Runs while the bridge is created, before the WebView loads its first page: asks the core
    /// which bundle to serve and points Capacitor at it.
    override public func load() {
        do {
            let (u, s) = try LiveshipRuntime.shared.open(config: getConfig().getConfigJSON() as [String: Any])
            updater = u
            settings = s
            mapper = EventMapper(builtinVersion: s.builtinVersion, installed: { (try? u.list()) ?? [] })
        } catch {
            // A configuration the core refuses must not stop the app: built-in bundle, and every
            // call rejects with the reason.
            startupError = error
            CAPLog.print("Liveship did not start; serving the built-in bundle: \(error)")
            return
        }
        guard let u = updater, let s = settings else { return }
        downloads = DownloadGuard(app: UIApplication.shared) // load() runs on the main thread
        LiveshipRuntime.shared.setSink { [weak self] event in self?.events.async { self?.handle(event) } }
        let launch = u.launch()
        if let r = launch.reverted {
            failed = ["bundle": Payloads.partial(r.id, r.version, status: "error", role: "failed"), "reason": r.reason]
        }
        CAPLog.print("Liveship launch: \(launch.id) \(launch.version)\(launch.trial ? " (trial)" : "")")
        setPageBundle(launch.id)
        // Before the first page: CAPBridgeViewController.loadWebView() (viewDidLoad, after the
        // plugins' load()) loads `config.appStartServerURL`, so updating the config is enough here.
        // Later switches must reload: see reloadWebView.
        if launch.path != nil { bridge?.setServerBasePath(LiveshipRuntime.servingPath(launch.id)) }

        let nc = NotificationCenter.default
        nc.addObserver(self, selector: #selector(didEnterBackground), name: UIApplication.didEnterBackgroundNotification, object: nil)
        nc.addObserver(self, selector: #selector(willEnterForeground), name: UIApplication.willEnterForegroundNotification, object: nil)
        // As on Android: no automatic updates, no background runs (a request left from an
        // earlier configuration is cancelled).
        if s.autoUpdate && s.updateUrl != nil { LiveshipBackground.schedule(after: s.backgroundInterval) } else { LiveshipBackground.cancel() }
        if s.periodCheckDelay > 0 {
            let t = DispatchSource.makeTimerSource(queue: work)
            t.schedule(deadline: .now() + s.periodCheckDelay, repeating: s.periodCheckDelay)
            t.setEventHandler { [weak self] in self?.autoUpdate() }
            t.resume()
            timer = t
        }
        work.async { [weak self] in self?.autoUpdate() }
    }

    deinit {
        NotificationCenter.default.removeObserver(self)
        timer?.cancel()
    }

    // MARK: methods

    @objc func notifyAppReady(_ call: CAPPluginCall) {
        run(call) { u, _ in
            let id = try Args.bundleId(call.getValue("bundleId"), field: "bundleId")
            _ = try u.notifyAppReady(bundleId: id)
            return ["bundle": self.bundle(u, id)]
        }
    }

    @objc func download(_ call: CAPPluginCall) {
        run(call) { u, s in
            if call.getValue("sessionKey") != nil { throw PluginError.argument("sessionKey", "is not used: keys and hashes travel in the signed manifest") }
            if call.getValue("checksum") != nil { throw PluginError.argument("checksum", "is not used: keys and hashes travel in the signed manifest") }
            if let url = call.getString("url") {
                guard let configured = s.updateUrl else { throw PluginError.argument("url", "no updateUrl is configured") }
                if url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) != configured.trimmingCharacters(in: CharacterSet(charactersIn: "/")) {
                    throw PluginError.argument("url", "Liveship installs signed releases from the configured updateUrl only")
                }
            }
            if let wanted = call.getString("version") {
                switch try u.check() {
                case .updateAvailable(_, _, let version, _) where version != wanted:
                    throw PluginError.argument("version", "the server offers \(version), not \(wanted)")
                case .noUpdate(let code, let reason):
                    throw PluginError(code: "invalidArgument", message: "no update to download (\(code)): \(reason)")
                default: break
                }
            }
            let outcome = try self.guarded("download") { try u.downloadAndInstall() }
            switch outcome {
            case .installed(let id, let version, _, _, _, _, _, _): return self.bundle(u, id, version)
            case .noUpdate(let code, let reason): throw PluginError(code: "invalidArgument", message: "no update to download (\(code)): \(reason)")
            }
        }
    }

    @objc func next(_ call: CAPPluginCall) {
        run(call) { u, _ in
            let id = try Args.bundleId(call.getValue("id"))
            if id == Args.builtin { throw PluginError.argument("id", "the built-in bundle cannot be next; use reset()") }
            try u.setNext(bundleId: id)
            return self.bundle(u, id)
        }
    }

    /// The switch arrives as ReloadRequired from the core (apply, reset); the event reloads.
    @objc func set(_ call: CAPPluginCall) {
        run(call) { u, _ in
            let id = try Args.bundleId(call.getValue("id"))
            if id == Args.builtin { _ = try u.reset(to: .builtin); return nil }
            try u.setNext(bundleId: id)
            guard try u.applyNext() != nil else {
                // The core holds a delayed bundle back (setMultiDelay), as LiveshipController.kt reports.
                if try !u.delayConditions().isEmpty {
                    throw PluginError(code: "invalidArgument", message: "bundle \(id) is next and applies once its delay conditions are met; call cancelDelay() first to switch now")
                }
                throw PluginError(code: "internal", message: "bundle \(id) was set as next but did not apply")
            }
            return nil
        }
    }

    @objc func reload(_ call: CAPPluginCall) {
        run(call) { u, _ in
            if try u.applyNext() == nil {
                let current = try u.current()
                DispatchQueue.main.async { self.reloadWebView(current.id, current.path) }
            }
            return nil
        }
    }

    @objc func reset(_ call: CAPPluginCall) {
        run(call) { u, _ in
            let last = try Args.optionalBool("toLastSuccessful", call.getValue("toLastSuccessful"), false)
            _ = try u.reset(to: last ? .lastGood : .builtin)
            return nil
        }
    }

    @objc func current(_ call: CAPPluginCall) {
        run(call) { u, s in
            let l = try u.current()
            return ["bundle": Payloads.byId(l.id, try u.list(), builtinVersion: s.builtinVersion, version: l.version), "native": s.nativeVersion]
        }
    }

    @objc func list(_ call: CAPPluginCall) {
        run(call) { u, _ in try ["bundles": u.list().map(Payloads.bundle)] }
    }

    @objc func delete(_ call: CAPPluginCall) {
        run(call) { u, _ in try u.delete(bundleId: try Args.deletableBundleId(call.getValue("id"))); return nil }
    }

    @objc func getLatest(_ call: CAPPluginCall) {
        run(call) { u, _ in
            if let wanted = call.getValue("channel") {
                let channel = try Args.channel(wanted)
                let mine = try u.getChannel()
                if channel != mine { throw PluginError.argument("channel", "this device follows \"\(mine)\"; call setChannel() to change it") }
            }
            return Payloads.latest(try u.check(), servingVersion: try u.current().version)
        }
    }

    @objc func setChannel(_ call: CAPPluginCall) {
        run(call) { u, _ in
            try u.setChannel(channel: try Args.channel(call.getValue("channel")))
            if try Args.optionalBool("triggerAutoUpdate", call.getValue("triggerAutoUpdate"), false) { self.autoUpdate() }
            return ["status": "ok"]
        }
    }

    @objc func unsetChannel(_ call: CAPPluginCall) {
        run(call) { u, _ in
            try u.unsetChannel()
            if try Args.optionalBool("triggerAutoUpdate", call.getValue("triggerAutoUpdate"), false) { self.autoUpdate() }
            return nil
        }
    }

    @objc func getChannel(_ call: CAPPluginCall) {
        run(call) { u, _ in try ["channel": u.getChannel(), "status": "ok", "allowSet": true] }
    }

    @objc func getDeviceId(_ call: CAPPluginCall) {
        run(call) { u, _ in ["deviceId": u.deviceId()] }
    }

    @objc func getPluginVersion(_ call: CAPPluginCall) {
        call.resolve(["version": Self.pluginVersion])
    }

    @objc func getBuiltinVersion(_ call: CAPPluginCall) {
        run(call) { _, s in ["version": s.builtinVersion] }
    }

    @objc func isAutoUpdateEnabled(_ call: CAPPluginCall) {
        run(call) { _, s in ["enabled": s.autoUpdate && s.updateUrl != nil] }
    }

    @objc func getNextBundle(_ call: CAPPluginCall) {
        run(call) { u, _ in try u.status().next.map(Payloads.bundle) }
    }

    @objc func getFailedUpdate(_ call: CAPPluginCall) {
        run(call) { _, _ in
            let f = self.failed
            self.failed = nil
            return f
        }
    }

    /// Capgo's `setMultiDelay`: the core keeps the conditions and decides when they are met.
    @objc func setMultiDelay(_ call: CAPPluginCall) {
        run(call) { u, _ in
            try u.setMultiDelay(conditions: try Args.delayConditions(call.getValue("delayConditions")))
            return nil
        }
    }

    @objc func cancelDelay(_ call: CAPPluginCall) {
        run(call) { u, _ in try u.cancelDelay(); return nil }
    }

    @objc func triggerUpdateCheck(_ call: CAPPluginCall) {
        run(call) { u, _ in
            switch try u.check() {
            case .updateAvailable(_, _, let version, _):
                try self.startDownload(u)
                return ["updateAvailable": true, "version": version]
            case .noUpdate(let code, let reason):
                return ["updateAvailable": false, "code": code, "reason": reason]
            }
        }
    }

    @objc func getHistory(_ call: CAPPluginCall) {
        run(call) { u, _ in try ["history": u.history().map(Payloads.history)] }
    }

    @objc func exportData(_ call: CAPPluginCall) {
        run(call) { u, s in
            let status = try u.status()
            let installed = try u.list()
            let data: Payload = [
                "deviceId": status.deviceId, "channel": status.channel, "nativeVersion": status.nativeVersion,
                "consent": ["telemetry": self.defaults.bool(forKey: Keys.consent)],
                "serving": Payloads.byId(status.serving.id, installed, builtinVersion: s.builtinVersion, version: status.serving.version),
                "bundles": installed.map(Payloads.bundle),
                "history": try u.history().map(Payloads.history),
                "delayConditions": try u.delayConditions().map(Payloads.delayCondition),
            ]
            let json = try JSONSerialization.data(withJSONObject: data, options: [.sortedKeys])
            return ["json": String(data: json, encoding: .utf8) ?? "{}"]
        }
    }

    /// Built-in bundle, every download deleted, the delay conditions cancelled in the core, the
    /// consent flag removed; the reset's ReloadRequired reloads the WebView.
    @objc func deleteData(_ call: CAPPluginCall) {
        run(call) { u, _ in
            _ = try u.reset(to: .builtin)
            for b in try u.list() { try u.delete(bundleId: b.id) }
            try u.cancelDelay()
            self.defaults.removeObject(forKey: Keys.consent)
            self.failed = nil
            return nil
        }
    }

    @objc func setConsent(_ call: CAPPluginCall) {
        run(call) { _, _ in
            guard let telemetry = call.getValue("telemetry") as? Bool else { throw PluginError.argument("telemetry", "must be a boolean") }
            self.defaults.set(telemetry, forKey: Keys.consent)
            return ["telemetry": telemetry]
        }
    }

    // MARK: threading and results

    private enum Keys {
        static let consent = "io.liveship.consent.telemetry"
    }

    private func run(_ call: CAPPluginCall, _ body: @escaping (Updater, LiveshipRuntime.Settings) throws -> Payload?) {
        work.async {
            do {
                guard let u = self.updater, let s = self.settings else {
                    throw PluginError(code: "internal", message: "Liveship did not start: \(String(describing: self.startupError))")
                }
                if let payload = try body(u, s) { call.resolve(payload) } else { call.resolve() }
            } catch {
                let err = PluginError.from(error)
                var data: [String: Any] = [:]
                if let c = err.check { data["check"] = c }
                call.reject(err.message, err.code, error, data)
            }
        }
    }

    private func bundle(_ u: Updater, _ id: String, _ version: String = "") -> Payload {
        Payloads.byId(id, (try? u.list()) ?? [], builtinVersion: settings?.builtinVersion ?? "", version: version)
    }

    private func autoUpdate() {
        guard let u = updater, let s = settings, s.autoUpdate, s.updateUrl != nil else { return }
        do { try startDownload(u) } catch {
            CAPLog.print("Liveship: automatic update did not start: \(error)")
        }
    }

    /// A blocking download under a background task (see DownloadGuard).
    private func guarded<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let token = downloads?.begin(name)
        defer { downloads?.end(token) }
        return try body()
    }

    /// `startDownloadAndInstall` under a background task, ended by the cycle's last event
    /// (`updateFinished` or `updateError`: the core sends exactly one per started cycle).
    private func startDownload(_ u: Updater) throws {
        // Queued before the start, so the cycle's last event cannot arrive before its task.
        let token = downloads?.beginCycle()
        do { try u.startDownloadAndInstall() } catch {
            downloads?.cancelCycle(token)
            throw error
        }
    }

    // MARK: events, lifecycle and the WebView

    private func handle(_ event: Event) {
        switch event {
        case .updateFinished, .updateError: downloads?.cycleEnded()
        default: break
        }
        guard let mapper = mapper else { return }
        for action in mapper.map(event) {
            switch action {
            case .emit(let name, let payload):
                // Kept for the first listener: these happen before the page can listen.
                notifyListeners(name, data: payload, retainUntilConsumed: name == "updateFailed" || name == "appReady")
            case .failed(let payload): work.async { self.failed = payload }
            case .reload(let id, let path): DispatchQueue.main.async { self.reloadWebView(id, path) }
            }
        }
    }

    /// Main thread: the new page's id first, then the files, then the reload. Used for every
    /// switch at run time: set, reset, reload, deleteData (through ReloadRequired or directly)
    /// and the core's revert on timeout (ReloadRequired).
    ///
    /// `CAPBridgeProtocol.setServerBasePath(_:)` (CapacitorBridge.swift) only updates the config
    /// and the asset handler's folder: the old page keeps running and loads its lazy chunks from
    /// the new folder. `CAPBridgeViewController.setServerBasePath(path:)` does the same and then
    /// loads `config.serverURL` in the WebView, so it is the one to call. `bridge.viewController`
    /// is a UIKit object: main thread only.
    private func reloadWebView(_ bundleId: String, _ path: String?) {
        dispatchPrecondition(condition: .onQueue(.main))
        let folder: String
        if path != nil {
            folder = LiveshipRuntime.servingPath(bundleId)
        } else if let builtin = Bundle.main.url(forResource: "public", withExtension: nil) {
            folder = builtin.path
        } else {
            CAPLog.print("Liveship: the app has no built-in public folder; not reloading")
            return
        }
        setPageBundle(bundleId)
        announceWhenLoaded()
        if let vc = bridge?.viewController as? CAPBridgeViewController {
            vc.setServerBasePath(path: folder)
        } else if let bridge = bridge {
            // A host app with its own view controller: the same two steps by hand.
            bridge.setServerBasePath(folder)
            _ = bridge.webView?.load(URLRequest(url: bridge.config.serverURL))
        }
    }

    /// `appReloaded` goes to the new page, not the outgoing one: Capacitor drops every listener
    /// when a navigation starts (WebViewDelegationHandler's didStartProvisionalNavigation calls
    /// `bridge.reset()`), so the event is sent once the WebView has stopped loading
    /// (`WKWebView.isLoading` is KVO-compliant); a page that has not added its listener by then
    /// gets it when it does (retainUntilConsumed). `.initial` covers a swap made while a load is
    /// already under way (that load is replaced and `isLoading` may never turn false between).
    private func announceWhenLoaded() {
        pageLoad?.invalidate()
        pageLoad = nil
        swaps += 1
        let swap = swaps
        guard let webView = bridge?.webView else {
            notifyListeners("appReloaded", data: [:], retainUntilConsumed: true)
            return
        }
        var started = false
        var done = false
        pageLoad = webView.observe(\.isLoading, options: [.initial, .new]) { [weak self] _, change in
            guard let loading = change.newValue, !done else { return }
            if loading { started = true; return }
            guard started else { return }
            done = true
            // Not from inside the KVO callback: the observation is invalidated here. A newer swap
            // has its own observation and sends its own event.
            DispatchQueue.main.async {
                guard let self = self, self.swaps == swap else { return }
                self.pageLoad?.invalidate()
                self.pageLoad = nil
                self.notifyListeners("appReloaded", data: [:], retainUntilConsumed: true)
            }
        }
    }

    /// Adds a document-start script that tells pages which bundle served them
    /// (`window.__LIVESHIP_BUNDLE_ID__`, read by plugin/src/readiness.ts). Scripts run in the order
    /// added, so the newest one wins; Capacitor's own scripts stay untouched.
    private func setPageBundle(_ bundleId: String) {
        let apply = {
            let literal = String(data: (try? JSONSerialization.data(withJSONObject: [bundleId])) ?? Data("[\"\"]".utf8), encoding: .utf8) ?? "[\"\"]"
            let source = "window.__LIVESHIP_BUNDLE_ID__ = \(literal)[0];"
            let script = WKUserScript(source: source, injectionTime: .atDocumentStart, forMainFrameOnly: true)
            self.bridge?.webView?.configuration.userContentController.addUserScript(script)
        }
        if Thread.isMainThread { apply() } else { DispatchQueue.main.sync(execute: apply) }
    }

    @objc private func didEnterBackground() {
        wasInBackground = true
        work.async { self.updater?.appMovedToBackground() }
    }

    @objc private func willEnterForeground() {
        guard wasInBackground else { return } // the first start, not a return
        work.async {
            // The core decides (delay conditions, apply mode); a bundle applied here arrives as
            // ReloadRequired and reloads from the event.
            do { _ = try self.updater?.appMovedToForeground() } catch {
                CAPLog.print("Liveship: foreground apply failed: \(error)")
            }
            self.autoUpdate()
        }
    }
}

/// Background tasks for downloads started in the foreground, so that a download under way when
/// the user leaves the app gets the extra time iOS grants instead of being suspended at once
/// (UIApplication.beginBackgroundTask(withName:expirationHandler:), "Extending your app's
/// background execution time"). Both calls are documented as safe off the main thread. When
/// the time runs out the expiration handler ends the task; the core's partial download resumes
/// on the next cycle.
final class DownloadGuard {
    final class Token {
        fileprivate var id: UIBackgroundTaskIdentifier = .invalid
        fileprivate var ended = false
    }

    private let app: UIApplication
    private let lock = NSLock()
    /// Tokens of started `startDownloadAndInstall` cycles, oldest first.
    private var cycles: [Token] = []

    init(app: UIApplication) { self.app = app }

    /// Not under the lock: the system may run the expiration handler (which ends the task)
    /// before `beginBackgroundTask` returns; a token ended that early ends its task at once.
    func begin(_ name: String) -> Token {
        let token = Token()
        let id = app.beginBackgroundTask(withName: "liveship-\(name)") { [weak self] in self?.end(token) }
        lock.lock()
        let endedEarly = token.ended
        if !endedEarly { token.id = id }
        lock.unlock()
        if endedEarly && id != .invalid { app.endBackgroundTask(id) }
        return token
    }

    /// Ends the task once (the expiration handler and the normal end may both call it).
    func end(_ token: Token?) {
        guard let token = token else { return }
        lock.lock()
        let id = token.id
        token.id = .invalid
        token.ended = true
        lock.unlock()
        if id != .invalid { app.endBackgroundTask(id) }
    }

    func beginCycle() -> Token {
        let token = begin("update")
        lock.lock()
        cycles.append(token)
        lock.unlock()
        return token
    }

    /// The start call failed: no event will end this cycle.
    func cancelCycle(_ token: Token?) {
        guard let token = token else { return }
        lock.lock()
        cycles.removeAll { $0 === token }
        lock.unlock()
        end(token)
    }

    /// The oldest started cycle finished (`updateFinished` / `updateError`).
    func cycleEnded() {
        lock.lock()
        let token = cycles.isEmpty ? nil : cycles.removeFirst()
        lock.unlock()
        end(token)
    }
}
