// The Capacitor plugin class for iOS, a shell over the core's Capacitor contract (src/capacitor,
// docs/PLUGIN.md): every method goes to `CapacitorPlugin.call`; this class does the threading,
// the WebView swap and the lifecycle, and decides nothing.
// Threads: Capacitor performs methods on its bridge queue; each call moves to `work`, a
// concurrent queue of ours (the core's calls block). Lifecycle calls have their own queue, so a running
// download() cannot delay the time away that the core measures. The WebView: main thread only.
// Module: the generated bindings (Generated/Liveship.swift) are compiled into this module (the
// SwiftPM target `LiveshipPlugin`, the pod `LiveshipCapacitor`): no import needed.
import Foundation
import Capacitor
import WebKit
import UIKit

/// The core's method names, read here: inside the class `pluginMethods` is the property.
private let coreMethods = pluginMethods()

@objc(LiveshipPlugin)
public class LiveshipPlugin: CAPPlugin, CAPBridgedPlugin {
    public let identifier = "LiveshipPlugin"
    public let jsName = "Liveship"
    /// One selector for every method. `CAPPluginMethod(name:returnType:)` sets the selector
    /// `name:` (CAPPluginMethod.m), but `selector` is a writable property (CAPPluginMethod.h);
    /// JSExport.swift writes each JavaScript stub from `name` and `returnType` only, and
    /// CapacitorBridge.handleJSCall finds the method by `name`, performs its `selector`, and
    /// builds the CAPPluginCall with `methodName` = the name JavaScript called.
    public let pluginMethods: [CAPPluginMethod] = coreMethods.map { name in
        let method: CAPPluginMethod = CAPPluginMethod(name: name, returnType: CAPPluginReturnPromise)
        method.selector = #selector(LiveshipPlugin.forward(_:))
        return method
    }

    /// Concurrent: a long `download()` must not hold back `notifyAppReady` past
    /// `appReadyTimeout` (the core is thread-safe and serialises what must be serialised).
    private let work = DispatchQueue(label: "io.liveship.plugin", qos: .utility, attributes: .concurrent)
    private let lifecycle = DispatchQueue(label: "io.liveship.lifecycle", qos: .utility)
    private var core: CapacitorPlugin?
    private var pageLoad: NSKeyValueObservation? // after a swap, until the page loads (main)
    private var swaps = 0

