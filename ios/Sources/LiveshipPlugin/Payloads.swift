// The JavaScript payloads of definitions.ts built from the core's uniffi records, and the
// argument checks: the Swift twin of android/.../capacitor/core (Args.kt, Payloads.kt,
// EventMapper.kt), which the host tests cover. Keep the two in step.
import Foundation

typealias Payload = [String: Any]

/// A rejection for JavaScript: `code` is the error kind of definitions.ts.
struct PluginError: Error {
    let code: String
    let message: String
    var check: String?

    static func argument(_ field: String, _ reason: String) -> PluginError {
        PluginError(code: "invalidArgument", message: "invalid argument \(field): \(reason)")
    }

    /// Any failure as the rejection JavaScript sees.
    static func from(_ error: Error) -> PluginError {
        if let e = error as? PluginError { return e }
        guard let e = error as? LiveshipError else {
            return PluginError(code: "internal", message: "\(error)")
        }
        switch e {
        case .Network(let reason): return PluginError(code: "network", message: reason)
        case .Verification(let check, let reason): return PluginError(code: "verification", message: reason, check: check)
        case .Incompatible(let reason): return PluginError(code: "incompatible", message: reason)
        case .Storage(let reason): return PluginError(code: "storage", message: reason)
        case .Busy(let reason): return PluginError(code: "busy", message: reason)
        case .InvalidArgument(let reason): return PluginError(code: "invalidArgument", message: reason)
        case .Internal(let reason): return PluginError(code: "internal", message: reason)
        }
    }
}

enum Args {
    static let builtin = "builtin"

    private static func matches(_ s: String, _ pattern: String) -> Bool {
        s.range(of: pattern, options: .regularExpression) != nil
    }

    static func bundleId(_ value: Any?, field: String = "id") throws -> String {
        guard let s = value as? String, matches(s, "^(builtin|[0-9a-f]{16,64})$") else {
            throw PluginError.argument(field, "must be a bundle id from list() or download() (16 hex digits) or \"builtin\"")
        }
        return s
    }

    static func deletableBundleId(_ value: Any?) throws -> String {
        let id = try bundleId(value)
        if id == builtin { throw PluginError.argument("id", "the built-in bundle cannot be deleted") }
        return id
    }

    static func channel(_ value: Any?) throws -> String {
        guard let s = value as? String, matches(s, "^[a-z0-9][a-z0-9._-]{0,63}$") else {
            throw PluginError.argument("channel", "must be 1-64 characters of a-z, 0-9, \".\", \"_\", \"-\", starting with a letter or digit")
        }
        return s
    }

    static func optionalBool(_ field: String, _ value: Any?, _ fallback: Bool) throws -> Bool {
        guard let value = value, !(value is NSNull) else { return fallback }
        guard let b = value as? Bool else { throw PluginError.argument(field, "must be a boolean") }
        return b
    }

    /// `setMultiDelay`'s `delayConditions` (Capgo's `[{kind, value?}]`) as the core's
    /// conditions: `background` in milliseconds (default 0), `date` to Unix seconds (rounded up,
    /// never early), `nativeVersion` the version the native app must reach. The core decides when
    /// each is met. Same rules as Args.kt.
    static func delayConditions(_ value: Any?) throws -> [DelayCondition] {
        guard let list = value as? [Any], !list.isEmpty else {
            throw PluginError.argument("delayConditions", "must be a non-empty array (use cancelDelay() to clear)")
        }
        var conditions: [DelayCondition] = []
        for (i, item) in list.enumerated() {
            guard let c = item as? [String: Any] else { throw PluginError.argument("delayConditions[\(i)]", "must be an object") }
            let field = "delayConditions[\(i)].value"
            if let raw = c["value"], !(raw is NSNull), !(raw is String) { throw PluginError.argument(field, "must be a string") }
            let v = c["value"] as? String
            switch c["kind"] as? String {
            case "background":
                if let v = v, !matches(v, "^[0-9]{1,12}$") { throw PluginError.argument(field, "must be a whole number of milliseconds") }
                conditions.append(.background(ms: UInt64(v ?? "0") ?? 0))
            case "kill":
                conditions.append(.kill)
            case "date":
                guard let v = v, matches(v, isoDate), let d = Iso8601.parse(v) else {
                    throw PluginError.argument(field, "must be an ISO 8601 date-time")
                }
                conditions.append(.date(notBefore: UInt64(max(0, d.timeIntervalSince1970.rounded(.up)))))
            case "nativeVersion":
                guard let v = v, matches(v, "^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$") else {
                    throw PluginError.argument(field, "must be a native app version such as \"2.1.0\"")
                }
                conditions.append(.nativeVersion(atLeast: v))
            default:
                throw PluginError.argument("delayConditions[\(i)].kind", "must be \"background\", \"kill\", \"date\" or \"nativeVersion\"")
            }
        }
        return conditions
    }

    /// ISO 8601 date-time with a zone, as Args.kt and args.ts accept it.
    private static let isoDate = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})$"
}

enum Iso8601 {
    static func string(seconds: UInt64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    static func parse(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }
}

enum Payloads {
    /// A delay condition the core still waits for, in `setMultiDelay`'s shape `{kind, value?}`.
    static func delayCondition(_ c: DelayCondition) -> Payload {
        switch c {
        case .background(let ms): return ["kind": "background", "value": String(ms)]
        case .kill: return ["kind": "kill"]
        case .date(let notBefore): return ["kind": "date", "value": Iso8601.string(seconds: notBefore)]
        case .nativeVersion(let atLeast): return ["kind": "nativeVersion", "value": atLeast]
        }
    }

