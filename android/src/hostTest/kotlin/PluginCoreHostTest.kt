// Host tests of the plugin's plain-Kotlin layer (io.liveship.capacitor.core), compiled with
// kotlinc against JNA, the generated uniffi bindings and the host-built libliveship.so by
// scripts/plugin-test.sh. That script publishes releases with the real CLI and serves them on
// loopback: repo-a holds release 1.0.0 (sequence 1); repo-b additionally a release 2.0.0 that
// never confirms. Environment: LIVESHIP_TEST_WORK, LIVESHIP_TEST_KEYS_JSON, LIVESHIP_TEST_URL_A,
// LIVESHIP_TEST_URL_B, LIVESHIP_TEST_BUILTIN.
//
// Each test is named for the guarantee it defends; any failure exits with status 1.

import io.liveship.BundleInfo
import io.liveship.BundleStatus
import io.liveship.DelayCondition
import io.liveship.Event
import io.liveship.EventListener
import io.liveship.HostInfo
import io.liveship.LiveshipException
import io.liveship.UpdateOutcome
import io.liveship.Updater
import io.liveship.capacitor.core.Action
import io.liveship.capacitor.core.ArgumentException
import io.liveship.capacitor.core.Args
import io.liveship.capacitor.core.DownloadRequest
import io.liveship.capacitor.core.EventMapper
import io.liveship.capacitor.core.Iso8601
import io.liveship.capacitor.core.Json
import io.liveship.capacitor.core.LiveshipController
import io.liveship.capacitor.core.MemoryStore
import io.liveship.capacitor.core.Payload
import io.liveship.capacitor.core.Payloads
import io.liveship.capacitor.core.PluginError
import io.liveship.capacitor.core.PluginSettings
import java.io.File
import kotlin.system.exitProcess

const val APP_ID = "com.example.liveship"
val A = "a".repeat(16)
val B = "b".repeat(16)

fun env(name: String): String = System.getenv(name) ?: error("$name is not set (run scripts/plugin-test.sh)")

fun check(cond: Boolean, what: () -> String) {
    if (!cond) throw AssertionError(what())
}

inline fun <reified E : Throwable> expect(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing was thrown")
}

fun argError(field: String, block: () -> Unit) {
    val e = expect<ArgumentException>(block)
    check(e.field == field) { "expected field $field, got ${e.field} (${e.message})" }
}

@Suppress("UNCHECKED_CAST")
fun Payload.map(key: String): Payload = this[key] as Payload

val tests = linkedMapOf<String, () -> Unit>()
fun test(name: String, body: () -> Unit) { tests[name] = body }

fun bundleInfo(id: String, status: BundleStatus, reason: String? = null) =
    BundleInfo(id = id, version = "1.2.3", channel = "production", sequence = 7uL, status = status, failedReason = reason, installedAt = 1_700_000_000uL)

// ---------------------------------------------------------------------------------------------
// Argument checks, payloads, event mapping (no library calls)

