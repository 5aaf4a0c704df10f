// Lifecycle of a Liveship device driven through the generated Kotlin bindings (JNA), the way the
// Android plugin uses them. Run by scripts/bindings-test.sh, which compiles this file with the
// generated io/liveship/liveship.kt, publishes two releases with the real CLI and serves them on
// loopback: repo-a holds release 1 (its page confirms), repo-b the same repository after a broken
// release 2 (its page never confirms). Environment: LIVESHIP_TEST_WORK, LIVESHIP_TEST_KEYS_JSON,
// LIVESHIP_TEST_URL_A, LIVESHIP_TEST_URL_B, LIVESHIP_TEST_BUILTIN.
//
// Every step checks what the app relies on; a failed check exits with status 1.

import io.liveship.*
import java.io.File
import java.net.ServerSocket
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess

const val APP_ID = "com.example.liveship"

fun env(name: String): String = System.getenv(name) ?: error("$name is not set (run scripts/bindings-test.sh)")

fun check(cond: Boolean, what: () -> String) {
    if (!cond) throw AssertionError(what())
}

inline fun <reified E : LiveshipException> expectError(block: () -> Unit): E {
    try {
        block()
    } catch (e: LiveshipException) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing was thrown")
}

class Events : EventListener {
    private val events = mutableListOf<Event>()
    var finished = CountDownLatch(1)

    override fun onEvent(event: Event) {
        synchronized(events) { events.add(event) }
        if (event is Event.UpdateFinished || event is Event.UpdateError) finished.countDown()
    }

    fun take(): List<Event> = synchronized(events) { events.toList().also { events.clear() } }
}

class Logs : Logger {
    val records = java.util.Collections.synchronizedList(mutableListOf<Triple<LogLevel, String, String>>())

    override fun log(level: LogLevel, target: String, message: String) {
        records.add(Triple(level, target, message))
    }
}

/** Values out of keygen's liveship.config.json (no JSON library on this classpath). */
fun field(json: String, name: String): String =
    Regex("\"$name\"\\s*:\\s*\"([^\"]+)\"").find(json)?.groupValues?.get(1) ?: error("no $name in keys JSON")

fun closedPort(): Int = ServerSocket(0).use { it.localPort }

fun main() {
    try {
        run()
        println("kotlin lifecycle: OK")
    } catch (e: Throwable) {
        System.err.println("kotlin lifecycle: FAILED: $e")
        e.printStackTrace()
        exitProcess(1)
    }
}

