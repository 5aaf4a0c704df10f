"""Lifecycle of a Liveship device driven through the generated Python bindings.

Run by scripts/bindings-test.sh, which builds the library, generates `liveship.py` next to a
link to `libliveship.so`, publishes two releases with the real CLI and serves them on loopback:
repo-a holds release 1 (its page confirms), repo-b the same repository after a broken release 2
(its page never confirms). Environment: LIVESHIP_TEST_WORK, LIVESHIP_TEST_KEYS_JSON,
LIVESHIP_TEST_URL_A, LIVESHIP_TEST_URL_B, LIVESHIP_TEST_BUILTIN.

Each step asserts what the app would rely on; any failure exits non-zero.
"""

import json
import os
import socket
import sys
import threading

import liveship as ls

ENV = os.environ
WORK = ENV["LIVESHIP_TEST_WORK"]
KEYS = json.load(open(ENV["LIVESHIP_TEST_KEYS_JSON"]))
DATA = os.path.join(WORK, "python-device")
APP_ID = "com.example.liveship"


class Events(ls.EventListener):
    def __init__(self):
        self.lock = threading.Lock()
        self.events = []
        self.done = threading.Event()

    def on_event(self, event):
        with self.lock:
            self.events.append(event)
        if event.is_update_finished() or event.is_update_error():
            self.done.set()

    def take(self):
        with self.lock:
            out, self.events = self.events, []
        return out


class Logs(ls.Logger):
    def __init__(self):
        self.records = []

    def log(self, level, target, message):
        self.records.append((level, target, message))


def config(url, **extra):
    """The record form of the configuration (the keys come from `liveship keygen`)."""
    return ls.Config(
        app_id=APP_ID,
        platform="android",
        native_version="1.0.0",
        data_dir=DATA,
        builtin_dir=ENV["LIVESHIP_TEST_BUILTIN"],
        update_url=url,
        update_mode=ls.UpdateMode.STATIC,
        apply_mode=ls.ApplyMode.NEXT_LAUNCH,
        allow_insecure_loopback=True,
        app_ready_timeout_ms=600_000,
        public_keys=[
            ls.PublicKey(key_id=k["keyId"], public_key=k["publicKey"], channels=k["channels"])
            for k in KEYS["publicKeys"]
        ],
        bundle_keys=[ls.BundleKey(key_id=k["keyId"], key=k["key"]) for k in KEYS["bundleKeys"]],
        **extra,
    )


def from_json(url):
    """The JSON form: what a plugin passes through from `plugins.Liveship`."""
    plugin = dict(KEYS, updateUrl=url, allowInsecureLoopback=True, appReadyTimeout=600_000)
    host = ls.HostInfo(
        app_id=APP_ID,
        platform="android",
        native_version="1.0.0",
        data_dir=DATA,
        builtin_dir=ENV["LIVESHIP_TEST_BUILTIN"],
    )
    return json.dumps(plugin), host