fun pureTests() {
    test("malformed bundle ids are refused naming the field") {
        for (bad in listOf(null, "", "../x", "A".repeat(16), "a".repeat(15), "a".repeat(65), 5)) argError("id") { Args.bundleId(bad) }
        check(Args.bundleId(A) == A && Args.bundleId("builtin") == "builtin") { "valid ids" }
        argError("id") { Args.deletableBundleId("builtin") }
        argError("bundleId") { Args.pageBundleId("") }
    }
    test("channel names follow the release format rule") {
        for (bad in listOf("", "Beta", "-x", "a/b", "x".repeat(65), 1)) argError("channel") { Args.channel(bad) }
        check(Args.channel("beta-2.x_y") == "beta-2.x_y") { "valid channel" }
    }
    test("download refuses session keys and checksums") {
        argError("sessionKey") { Args.download("https://x/", "1", "k", null) }
        argError("checksum") { Args.download(null, null, null, "abc") }
        argError("url") { Args.download("", null, null, null) }
        check(Args.download(null, "1.0.0", null, null) == DownloadRequest(null, "1.0.0")) { "valid download" }
    }
    test("delay conditions are refused naming the field: empty lists, unknown kinds, bad values") {
        argError("delayConditions") { Args.delayConditions(emptyList<Any>()) }
        argError("delayConditions") { Args.delayConditions(null) }
        argError("delayConditions[0]") { Args.delayConditions(listOf("kill")) }
        argError("delayConditions[0].kind") { Args.delayConditions(listOf(mapOf("kind" to "sometime"))) }
        argError("delayConditions[1].value") { Args.delayConditions(listOf(mapOf("kind" to "kill"), mapOf("kind" to "date", "value" to "soon"))) }
        argError("delayConditions[0].value") { Args.delayConditions(listOf(mapOf("kind" to "date"))) }
        argError("delayConditions[0].value") { Args.delayConditions(listOf(mapOf("kind" to "date", "value" to "2026-13-45T00:00:00Z"))) }
        argError("delayConditions[0].value") { Args.delayConditions(listOf(mapOf("kind" to "background", "value" to "5m"))) }
        argError("delayConditions[0].value") { Args.delayConditions(listOf(mapOf("kind" to "background", "value" to 5000))) }
        argError("delayConditions[0].value") { Args.delayConditions(listOf(mapOf("kind" to "nativeVersion"))) }
        argError("delayConditions[0].value") { Args.delayConditions(listOf(mapOf("kind" to "nativeVersion", "value" to " 2.0"))) }
    }
    test("delay conditions become the core's: milliseconds, Unix seconds, native versions") {
        val ok = Args.delayConditions(
            listOf(
                mapOf("kind" to "background", "value" to "1000"),
                mapOf("kind" to "background"),
                mapOf("kind" to "kill"),
                mapOf("kind" to "date", "value" to "2030-01-01T00:00:00.000Z"),
                mapOf("kind" to "date", "value" to "2030-01-01T01:00:00+01:00"),
                mapOf("kind" to "nativeVersion", "value" to "2.1.0"),
            ),
        )
        val expected = listOf(
            DelayCondition.Background(1000uL),
            DelayCondition.Background(0uL),
            DelayCondition.Kill,
            DelayCondition.Date(1_893_456_000uL),
            DelayCondition.Date(1_893_456_000uL),
            DelayCondition.NativeVersion("2.1.0"),
        )
        check(ok == expected) { "$ok" }
        val back = ok.map(Payloads::delayCondition)
        check(back[0] == mapOf("kind" to "background", "value" to "1000") && back[2] == mapOf("kind" to "kill")) { "$back" }
        check(back[3] == mapOf("kind" to "date", "value" to "2030-01-01T00:00:00Z") && back[5] == mapOf("kind" to "nativeVersion", "value" to "2.1.0")) { "$back" }
    }
    test("bundle payloads carry Capgo's fields and Liveship's role") {
        val p = Payloads.bundle(bundleInfo(A, BundleStatus.NEXT))
        check(p.keys.containsAll(listOf("id", "version", "downloaded", "checksum", "status"))) { "$p" }
        check(p["status"] == "success" && p["role"] == "next" && p["checksum"] == A && p["sequence"] == 7L) { "$p" }
        check(p["downloaded"] == "2023-11-14T22:13:20Z") { "downloaded ${p["downloaded"]}" }
        val f = Payloads.bundle(bundleInfo(B, BundleStatus.FAILED, "never confirmed"))
        check(f["status"] == "error" && f["role"] == "failed" && f["failedReason"] == "never confirmed") { "$f" }
        check(Payloads.builtin("1.0.0")["id"] == "builtin") { "builtin" }
    }
    test("every core event maps to its Capgo name and shape") {
        val installed = listOf(bundleInfo(A, BundleStatus.CURRENT), bundleInfo(B, BundleStatus.TRIAL))
        val mapper = EventMapper("1.0.0") { installed }
        fun emitted(e: Event): Pair<String, Payload> = (mapper.map(e).single() as Action.Emit).let { it.name to it.payload }
        val (dn, dp) = emitted(Event.Download("2.0.0", 40u, 400uL, 1000uL))
        check(dn == "download" && dp["percent"] == 40 && dp.map("bundle")["version"] == "2.0.0" && dp.map("bundle")["status"] == "downloading") { "$dp" }
        check(emitted(Event.NoNeedUpdate("up to date")).let { it.first == "noNeedUpdate" && it.second.map("bundle")["id"] == B }) { "noNeedUpdate" }
        check(emitted(Event.UpdateAvailable(3uL, "2.0.0")).let { it.first == "updateAvailable" && it.second.map("bundle")["status"] == "pending" }) { "updateAvailable" }
        check(emitted(Event.DownloadComplete(A, "1.2.3")).let { it.first == "downloadComplete" && it.second.map("bundle")["id"] == A }) { "downloadComplete" }
        check(emitted(Event.DownloadFailed("2.0.0", "hash")).second == mapOf("version" to "2.0.0", "error" to "hash")) { "downloadFailed" }
        check(emitted(Event.Set(B)).let { it.first == "set" && it.second.map("bundle")["role"] == "trial" }) { "set" }
        check(emitted(Event.SetNext(A)).first == "setNext") { "setNext" }
        check(emitted(Event.AppReady(A)).let { it.first == "appReady" && it.second["status"] == "ok" }) { "appReady" }
        check(emitted(Event.DeltaFallback("x")).first == "deltaFallback") { "deltaFallback" }
        check(emitted(Event.StateReset("x")).first == "stateReset") { "stateReset" }
        val finished = emitted(Event.UpdateFinished(UpdateOutcome.NoUpdate("upToDate", "nothing new")))
        check(finished.first == "updateCheckResult" && finished.second["outcome"] == "noUpdate") { "$finished" }
        val failedUpdate = emitted(Event.UpdateError(LiveshipException.Verification("release.signatureInvalid", "bad signature")))
        check(failedUpdate.second == mapOf("outcome" to "error", "error" to "verification", "reason" to "bad signature", "code" to "release.signatureInvalid")) { "${failedUpdate.second}" }

        val reverted = mapper.map(Event.UpdateFailed(B, "1.2.3", "never confirmed"))
        check(reverted.size == 2 && reverted[0] is Action.Failed && (reverted[1] as Action.Emit).name == "updateFailed") { "$reverted" }
        check((reverted[1] as Action.Emit).payload.map("bundle")["status"] == "error") { "$reverted" }
        check((reverted[1] as Action.Emit).retain && !(mapper.map(Event.Set(A)).single() as Action.Emit).retain) {
            "a revert at start-up is kept for the first listener; ordinary events are not"
        }
        check(mapper.map(Event.ReloadRequired(A, "/data/bundles/a", "applied")) == listOf(Action.Reload(A, "/data/bundles/a", "applied"))) { "reload" }
    }
    test("core errors reach JavaScript as their kind, with the failed check") {
        val v = Payloads.error(LiveshipException.Verification("unpack.hashMismatch", "file x"))
        check(v.code == "verification" && v.check == "unpack.hashMismatch") { "${v.code} ${v.check}" }
        check(Payloads.error(LiveshipException.Busy("lock")).code == "busy") { "busy" }
        check(Payloads.error(ArgumentException("id", "bad")).code == "invalidArgument") { "arg" }
        check(Payloads.error(IllegalStateException("boom")).code == "internal") { "other" }
    }
    test("the JSON writer escapes what it must") {
        val s = Json.write(mapOf("a" to "q\"\\\n\u0001", "b" to listOf(1, 2L, true, null), "c" to mapOf<String, Any>()))
        check(s == """{"a":"q\"\\\n\u0001","b":[1,2,true,null],"c":{}}""") { s }
    }
}

