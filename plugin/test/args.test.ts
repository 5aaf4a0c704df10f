import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LiveshipArgumentError } from '../src/args';
import type { LiveshipPlugin } from '../src/definitions';
import { withReadiness } from '../src/readiness';
import { A, FakeNative } from './fake-native';
import type { Call } from './fake-native';

function setup(): { fake: FakeNative; liveship: LiveshipPlugin; call: (m: string, o?: unknown) => Promise<unknown> } {
  const fake = new FakeNative(A);
  const liveship = withReadiness(fake.asPlugin(), {});
  const call = (m: string, o?: unknown) => (liveship as unknown as Record<string, (o?: unknown) => Promise<unknown>>)[m](o);
  return { fake, liveship, call };
}

async function rejectsWith(p: Promise<unknown>, field: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LiveshipArgumentError, `expected LiveshipArgumentError, got ${String(e)}`);
    assert.equal(e.code, 'invalidArgument');
    assert.equal(e.field, field);
    return true;
  });
}

test('bundle ids are checked before reaching native code', async () => {
  const { fake, call } = setup();
  for (const m of ['next', 'set', 'delete']) {
    for (const bad of [undefined, {}, { id: '' }, { id: '../etc' }, { id: 'A'.repeat(16) }, { id: 7 }, { id: 'a'.repeat(15) }, { id: 'a'.repeat(65) }]) {
      await rejectsWith(call(m, bad), bad === undefined ? 'options' : 'id');
    }
  }
  assert.deepEqual(fake.calls, [], 'nothing crossed the bridge');
  await call('next', { id: A });
  await call('set', { id: 'builtin' });
  assert.deepEqual(fake.calls, [
    { method: 'next', options: { id: A } },
    { method: 'set', options: { id: 'builtin' } },
  ]);
});

test('the built-in bundle cannot be deleted', async () => {
  const { fake, call } = setup();
  await rejectsWith(call('delete', { id: 'builtin' }), 'id');
  assert.deepEqual(fake.calls, []);
});

test('channel names follow the release format rule', async () => {
  const { fake, call } = setup();
  for (const bad of ['', 'Beta', '-beta', 'a/b', 'x'.repeat(65), 3]) {
    await rejectsWith(call('setChannel', { channel: bad }), 'channel');
  }
  await rejectsWith(call('setChannel', { channel: 'beta', triggerAutoUpdate: 'yes' }), 'triggerAutoUpdate');
  await rejectsWith(call('getLatest', { channel: 'Prod' }), 'channel');
  assert.deepEqual(fake.calls, []);
  await call('setChannel', { channel: 'beta-2.x_y' });
  assert.equal(fake.calls.length, 1);
});

test('download refuses Capgo session keys and checksums', async () => {
  const { fake, call } = setup();
  await rejectsWith(call('download', { url: 'https://x', version: '1', sessionKey: 'k' }), 'sessionKey');
  await rejectsWith(call('download', { checksum: 'abc' }), 'checksum');
  await rejectsWith(call('download', { url: '' }), 'url');
  assert.deepEqual(fake.calls, []);
  await call('download');
  await call('download', { version: '1.2.3' });
  assert.equal(fake.calls.length, 2);
});

test('delay conditions are checked and normalised', async () => {
  const { fake, call } = setup();
  const cases: [unknown, string][] = [
    [{ delayConditions: [] }, 'delayConditions'],
    [{}, 'delayConditions'],
    [{ delayConditions: [{ kind: 'nativeVersion' }] }, 'delayConditions[0].value'],
    [{ delayConditions: [{ kind: 'nativeVersion', value: ' 2.0' }] }, 'delayConditions[0].value'],
    [{ delayConditions: [{ kind: 'date', value: '2030-01-01T00:00:00' }] }, 'delayConditions[0].value'],
    [{ delayConditions: [{ kind: 'date', value: '2030-01-01T00:00Z' }] }, 'delayConditions[0].value'],
    [{ delayConditions: ['kill'] }, 'delayConditions[0]'],
    [{ delayConditions: [{ kind: 'soon' }] }, 'delayConditions[0].kind'],
    [{ delayConditions: [{ kind: 'kill' }, { kind: 'date', value: 'tomorrow' }] }, 'delayConditions[1].value'],
    [{ delayConditions: [{ kind: 'date' }] }, 'delayConditions[0].value'],
    [{ delayConditions: [{ kind: 'background', value: '5 min' }] }, 'delayConditions[0].value'],
    [{ delayConditions: [{ kind: 'background', value: 300 }] }, 'delayConditions[0].value'],
  ];
  for (const [options, field] of cases) await rejectsWith(call('setMultiDelay', options), field);
  assert.deepEqual(fake.calls, []);
  await call('setMultiDelay', {
    delayConditions: [
      { kind: 'background', value: '300000', extra: 1 },
      { kind: 'date', value: '2030-01-01T00:00:00Z' },
      { kind: 'kill' },
      { kind: 'nativeVersion', value: '2.1.0' },
    ],
  });
  assert.deepEqual((fake.calls[0] as Call).options, {
    delayConditions: [
      { kind: 'background', value: '300000' },
      { kind: 'date', value: '2030-01-01T00:00:00Z' },
      { kind: 'kill' },
      { kind: 'nativeVersion', value: '2.1.0' },
    ],
  });
});

test('reset and consent take booleans only', async () => {
  const { fake, call } = setup();
  await rejectsWith(call('reset', { toLastSuccessful: 'true' }), 'toLastSuccessful');
  await rejectsWith(call('setConsent', { telemetry: 1 }), 'telemetry');
  await rejectsWith(call('setConsent'), 'options');
  assert.deepEqual(fake.calls, []);
  await call('reset');
  await call('setConsent', { telemetry: false });
  assert.deepEqual(fake.calls.map((c: Call) => c.method), ['reset', 'setConsent']);
});

test('invalid arguments reject the promise instead of throwing synchronously', () => {
  const { call } = setup();
  let p: Promise<unknown> | undefined;
  assert.doesNotThrow(() => {
    p = call('next', { id: 'nope' });
  });
  return assert.rejects(p!, LiveshipArgumentError);
});

test('methods without arguments and listeners pass through untouched', async () => {
  const { fake, liveship } = setup();
  const listener = () => undefined;
  await liveship.addListener('download', listener);
  await liveship.list();
  assert.deepEqual(fake.calls, [
    { method: 'addListener', options: 'download' },
    { method: 'list', options: undefined },
  ]);
});

test('an empty native answer for getNextBundle or getFailedUpdate becomes null', async () => {
  const { liveship } = setup();
  assert.equal(await liveship.getNextBundle(), null);
  assert.equal(await liveship.getFailedUpdate(), null);
});