fun run() {
    val work = env("LIVESHIP_TEST_WORK")
    val keysJson = File(env("LIVESHIP_TEST_KEYS_JSON")).readText()
    val dataDir = "$work/kotlin-device"
    val builtin = env("LIVESHIP_TEST_BUILTIN")

    val logs = Logs()
    check(setLogger(logs, LogLevel.DEBUG)) { "the log bridge must be the process logger" }
    val events = Events()

    fun config(url: String?, responseTimeout: ULong? = null) = Config(
        appId = APP_ID,
        platform = "android",
        nativeVersion = "1.0.0",
        dataDir = dataDir,
        builtinDir = builtin,
        updateUrl = url,
        updateMode = UpdateMode.STATIC,
        applyMode = ApplyMode.NEXT_LAUNCH,
        allowInsecureLoopback = true,
        appReadyTimeoutMs = 600_000uL,
        publicKeys = listOf(PublicKey(keyId = field(keysJson, "keyId"), publicKey = field(keysJson, "publicKey"))),
        bundleKeys = listOf(BundleKey(keyId = Regex("\"bundleKeys\"[\\s\\S]*").find(keysJson)!!.value.let { field(it, "keyId") }, key = field(keysJson, "key"))),
    ).let { c -> responseTimeout?.let { c.copy(responseTimeout = it) } ?: c }

    // -- release 1: a good update, confirmed by its page
    var u = Updater(config(env("LIVESHIP_TEST_URL_A")), events)
    val first = u.launch()
    check(first.id == "builtin" && first.path == null && !first.trial) { "first launch: $first" }
    check(u.deviceId().length == 32) { "device id ${u.deviceId()}" }

    val available = u.check()
    check(available is CheckResult.UpdateAvailable && available.sequence == 1uL && available.version == "1.0.0") {
        "check: $available"
    }

    events.take()
    val installed = u.downloadAndInstall()
    check(installed is UpdateOutcome.Installed && installed.sequence == 1uL && !installed.applied) { "update: $installed" }
    installed as UpdateOutcome.Installed
    var got = events.take()
    val progress = got.filterIsInstance<Event.Download>()
    check(progress.isNotEmpty() && progress.last().percent.toInt() == 100) { "progress events: $got" }
    check(got.any { it is Event.DownloadComplete && it.bundleId == installed.id }) { "no DownloadComplete: $got" }
    check(u.list().map { it.status } == listOf(BundleStatus.NEXT)) { "list: ${u.list()}" }

    val trial = u.launch()
    check(trial.id == installed.id && trial.trial && trial.path != null) { "trial launch: $trial" }
    check(File(trial.path!!, "index.html").isFile) { "no index.html in ${trial.path}" }

    // The outgoing (built-in) page cannot confirm the incoming bundle.
    val notOnTrial = expectError<LiveshipException.InvalidArgument> { u.notifyAppReady("builtin") }
    check(notOnTrial.reason.contains("not on trial")) { notOnTrial.reason }

    val ready = u.notifyAppReady(trial.id)
    check(ready is ReadyOutcome.Promoted && ready.previous == null) { "ready: $ready" }
    check(events.take().any { it is Event.AppReady }) { "no AppReady event" }
    val again = u.launch()
    check(again.id == trial.id && !again.trial && again.reverted == null) { "launch after ready: $again" }
    val goodId = trial.id
    u.close()

    // -- release 2: broken (never confirms), reverted at the next launch, then refused
    val pluginJson = keysJson.trimEnd().removeSuffix("}") +
        ", \"updateUrl\": \"${env("LIVESHIP_TEST_URL_B")}\", \"allowInsecureLoopback\": true, \"appReadyTimeout\": 600000}"
    val host = HostInfo(appId = APP_ID, platform = "android", nativeVersion = "1.0.0", dataDir = dataDir, builtinDir = builtin)
    u = Updater.fromJson(pluginJson, host, events)
    check(u.launch().id == goodId) { "restart must serve the confirmed bundle" }

    // Foreground trigger: the work runs on a core thread and reports through the listener.
    events.take()
    u.startDownloadAndInstall()
    check(events.finished.await(60, TimeUnit.SECONDS)) { "no UpdateFinished/UpdateError within 60 s" }
    got = events.take()
    val finished = got.filterIsInstance<Event.UpdateFinished>().firstOrNull()?.outcome
    check(finished is UpdateOutcome.Installed && finished.version == "2.0.0-broken") { "background update: $got" }
    val brokenId = (finished as UpdateOutcome.Installed).id
    check(got.any { it is Event.Download }) { "no progress from the background update: $got" }

    val brokenTrial = u.launch()
    check(brokenTrial.id == brokenId && brokenTrial.trial) { "broken trial: $brokenTrial" }
    u.close() // the app dies before its page calls notifyAppReady

    u = Updater.fromJson(pluginJson, host, events)
    val back = u.launch()
    check(back.id == goodId && !back.trial) { "launch after the broken trial: $back" }
    val reverted = back.reverted
    check(reverted != null && reverted.id == brokenId && reverted.reason.contains("notifyAppReady")) { "reverted: $reverted" }
    check(events.take().any { it is Event.UpdateFailed && it.bundleId == brokenId }) { "no UpdateFailed event" }
    val statuses = u.list().associate { it.id to it.status }
    check(statuses[brokenId] == BundleStatus.FAILED && statuses[goodId] == BundleStatus.CURRENT) { "list: $statuses" }

    val after = u.check()
    check(after is CheckResult.NoUpdate && (after.code == "blocklisted" || after.code == "upToDate")) { "check after revert: $after" }
    check(u.history().isNotEmpty()) { "history must record the transitions" }

    u.setChannel("beta")
    check(u.getChannel() == "beta") { "channel" }
    u.unsetChannel()
    check(u.getChannel() == "production") { "channel after unset" }

    // Errors arrive as the generated exception types with their fields.
    val stale = expectError<LiveshipException.Verification> {
        u.installFromFile("$work/www/repo-a/channels/production.json")
    }
    check(stale.check.startsWith("policy.")) { "check name: ${stale.check}" }
    val inUse = expectError<LiveshipException.InvalidArgument> { u.delete(goodId) }
    check(inUse.reason.contains("current")) { inUse.reason }
    u.close()

    Updater(config("http://127.0.0.1:${closedPort()}/", responseTimeout = 2uL), null).use { offline ->
        val net = expectError<LiveshipException.Network> { offline.check() }
        check(net.reason.contains("127.0.0.1")) { net.reason }
    }
    val bad = expectError<LiveshipException.InvalidArgument> { Updater.fromJson("[]", host, null) }
    check(bad.reason.contains("not an object")) { bad.reason }

    check(logs.records.any { it.second.startsWith("liveship") }) { "no core log records" }
    println("kotlin: ${logs.records.size} log records, last: ${logs.records.lastOrNull()}")
}