// ---------------------------------------------------------------------------------------------
// The controller against the real library and a loopback release server

class Recorder : EventListener {
    private val events = mutableListOf<Event>()
    override fun onEvent(event: Event) { synchronized(events) { events.add(event) } }
    fun take(): List<Event> = synchronized(events) { events.toList().also { events.clear() } }
}

fun libraryTests() {
    val work = env("LIVESHIP_TEST_WORK")
    val keysJson = File(env("LIVESHIP_TEST_KEYS_JSON")).readText()
    val builtin = env("LIVESHIP_TEST_BUILTIN")
    val dataDir = "$work/plugin-device"
    val urlA = env("LIVESHIP_TEST_URL_A")
    val urlB = env("LIVESHIP_TEST_URL_B")
    val host = HostInfo(appId = APP_ID, platform = "android", nativeVersion = "1.0.0", dataDir = dataDir, builtinDir = builtin)
    fun pluginJson(url: String) = keysJson.trimEnd().removeSuffix("}") +
        ", \"updateUrl\": \"$url\", \"allowInsecureLoopback\": true, \"appReadyTimeout\": 600000, \"builtinVersion\": \"1.0.0\"}"
    val store = MemoryStore()
    val events = Recorder()
    fun open(url: String): Pair<Updater, LiveshipController> {
        val u = Updater.fromJson(pluginJson(url), host, events)
        return u to LiveshipController(u, PluginSettings.of(u.config()), store)
    }
    fun emitted(c: LiveshipController): List<Action> = events.take().flatMap(c.events::map)

    var (u, c) = open(urlA)
    var releaseId = ""

    test("the plugin's settings are the core's parsed configuration, background options included") {
        check(c.settings == PluginSettings(updateUrl = urlA, builtinVersion = "1.0.0", nativeVersion = "1.0.0")) { "${c.settings}" }
        val bgHost = host.copy(dataDir = "$work/plugin-settings-device")
        val json = pluginJson(urlA).removeSuffix("}") +
            ", \"backgroundIntervalMinutes\": 45, \"backgroundUnmeteredOnly\": true, \"backgroundChargingOnly\": true, \"periodCheckDelay\": 600}"
        Updater.fromJson(json, bgHost, null).use { bg ->
            val s = PluginSettings.of(bg.config())
            check(s.backgroundIntervalMinutes == 45L && s.backgroundUnmeteredOnly && s.backgroundChargingOnly) { "$s" }
            check(s.periodCheckDelaySeconds == 600L && s.autoUpdate && s.updateUrl == urlA) { "$s" }
        }
        val bad = pluginJson(urlA).removeSuffix("}") + ", \"backgroundIntervalMinutes\": \"hourly\"}"
        val e = expect<LiveshipException.InvalidArgument> { Updater.fromJson(bad, bgHost, null).close() }
        check(e.message!!.contains("hourly")) { "${e.message}" }
    }
    test("the first launch serves the built-in bundle") {
        val l = c.launch()
        check(l.id == "builtin" && l.path == null) { "$l" }
        val cur = c.current()
        check(cur.map("bundle")["id"] == "builtin" && cur.map("bundle")["version"] == "1.0.0" && cur["native"] == "1.0.0") { "$cur" }
        check(c.isAutoUpdateEnabled()["enabled"] == true) { "autoUpdate" }
        check(c.getNextBundle() == null && c.getFailedUpdate() == null) { "nothing pending" }
    }
    test("download refuses another URL or an unexpected version before installing anything") {
        argError("url") { c.download(DownloadRequest("https://evil.example/", null)) }
        argError("version") { c.download(DownloadRequest(null, "9.9.9")) }
        check(c.list()["bundles"] == emptyList<Any>()) { "nothing installed" }
    }
    test("download installs the signed release as next and reports Capgo's events") {
        events.take()
        val b = c.download(DownloadRequest(urlA, "1.0.0"))
        releaseId = b["id"] as String
        check(b["role"] == "next" && b["version"] == "1.0.0" && releaseId.length == 16) { "$b" }
        val actions = emitted(c).filterIsInstance<Action.Emit>()
        val progress = actions.filter { it.name == "download" }
        check(progress.isNotEmpty() && progress.last().payload["percent"] == 100) { "progress: $actions" }
        check(actions.any { it.name == "downloadComplete" && it.payload.map("bundle")["id"] == releaseId }) { "downloadComplete: $actions" }
        check(c.getNextBundle()?.get("id") == releaseId) { "next bundle" }
    }
    test("the outgoing page cannot confirm the bundle set after it") {
        events.take()
        val swap = c.set(releaseId)
        check(swap.launch.id == releaseId && swap.launch.trial && File(swap.launch.path!!, "index.html").isFile) { "${swap.launch}" }
        val reload = emitted(c).filterIsInstance<Action.Reload>()
        check(swap.announced && reload == listOf(Action.Reload(releaseId, swap.launch.path, reload.firstOrNull()?.reason ?: ""))) {
            "set() must be announced by exactly one ReloadRequired for the trial: $reload"
        }
        val e = expect<LiveshipException.InvalidArgument> { c.notifyAppReady("builtin") }
        check(e.reason.contains("not on trial")) { e.reason }
        check(c.list()["bundles"].toString().contains("role=trial")) { "still on trial: ${c.list()}" }
    }
    test("the incoming page confirms its own bundle") {
        events.take()
        val r = c.notifyAppReady(releaseId)
        check(r.map("bundle")["role"] == "current") { "$r" }
        check(emitted(c).any { it is Action.Emit && it.name == "appReady" && it.payload.map("bundle")["id"] == releaseId }) { "appReady event" }
        check(c.current().map("bundle")["id"] == releaseId) { "current" }
    }
    test("getLatest reports nothing new, and refuses another channel") {
        val l = c.getLatest(null)
        check(l["available"] == false && l["version"] == "1.0.0" && l["error"] is String) { "$l" }
        argError("channel") { c.getLatest("beta") }
        val t = c.triggerUpdateCheck()
        check(t["updateAvailable"] == false) { "$t" }
    }
    test("the channel can be set, read and unset") {
        check(c.setChannel("beta")["status"] == "ok" && c.getChannel()["channel"] == "beta") { "set" }
        argError("channel") { c.setChannel("Beta!") }
        c.unsetChannel()
        check(c.getChannel()["channel"] == "production") { "unset" }
    }
    test("exportData returns the device's state and history as JSON without keys") {
        c.setConsent(true)
        val json = c.exportData()["json"] as String
        check(json.startsWith("{\"deviceId\":\"${c.getDeviceId()["deviceId"]}\"")) { json }
        check(json.contains("\"consent\":{\"telemetry\":true}") && json.contains(releaseId) && json.contains("\"history\":[{")) { json }
        val bundleKey = Regex("\"key\"\\s*:\\s*\"([^\"]+)\"").find(keysJson)!!.groupValues[1]
        check(!json.contains(bundleKey) && !json.contains("127.0.0.1")) { "no keys, no URLs: $json" }
        check(c.getHistory()["history"].toString().isNotEmpty()) { "history" }
    }
    test("a trial that never confirms is reported once by getFailedUpdate") {
        u.close()
        val (u2, c2) = open(urlB)
        u = u2; c = c2
        check(c.launch().id == releaseId) { "restart serves the confirmed release" }
        val b = c.download(DownloadRequest(null, null))
        val brokenId = b["id"] as String
        val applied = c.reload()
        check(applied.announced && applied.launch.id == brokenId && applied.launch.trial) { "reload applies the pending bundle: $applied, list ${c.list()}" }
        u.close() // the app dies before the page confirms
        val (u3, c3) = open(urlB)
        u = u3; c = c3
        events.take()
        val l = c.launch()
        check(l.id == releaseId && l.reverted?.id == brokenId) { "$l" }
        val failed = c.getFailedUpdate()
        check(failed != null && failed.map("bundle")["id"] == brokenId && failed.map("bundle")["status"] == "error") { "$failed" }
        check(c.getFailedUpdate() == null) { "cleared once read" }
        val mapped = emitted(c)
        check(mapped.any { it is Action.Emit && it.name == "updateFailed" } && mapped.any { it is Action.Failed }) { "updateFailed event: $mapped" }
    }
    test("reset goes back to the last confirmed bundle or the built-in one") {
        events.take()
        val plain = c.reload()
        check(!plain.announced && plain.launch.id == releaseId && emitted(c).none { it is Action.Reload }) { "reload without a pending bundle: $plain" }
        val lastGood = c.reset(true)
        check(lastGood.launch.id == releaseId) { "last good: $lastGood, list ${c.list()}" }
        check(c.reset(null).launch.id == "builtin") { "builtin" }
        val p = expect<PluginError> { c.download(DownloadRequest(null, "1.0.0")) }
        check(p.code == "invalidArgument" && p.message!!.contains("no update")) { "${p.message}" }
    }
    test("deleteData serves the built-in bundle, deletes every download and forgets consent") {
        c.setMultiDelay(listOf(mapOf("kind" to "kill")))
        val swap = c.deleteData()
        check(swap.launch.id == "builtin" && swap.launch.path == null) { "${swap.launch}" }
        check(c.list()["bundles"] == emptyList<Any>()) { "bundles left: ${c.list()}" }
        check(!c.consent() && c.delayConditions().isEmpty()) { "flags left: consent ${c.consent()}, delays ${c.delayConditions()}" }
        check(File(dataDir).walkTopDown().none { it.name == "index.html" }) { "bundle files left in $dataDir" }
        u.close()
    }
}

