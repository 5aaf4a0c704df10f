import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BUNDLE_ID_GLOBAL, withReadiness } from '../src/readiness';
import { A, B, FakeNative } from './fake-native';

test('an outgoing page cannot confirm the incoming bundle', async () => {
  // Page of bundle A starts; then the app switches to B (now on trial) before A's page confirms.
  const fake = new FakeNative(A);
  const liveship = withReadiness(fake.asPlugin(), {});
  await new Promise((r) => setImmediate(r));
  fake.swapTo(B);

  await liveship.notifyAppReady();

  assert.deepEqual(fake.calls, [{ method: 'notifyAppReady', options: { bundleId: A } }]);
  assert.equal(fake.current, A, 'A stays the confirmed bundle');
  assert.equal(fake.trial, B, 'B is still on trial: only its own page can confirm it');
});

test('the incoming page confirms its own bundle', async () => {
  const fake = new FakeNative(A);
  fake.swapTo(B);
  const liveship = withReadiness(fake.asPlugin(), {});
  const result = await liveship.notifyAppReady();
  assert.equal(result.bundle.id, B);
  assert.equal(fake.trial, undefined);
});

test('the id injected by the native start-up script wins over asking current()', async () => {
  const fake = new FakeNative(A, B); // the native side already serves B on trial ...
  const liveship = withReadiness(fake.asPlugin(), { [BUNDLE_ID_GLOBAL]: A }); // ... but this page came from A
  await liveship.notifyAppReady();
  assert.equal(fake.currentCalls, 0, 'no bridge round trip when the id was injected');
  assert.deepEqual(fake.calls, [{ method: 'notifyAppReady', options: { bundleId: A } }]);
  assert.equal(fake.trial, B, 'B still has to confirm from its own page');
});

test('an empty or non-string injected id is ignored', async () => {
  for (const bad of ['', 42, null, { id: A }]) {
    const fake = new FakeNative(A);
    const liveship = withReadiness(fake.asPlugin(), { [BUNDLE_ID_GLOBAL]: bad });
    await liveship.notifyAppReady();
    assert.equal(fake.currentCalls, 1, `fell back to current() for ${JSON.stringify(bad)}`);
    assert.deepEqual(fake.confirmed, [A]);
  }
});

test('the page bundle is captured when the page starts, once', async () => {
  const fake = new FakeNative(A);
  const liveship = withReadiness(fake.asPlugin(), {});
  assert.equal(fake.currentCalls, 1, 'asked while the module was evaluated, before any notifyAppReady');
  await liveship.notifyAppReady();
  fake.swapTo(B);
  await liveship.notifyAppReady();
  assert.equal(fake.currentCalls, 1);
  assert.equal(fake.trial, B, 'the second call still speaks for A');
  assert.deepEqual(
    fake.calls.map((c) => c.options),
    [{ bundleId: A }, { bundleId: A }],
  );
});

test('an app cannot pass another bundle id to notifyAppReady', async () => {
  const fake = new FakeNative(A);
  const liveship = withReadiness(fake.asPlugin(), {});
  fake.swapTo(B);
  await (liveship.notifyAppReady as (o: unknown) => Promise<unknown>)({ bundleId: B });
  assert.deepEqual(fake.confirmed, [A]);
  assert.equal(fake.trial, B);
});

test('a failed capture makes notifyAppReady reject, not confirm something else', async () => {
  const fake = new FakeNative(A);
  fake.failCurrent = true;
  const liveship = withReadiness(fake.asPlugin(), {});
  await assert.rejects(liveship.notifyAppReady(), /bridge not ready/);
  assert.deepEqual(fake.confirmed, []);
});