    static func bundle(_ b: BundleInfo) -> Payload {
        let role: String
        switch b.status {
        case .current: role = "current"
        case .fallback: role = "fallback"
        case .trial: role = "trial"
        case .next: role = "next"
        case .ready: role = "ready"
        case .failed: role = "failed"
        }
        var p: Payload = [
            "id": b.id, "version": b.version, "downloaded": Iso8601.string(seconds: b.installedAt),
            "checksum": b.id, "status": b.status == .failed ? "error" : "success", "role": role,
            "channel": b.channel, "sequence": b.sequence,
        ]
        if let r = b.failedReason { p["failedReason"] = r }
        return p
    }

    static func builtin(_ version: String) -> Payload {
        ["id": Args.builtin, "version": version, "downloaded": "", "checksum": "", "status": "success",
         "role": "builtin", "channel": "", "sequence": 0]
    }

    static func partial(_ id: String, _ version: String, status: String, role: String) -> Payload {
        ["id": id, "version": version, "downloaded": "", "checksum": id, "status": status, "role": role,
         "channel": "", "sequence": 0]
    }

    static func byId(_ id: String, _ installed: [BundleInfo], builtinVersion: String, version: String = "") -> Payload {
        if id == Args.builtin { return builtin(builtinVersion) }
        if let b = installed.first(where: { $0.id == id }) { return bundle(b) }
        return partial(id, version, status: "success", role: "ready")
    }

    static func latest(_ c: CheckResult, servingVersion: String) -> Payload {
        switch c {
        case .updateAvailable(let channel, let sequence, let version, let size):
            return ["version": version, "available": true, "sequence": sequence, "channel": channel, "bundleSize": size]
        case .noUpdate(let code, let reason):
            return ["version": servingVersion, "available": false, "error": code, "message": reason]
        }
    }

    static func history(_ h: HistoryEntry) -> Payload {
        var p: Payload = ["seq": h.seq, "at": Iso8601.string(seconds: h.at), "event": h.event, "detail": h.detail]
        if let b = h.bundle { p["bundle"] = b }
        return p
    }

    static func outcome(_ o: UpdateOutcome, _ installed: [BundleInfo], builtinVersion: String) -> Payload {
        switch o {
        case .installed(let id, let version, _, let downloaded, _, let delta, let fallback, _):
            var p: Payload = ["outcome": "installed", "bundle": byId(id, installed, builtinVersion: builtinVersion, version: version),
                              "downloadedBytes": downloaded, "delta": delta]
            if let f = fallback { p["reason"] = f }
            return p
        case .noUpdate(let code, let reason):
            return ["outcome": "noUpdate", "code": code, "reason": reason]
        }
    }

    static func outcomeError(_ e: Error) -> Payload {
        let err = PluginError.from(e)
        var p: Payload = ["outcome": "error", "error": err.code, "reason": err.message]
        if let c = err.check { p["code"] = c }
        return p
    }
}

/// What the plugin does for one core event (EventMapper.kt's `Action`).
enum Action {
    case emit(String, Payload)
    case reload(bundleId: String, path: String?)
    case failed(Payload)
}

struct EventMapper {
    let builtinVersion: String
    let installed: () -> [BundleInfo]

    func map(_ event: Event) -> [Action] {
        switch event {
        case .download(let version, let percent, let downloaded, let total):
            return [.emit("download", ["percent": Int(percent), "bundle": Payloads.partial("", version, status: "downloading", role: "offered"),
                                       "downloadedBytes": downloaded, "totalBytes": total])]
        case .noNeedUpdate(let reason):
            return [.emit("noNeedUpdate", ["bundle": serving(), "reason": reason])]
        case .updateAvailable(let sequence, let version):
            var b = Payloads.partial("", version, status: "pending", role: "offered")
            b["sequence"] = sequence
            return [.emit("updateAvailable", ["bundle": b])]
        case .downloadComplete(let id, let version):
            return [.emit("downloadComplete", ["bundle": bundle(id, version)])]
        case .downloadFailed(let version, let error):
            return [.emit("downloadFailed", ["version": version, "error": error])]
        case .updateFailed(let id, let version, let reason):
            var b = bundle(id, version)
            b["status"] = "error"
            b["role"] = "failed"
            let p: Payload = ["bundle": b, "reason": reason]
            return [.failed(p), .emit("updateFailed", p)]
        case .set(let id):
            return [.emit("set", ["bundle": bundle(id)])]
        case .setNext(let id):
            return [.emit("setNext", ["bundle": bundle(id)])]
        case .appReady(let id):
            return [.emit("appReady", ["bundle": bundle(id), "status": "ok"])]
        case .reloadRequired(let id, let path, _):
            return [.reload(bundleId: id, path: path)]
        case .deltaFallback(let reason):
            return [.emit("deltaFallback", ["reason": reason])]
        case .stateReset(let reason):
            return [.emit("stateReset", ["reason": reason])]
        case .updateFinished(let outcome):
            return [.emit("updateCheckResult", Payloads.outcome(outcome, installed(), builtinVersion: builtinVersion))]
        case .updateError(let error):
            return [.emit("updateCheckResult", Payloads.outcomeError(error))]
        }
    }

    private func bundle(_ id: String, _ version: String = "") -> Payload {
        Payloads.byId(id, installed(), builtinVersion: builtinVersion, version: version)
    }

    private func serving() -> Payload {
        let all = installed()
        if let b = all.first(where: { $0.status == .trial }) ?? all.first(where: { $0.status == .current }) {
            return Payloads.bundle(b)
        }
        return Payloads.builtin(builtinVersion)
    }
}
