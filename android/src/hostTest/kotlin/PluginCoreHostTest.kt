// Host test of the plugin's contract as the Android shell drives it: the generated bindings and the
// host-built libliveship.so, through `CapacitorPlugin` (open, start, call, pageLoaded) and a
// recording `PluginListener`, against releases published by the real CLI and served on loopback
// by scripts/plugin-test.sh (repo-a holds release 1.0.0). Environment: LIVESHIP_TEST_WORK,
// LIVESHIP_TEST_KEYS_JSON, LIVESHIP_TEST_URL_A, LIVESHIP_TEST_BUILTIN.
//
// The steps run in order (each needs the state the one before left); any failure exits with 1.

import io.liveship.CapacitorPlugin
import io.liveship.Effect
import io.liveship.HostInfo
import io.liveship.PluginListener
import io.liveship.Reply
import io.liveship.pluginMethods
import java.io.File
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess

fun env(name: String): String = System.getenv(name) ?: error("$name is not set (run scripts/plugin-test.sh)")

fun check(cond: Boolean, what: () -> String) {
    if (!cond) throw AssertionError(what())
}

/** A string field of a JSON object's text (serde_json's compact output). */
fun field(json: String?, key: String): String? = Regex("\"$key\":\"([^\"]*)\"").find(json ?: "")?.groupValues?.get(1)

data class Notified(val event: String, val data: String, val retain: Boolean)

/** The shell's side, recorded: what the core notifies and asks for outside a call. */
class Recorder : PluginListener {
    val events = LinkedBlockingQueue<Notified>()
    override fun notify(event: String, data: String, retain: Boolean) { events.add(Notified(event, data, retain)) }
    override fun perform(effect: Effect) {}

    /** The first event named `name` within 10 s, skipping others. */
    fun await(name: String): Notified {
        while (true) {
            val e = events.poll(10, TimeUnit.SECONDS) ?: throw AssertionError("no $name event within 10 s")
            if (e.event == name) return e
        }
    }
}

fun resolved(r: Reply): Reply.Resolve = r as? Reply.Resolve ?: throw AssertionError("expected a resolve, got $r")
fun rejected(r: Reply, code: String): Reply.Reject {
    check(r is Reply.Reject && r.code == code) { "expected a rejection with code $code, got $r" }
    return r as Reply.Reject
}

fun main() {
    val work = env("LIVESHIP_TEST_WORK")
    val keys = File(env("LIVESHIP_TEST_KEYS_JSON")).readText().trimEnd().removeSuffix("}")
    // autoUpdate off: the calls below, not a cycle started by start(), download the release.
    val config = "$keys, \"updateUrl\": \"${env("LIVESHIP_TEST_URL_A")}\", \"allowInsecureLoopback\": true, \"autoUpdate\": false}"
    fun host(dir: String) = HostInfo(
        appId = "com.example.liveship", platform = "android", nativeVersion = "1.0.0",
        nativeBuild = "1", dataDir = "$work/$dir", builtinDir = env("LIVESHIP_TEST_BUILTIN"),
    )
    val listener = Recorder()
    val plugin = CapacitorPlugin.open(config, host("kotlin-plugin-device"), listener)
    var id = ""
    var servePath = ""
    val steps = linkedMapOf<String, () -> Unit>(
        "a fresh install starts on the built-in bundle, with no background work scheduled" to {
            val s = plugin.start()
            check(s.bundleId == "builtin" && s.path == null && !s.trial) { "$s" }
            check(s.effects == listOf(Effect.CancelBackground)) { "${s.effects}" }
        },
        "download installs the served release and reports progress and completion as events" to {
            val r = resolved(plugin.call("download", "{}"))
            id = field(r.data, "id") ?: throw AssertionError("no id in ${r.data}")
            check(field(r.data, "version") == "1.0.0" && r.effects.isEmpty()) { "$r" }
            check(listener.await("download").data.contains("\"percent\"")) { "download event without percent" }
            check(field(listener.await("downloadComplete").data, "id") == id) { "downloadComplete names another bundle" }
        },
        "set answers with a Serve effect for the shell to carry out" to {
            val r = resolved(plugin.call("set", "{\"id\":\"$id\"}"))
            val serve = r.effects.single() as? Effect.Serve ?: throw AssertionError("${r.effects}")
            check(serve.bundleId == id && r.data == null) { "$r" }
            servePath = serve.path ?: throw AssertionError("Serve without a folder: $serve")
            check(File(servePath, "index.html").readText().contains("release 1")) { "$servePath is not release 1" }
        },
        "only the served bundle's page load completes the swap, once, and appReloaded follows" to {
            check(!plugin.pageLoaded("builtin")) { "the old page completed the swap" }
            check(plugin.pageLoaded(id)) { "the new page did not complete the swap" }
            check(listener.await("appReloaded").retain) { "appReloaded is not retained for the new page" }
            check(!plugin.pageLoaded(id)) { "a second load completed the swap again" }
        },
        "the new page's notifyAppReady confirms it" to {
            val r = resolved(plugin.call("notifyAppReady", "{\"bundleId\":\"$id\"}"))
            check(field(r.data, "id") == id) { "$r" }
            listener.await("appReady")
        },
        "bad arguments reject with invalidArgument naming the field" to {
            check(rejected(plugin.call("set", "{\"id\":\"../x\"}"), "invalidArgument").message.contains("id")) { "no field named" }
            rejected(plugin.call("list", "[1]"), "invalidArgument")
        },
        "a method the core does not know rejects with unimplemented" to {
            rejected(plugin.call("fly", "{}"), "unimplemented")
            check(pluginMethods().containsAll(listOf("notifyAppReady", "download", "set", "setConsent"))) { "${pluginMethods()}" }
        },
        "a refused configuration serves the built-in bundle and rejects every call with the reason" to {
            CapacitorPlugin.open("{\"updateUrl\": 5}", host("kotlin-refused-device"), Recorder()).use { refused ->
                val s = refused.start()
                check(s.bundleId == "builtin" && s.path == null && s.version == "1.0.0") { "$s" }
                check(rejected(refused.call("current", "{}"), "internal").message.contains("did not start")) { "reason" }
            }
        },
    )
    var failed = 0
    for ((name, body) in steps) {
        try {
            body()
            println("ok   $name")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: $e")
        }
    }
    plugin.close()
    println("kotlin plugin host test: ${steps.size - failed} passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