// ---------------------------------------------------------------------------------------------
// setMultiDelay through the controller: the core keeps and decides the conditions

fun delayTests() {
    val work = env("LIVESHIP_TEST_WORK")
    val keysJson = File(env("LIVESHIP_TEST_KEYS_JSON")).readText()
    val url = env("LIVESHIP_TEST_URL_A")
    val events = Recorder()
    val store = MemoryStore()
    val config = keysJson.trimEnd().removeSuffix("}") +
        ", \"updateUrl\": \"$url\", \"allowInsecureLoopback\": true, \"appReadyTimeout\": 600000, \"builtinVersion\": \"1.0.0\"}"
    val host = HostInfo(appId = APP_ID, platform = "android", nativeVersion = "1.0.0", dataDir = "$work/plugin-delay-device", builtinDir = env("LIVESHIP_TEST_BUILTIN"))
    var u = Updater.fromJson(config, host, events)
    var c = LiveshipController(u, PluginSettings.of(u.config()), store)
    fun restart() {
        u.close()
        u = Updater.fromJson(config, host, events)
        c = LiveshipController(u, PluginSettings.of(u.config()), store)
        events.take()
    }
    fun serving(): Any? = c.current().map("bundle")["id"]
    var id = ""

    test("a future date delay keeps a downloaded bundle pending across launches; kill is met by the cold start") {
        check(c.launch().id == "builtin") { "first launch" }
        id = c.download(DownloadRequest(null, null))["id"] as String
        c.setMultiDelay(listOf(mapOf("kind" to "kill"), mapOf("kind" to "date", "value" to "2999-01-01T00:00:00Z")))
        val stored = c.delayConditions()
        check(stored == listOf(mapOf("kind" to "kill"), mapOf("kind" to "date", "value" to "2999-01-01T00:00:00Z"))) { "kept by the core: $stored" }
        check(c.reload().launch.id == "builtin" && c.getNextBundle()?.get("id") == id) { "an in-process reload must not apply a delayed bundle" }
        restart()
        check(c.launch().id == "builtin" && serving() == "builtin") { "a launch must not apply before the date: ${c.current()}" }
        check(c.getNextBundle()?.get("id") == id) { "still pending: ${c.getNextBundle()}" }
        check(c.delayConditions() == listOf(mapOf("kind" to "date", "value" to "2999-01-01T00:00:00Z"))) { "kill met, date left: ${c.delayConditions()}" }
        check((c.exportData()["json"] as String).contains("\"delayConditions\":[{\"kind\":\"date\",\"value\":\"2999-01-01T00:00:00Z\"}]")) { "exportData reports the core's conditions" }
    }
    test("set() refuses to jump a delay and says how to apply now") {
        val e = expect<PluginError> { c.set(id) }
        check(e.message!!.contains("cancelDelay")) { "${e.message}" }
        check(serving() == "builtin") { "nothing applied" }
    }
    test("nativeVersion is accepted and met only once the native app reaches it") {
        c.setMultiDelay(listOf(mapOf("kind" to "nativeVersion", "value" to "2.0.0")))
        restart()
        check(c.launch().id == "builtin" && c.getNextBundle()?.get("id") == id) { "native 1.0.0 < 2.0.0 must wait" }
        check(c.delayConditions() == listOf(mapOf("kind" to "nativeVersion", "value" to "2.0.0"))) { "${c.delayConditions()}" }
    }
    test("cancelDelay lets the next launch take the pending bundle") {
        c.cancelDelay()
        check(c.delayConditions().isEmpty()) { "${c.delayConditions()}" }
        restart()
        val l = c.launch()
        check(l.id == id && l.trial && serving() == id) { "the launch takes the bundle: $l" }
        c.notifyAppReady(id)
    }
    test("a background delay applies on the return to the foreground, decided by the core") {
        c.reset(null)
        c.next(id)
        check(c.getNextBundle()?.get("id") == id) { "pending again: ${c.list()}" }
        c.setMultiDelay(listOf(mapOf("kind" to "background")))
        restart()
        check(c.launch().id == "builtin") { "a launch does not meet background" }
        check(c.onForeground() == null) { "no return from the background yet" }
        c.onBackground()
        events.take()
        val l = c.onForeground()
        check(l?.id == id && serving() == id) { "the return applies it: $l" }
        check(c.delayConditions().isEmpty()) { "${c.delayConditions()}" }
        check(events.take().flatMap(c.events::map).any { it is Action.Reload && it.bundleId == id }) { "announced by ReloadRequired" }
        u.close()
    }
}

fun main() {
    pureTests()
    libraryTests()
    delayTests()
    var failed = 0
    for ((name, body) in tests) {
        try {
            body()
            println("ok   $name")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: $e")
            e.printStackTrace()
        }
    }
    println("kotlin plugin core: ${tests.size - failed} passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