def expect_error(kind, fn):
    try:
        fn()
    except kind as e:
        return e
    raise AssertionError(f"expected {kind.__name__}")


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    logs = Logs()
    assert ls.set_logger(logs, ls.LogLevel.DEBUG), "the log bridge must be the process logger"
    events = Events()

    # -- release 1: a good update, confirmed by its page
    u = ls.Updater(config(ENV["LIVESHIP_TEST_URL_A"]), events)
    first = u.launch()
    assert first.id == "builtin" and first.path is None and not first.trial, first
    assert len(u.device_id()) == 32
    # Consent is a typed level across the FFI; nothing is queued without a statsUrl.
    assert u.consent() == ls.Consent.OFF
    assert u.set_consent(ls.Consent.ANONYMOUS) == 0
    assert u.consent() == ls.Consent.ANONYMOUS
    assert u.set_consent(ls.Consent.OFF) == 0
    flushed = u.flush_stats()
    assert (flushed.sent, flushed.remaining) == (0, 0), flushed

    check = u.check()
    assert check.is_update_available(), check
    assert (check.sequence, check.version, check.channel) == (1, "1.0.0", "production"), check

    events.take()
    outcome = u.download_and_install()
    assert outcome.is_installed(), outcome
    assert outcome.sequence == 1 and not outcome.applied, outcome
    got = events.take()
    progress = [e for e in got if e.is_download()]
    assert progress and progress[-1].percent == 100, got
    assert any(e.is_download_complete() and e.bundle_id == outcome.id for e in got), got
    assert any(e.is_set_next() for e in got), got
    assert [b.status for b in u.list()] == [ls.BundleStatus.NEXT]

    trial = u.launch()
    assert trial.id == outcome.id and trial.trial and trial.path and os.path.isdir(trial.path), trial
    assert os.path.isfile(os.path.join(trial.path, "index.html"))

    # The outgoing (built-in) page cannot confirm the incoming bundle.
    e = expect_error(ls.LiveshipError.InvalidArgument, lambda: u.notify_app_ready("builtin"))
    assert "not on trial" in e.reason, e.reason

    ready = u.notify_app_ready(trial.id)
    assert ready.is_promoted() and ready.previous is None, ready
    assert any(e.is_app_ready() for e in events.take())
    again = u.launch()
    assert again.id == trial.id and not again.trial and again.reverted is None, again
    assert u.current().id == trial.id
    good_id = trial.id
    del u

    # -- release 2: broken (never confirms), reverted at the next launch, then refused
    plugin_json, host = from_json(ENV["LIVESHIP_TEST_URL_B"])
    u = ls.Updater.from_json(plugin_json, host, events)
    assert u.launch().id == good_id

    # Foreground trigger: the work runs on a core thread and reports through the listener.
    events.take()
    u.start_download_and_install()
    assert events.done.wait(60), "no UpdateFinished/UpdateError within 60 s"
    got = events.take()
    finished = [e for e in got if e.is_update_finished()]
    assert finished and finished[0].outcome.is_installed(), got
    broken_id = finished[0].outcome.id
    assert finished[0].outcome.version == "2.0.0-broken"
    assert any(e.is_download() for e in got), got

    trial = u.launch()
    assert trial.id == broken_id and trial.trial, trial
    del u  # the app dies before its page calls notifyAppReady

    u = ls.Updater.from_json(plugin_json, host, events)
    back = u.launch()
    assert back.id == good_id and not back.trial, back
    assert back.reverted is not None and back.reverted.id == broken_id, back
    assert "notifyAppReady" in back.reverted.reason, back.reverted
    assert any(e.is_update_failed() and e.bundle_id == broken_id for e in events.take())
    statuses = {b.id: b.status for b in u.list()}
    assert statuses[broken_id] == ls.BundleStatus.FAILED, statuses
    assert statuses[good_id] == ls.BundleStatus.CURRENT, statuses

    check = u.check()
    assert check.is_no_update() and check.code in ("blocklisted", "upToDate"), check
    assert [h.event for h in u.history()], "history must record the transitions"

    # Channels: set, read back, unset.
    u.set_channel("beta")
    assert u.get_channel() == "beta"
    u.unset_channel()
    assert u.get_channel() == "production"
    expect_error(ls.LiveshipError.InvalidArgument, lambda: u.set_channel(""))

    # Errors arrive as typed exceptions with their fields.
    e = expect_error(ls.LiveshipError.InvalidArgument, lambda: u.notify_app_ready(broken_id))
    assert broken_id in e.reason
    e = expect_error(ls.LiveshipError.InvalidArgument, lambda: u.delete(good_id))
    assert "current" in e.reason, e.reason
    e = expect_error(
        ls.LiveshipError.Verification,
        lambda: u.install_from_file(os.path.join(WORK, "www", "repo-a", "channels", "production.json")),
    )
    assert e.check.startswith("policy."), e.check
    del u

    offline = ls.Updater(config(f"http://127.0.0.1:{closed_port()}/", response_timeout=2), None)
    e = expect_error(ls.LiveshipError.Network, offline.check)
    assert "127.0.0.1" in e.reason, e.reason
    e = expect_error(
        ls.LiveshipError.InvalidArgument,
        lambda: ls.Updater(config(None), None).check(),
    )
    assert "updateUrl" in e.reason, e.reason
    e = expect_error(ls.LiveshipError.InvalidArgument, lambda: ls.Updater.from_json("[]", host, None))
    assert "not an object" in e.reason

    assert any(t.startswith("liveship") for (_, t, _) in logs.records), "no core log records"
    print(f"python lifecycle: OK ({len(logs.records)} log records)")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"python lifecycle: FAILED: {e!r}", file=sys.stderr)
        raise
