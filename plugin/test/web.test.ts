import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LiveshipWeb } from '../src/web';

test('the browser build refuses to pretend it updates', async () => {
  const web = new LiveshipWeb();
  const refused = ['download', 'next', 'set', 'reset', 'delete', 'getLatest', 'setChannel', 'unsetChannel',
    'getChannel', 'getDeviceId', 'setMultiDelay', 'cancelDelay', 'deleteData', 'setConsent', 'getConsent',
    // Capgo 8's methods beyond the update cycle.
    'setUpdateUrl', 'setStatsUrl', 'setChannelUrl', 'getAppId', 'setAppId', 'setCustomId', 'setBundleError',
    'getMissingBundleFiles', 'getBundleDownloadSize', 'listChannels', 'setShakeMenu', 'setShakeChannelSelector',
    'startPreviewSession', 'listPreviews', 'setPreview', 'resetPreview', 'deletePreview', 'checkPreviewUpdate',
    'updatePreview', 'getAppUpdateInfo', 'openAppStore', 'performImmediateUpdate', 'startFlexibleUpdate',
    'completeFlexibleUpdate'];
  for (const m of refused) {
    await assert.rejects((web as unknown as Record<string, () => Promise<unknown>>)[m](), (e: unknown) => {
      const err = e as { code?: string; message: string };
      assert.equal(err.code, 'UNIMPLEMENTED', m);
      assert.match(err.message, /live updates run in the Android and iOS apps/, m);
      return true;
    });
  }
});

test('the browser build answers reads truthfully', async () => {
  const web = new LiveshipWeb();
  assert.equal((await web.current()).bundle.id, 'builtin');
  assert.deepEqual(await web.list(), { bundles: [] });
  assert.equal(await web.getNextBundle(), null);
  assert.deepEqual(await web.isAutoUpdateEnabled(), { enabled: false });
  assert.deepEqual(await web.isAutoUpdateAvailable(), { available: false });
  assert.deepEqual(await web.triggerUpdateCheck(), { status: 'unavailable', queued: false });
  assert.deepEqual(await web.isShakeMenuEnabled(), { enabled: false, gesture: 'shake' });
  assert.deepEqual(await web.isShakeChannelSelectorEnabled(), { enabled: false });
  const info = console.info;
  let said = '';
  console.info = (m: string) => (said += m);
  try {
    assert.equal((await web.notifyAppReady()).bundle.id, 'builtin');
  } finally {
    console.info = info;
  }
  assert.match(said, /nothing to confirm in a browser/);
});