    /// Runs while the bridge is created, before the WebView loads its first page: asks the core
    /// which bundle to serve and points Capacitor at it.
    override public func load() {
        let runtime = LiveshipRuntime.shared
        let core = runtime.open(config: getConfig().getConfigJSON() as [String: Any])
        self.core = core
        runtime.attach(self)
        // A bridge created again in the same process gets what serves now (the core launches
        // once per process: a second launch would revert this run's own unconfirmed trial).
        let started = core.start()
        CAPLog.print("Liveship launch: \(started.bundleId) \(started.version)\(started.trial ? " (trial)" : "")")
        setPageBundle(started.bundleId)
        // Before the first page: CAPBridgeViewController.loadWebView() (viewDidLoad, after the
        // plugins' load()) loads `config.appStartServerURL`, so updating the config is enough here.
        // Later switches must reload: see serve(bundleId:path:).
        if started.path != nil { bridge?.setServerBasePath(LiveshipRuntime.servingPath(started.bundleId)) }
        // Selector observers go with the object (iOS 9+), as `pageLoad` does: no deinit needed.
        let nc = NotificationCenter.default
        nc.addObserver(self, selector: #selector(didEnterBackground), name: UIApplication.didEnterBackgroundNotification, object: nil)
        nc.addObserver(self, selector: #selector(willEnterForeground), name: UIApplication.willEnterForegroundNotification, object: nil)
        started.effects.forEach(runtime.carryOut)
    }

    /// Every plugin method: the core checks the options, answers, and names the effects.
    @objc func forward(_ call: CAPPluginCall) {
        work.async { [weak self] in
            guard let core = self?.core else { return call.reject("Liveship is not loaded", "internal") }
            let options = LiveshipRuntime.jsonText(call.options ?? [:]) ?? "{}"
            switch core.call(method: call.methodName ?? "", options: options) {
            case let .resolve(data, effects):
                if let data { call.resolve(LiveshipRuntime.jsonObject(data)) } else { call.resolve() }
                effects.forEach(LiveshipRuntime.shared.carryOut)
            case let .reject(code, message, check):
                call.reject(message, code, nil, check.map { ["check": $0] as [String: Any] })
            case let .native(feature, action, options):
                feature == "appStore" ? AppStore.handle(action, LiveshipRuntime.jsonObject(options), call) : call.reject("iOS has no \(feature)", "internal")
            }
        }
    }

    /// A core event, in the core's order, on the bridge's queue: CAPPlugin keeps its listeners in
    /// mutable dictionaries that addListener/removeListener change there (handleJSCall performs
    /// every call on `dispatchQueue`), and a retained event must not race the first listener
    /// that takes it (CAPPlugin.m sendRetainedArgumentsForEvent).
    func emit(_ event: String, _ data: [String: Any], retain: Bool) {
        let queue = (bridge as? CapacitorBridge)?.dispatchQueue ?? .main
        queue.async { self.notifyListeners(event, data: data, retainUntilConsumed: retain) }
    }

    /// Main thread: the new page's id first, then the files, then the reload (`path` nil: the
    /// app's built-in `public` folder, Capacitor's default appLocation).
    ///
    /// `CAPBridgeProtocol.setServerBasePath(_:)` (CapacitorBridge.swift) only updates the config
    /// and the asset handler's folder: the old page keeps running and loads its lazy chunks from
    /// the new folder. `CAPBridgeViewController.setServerBasePath(path:)` does the same and then
    /// loads `config.serverURL` in the WebView, so it is the one to call.
    func serve(bundleId: String, path: String?) {
        dispatchPrecondition(condition: .onQueue(.main))
        guard let folder = path != nil ? LiveshipRuntime.servingPath(bundleId)
                : Bundle.main.url(forResource: "public", withExtension: nil)?.path else {
            return CAPLog.print("Liveship: the app has no built-in public folder; not reloading")
        }
        setPageBundle(bundleId)
        reportLoad(of: bundleId)
        if let vc = bridge?.viewController as? CAPBridgeViewController {
            vc.setServerBasePath(path: folder)
        } else if let bridge {
            // A host app with its own view controller: the same two steps by hand.
            bridge.setServerBasePath(folder)
            _ = bridge.webView?.load(URLRequest(url: bridge.config.serverURL))
        }
    }

    /// Tells the core once the WebView has stopped loading the new page (`WKWebView.isLoading`
    /// is KVO-compliant); the core then sends `appReloaded`, retained until the page listens.
    /// Not sooner: Capacitor drops every listener when a navigation starts
    /// (WebViewDelegationHandler's didStartProvisionalNavigation calls `bridge.reset()`).
    /// `.initial` covers a swap made while a load is under way (replaced by ours, `isLoading` may
    /// never turn false between).
    private func reportLoad(of bundleId: String) {
        pageLoad?.invalidate()
        pageLoad = nil
        swaps += 1
        let swap = swaps
        var started = false
        pageLoad = bridge?.webView?.observe(\.isLoading, options: [.initial, .new]) { [weak self] _, change in
            guard let loading = change.newValue else { return }
            if loading { started = true; return }
            guard started else { return }
            started = false
            // Not inside the KVO callback, which invalidates the observation; a newer swap has its own.
            DispatchQueue.main.async {
                guard let self, self.swaps == swap else { return }
                self.pageLoad?.invalidate()
                self.pageLoad = nil
                _ = self.core?.pageLoaded(bundleId: bundleId)
            }
        }
    }

    /// A document-start script that tells pages which bundle served them
    /// (`window.__LIVESHIP_BUNDLE_ID__`, read by plugin/src/readiness.ts). Scripts run in the order
    /// added, so the newest one wins; Capacitor's own scripts stay untouched. Main thread.
    private func setPageBundle(_ bundleId: String) {
        let literal = LiveshipRuntime.jsonText([bundleId]) ?? "[\"\"]"
        let source = "window.__LIVESHIP_BUNDLE_ID__ = \(literal)[0];"
        let script = WKUserScript(source: source, injectionTime: .atDocumentStart, forMainFrameOnly: true)
        bridge?.webView?.configuration.userContentController.addUserScript(script)
    }

    @objc private func didEnterBackground() {
        lifecycle.async { self.core?.appMovedToBackground() }
    }

    /// The core ignores the first start and decides the rest (delay conditions, apply mode).
    @objc private func willEnterForeground() {
        lifecycle.async { self.core?.appMovedToForeground().forEach(LiveshipRuntime.shared.carryOut) }
    }
}
