// The test app's script: what an app using Liveship does on every start, and a record of what
// its page saw. `window.__APP__` (set by the bundle's index.html) says which release this is and
// how it behaves:
//   good    calls notifyAppReady() as soon as it starts;
//   manual  waits for the test to call window.__ready();
//   broken  throws before it gets to notifyAppReady() (a release that fails to boot).
// Every event a listener receives goes into window.__log and, through the binding the test
// exposes (window.__report), to the test, tagged with this page's random id: so the test can
// tell which page, of which bundle, received what, even after the page is gone.
(function () {
  'use strict';
  var app = window.__APP__;
  var page = Math.random().toString(36).slice(2);
  window.__page = page;
  window.__log = [];

  function show() {
    var el = document.getElementById('log');
    if (el) el.textContent = window.__log.map(function (e) { return e.event + ' ' + summary(e.data); }).join('\n');
  }
  /** One readable line of an event's data: its bundle, progress, reason. */
  function summary(d) {
    if (!d) return '';
    var parts = [];
    if (d.bundle) parts.push('bundle ' + (d.bundle.id || '(offered)') + ' ' + d.bundle.version + ' ' + d.bundle.role);
    ['mode', 'percent', 'outcome', 'status', 'reason'].forEach(function (k) { if (d[k] !== undefined) parts.push(k + ' ' + d[k]); });
    return parts.join(', ');
  }
  function record(event, data) {
    var entry = { event: event, data: data, at: Date.now() };
    window.__log.push(entry);
    if (typeof window.__report === 'function') {
      window.__report({ page: page, version: app.version, bundleId: window.__LIVESHIP_BUNDLE_ID__, event: event, data: data });
    }
    show();
  }
  document.addEventListener('DOMContentLoaded', show);

  record('start', { mode: app.mode });
  if (app.mode === 'broken') throw new Error('release ' + app.version + ' is broken: it fails before notifyAppReady');

  var Liveship = window.capacitorLiveship.Liveship;
  window.__L = Liveship;
  ['download', 'noNeedUpdate', 'updateAvailable', 'downloadComplete', 'downloadFailed', 'updateFailed', 'set',
    'setNext', 'appReloaded', 'appReady', 'updateCheckResult'].forEach(function (name) {
    Liveship.addListener(name, function (data) { record(name, data); });
  });

  window.__ready = function () {
    return Liveship.notifyAppReady().then(function (r) {
      record('notifyAppReady', r);
      return r;
    }, function (e) {
      record('notifyAppReady:rejected', { message: e.message, code: e.code });
      throw e;
    });
  };
  if (app.mode === 'good') window.__ready().catch(function () { /* recorded */ });
})();
