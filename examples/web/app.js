// The example app's only script. It does not talk to the updater yet: it shows which bundle
// is running, so that a live update is visible on screen.
(function () {
  'use strict';

  var APP_VERSION = '1.0.0';

  function show(version) {
    var el = document.getElementById('version');
    if (el) el.textContent = version;
  }

  function listChanges(changes) {
    var ul = document.getElementById('changes');
    if (!ul) return;
    changes.forEach(function (c) {
      var li = document.createElement('li');
      li.textContent = c.version + ': ' + c.text;
      ul.appendChild(li);
    });
  }

  show(APP_VERSION);
  fetch('data/changelog.json')
    .then(function (r) { return r.json(); })
    .then(listChanges)
    .catch(function () { /* the changelog is decoration; the page works without it */ });
})();
