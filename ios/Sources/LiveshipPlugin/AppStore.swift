// The App Store: openAppStore opens the address the core made, getAppUpdateInfo fetches the
// store's lookup for this bundle id and lets the core read it (`appStoreInfo`,
// src/capacitor/capgo_api.rs). The core decides which call comes here (`native_call`): on iOS
// only App Store calls (it answers Google Play's update flows itself, as Capgo does on iOS).
import Capacitor
import Foundation
import UIKit

enum AppStore {
    static func handle(_ action: String, _ options: [String: Any], _ call: CAPPluginCall) {
        switch action {
        case "open": open(options["urls"] as? [String] ?? [], call)
        case "info": info(options["lookupUrl"] as? String ?? "", call)
        default: call.reject("AppStore has no action \(action)", "internal")
        }
    }

    private static func open(_ urls: [String], _ call: CAPPluginCall) {
        guard let url = urls.first.flatMap(URL.init(string:)) else { return call.reject("openAppStore: no store address", "internal") }
        DispatchQueue.main.async {
            UIApplication.shared.open(url) { opened in
                opened ? call.resolve() : call.reject("openAppStore: the App Store did not open", "unavailable")
            }
        }
    }

    private static func info(_ template: String, _ call: CAPPluginCall) {
        let bundle = Bundle.main
        let id = bundle.bundleIdentifier ?? ""
        let encoded = id.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? id
        guard let url = URL(string: template.replacingOccurrences(of: "{bundleId}", with: encoded)) else {
            return call.reject("getAppUpdateInfo: no lookup address", "internal")
        }
        URLSession.shared.dataTask(with: url) { data, _, error in
            guard let data, error == nil else {
                return call.reject("getAppUpdateInfo: the App Store lookup failed: \(error?.localizedDescription ?? "no data")", "network")
            }
            let version = bundle.object(forInfoDictionaryKey: "CFBundleShortVersionString") as? String ?? ""
            let build = bundle.object(forInfoDictionaryKey: "CFBundleVersion") as? String ?? ""
            let answer = appStoreInfo(lookup: String(decoding: data, as: UTF8.self), currentVersion: version, currentBuild: build)
            call.resolve(LiveshipRuntime.jsonObject(answer))
        }.resume()
    }
}
