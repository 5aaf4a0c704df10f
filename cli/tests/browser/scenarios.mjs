// End-to-end scenarios of a live update in headless Chromium (issue 11), run by
// scripts/browser-test.sh. The page is an unmodified app (app.js) on Capacitor's real runtime and
// this plugin's IIFE; behind it, `liveship dev` runs the real Rust core. Each scenario publishes
// its releases with the real CLI into its own repository, starts its own `liveship dev` on a
// fresh data folder, and is named for the guarantee it defends.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  APP_ID, OUT, bundleIn, call, keygen, launchBrowser, logOf, must, openApp, pack, scenarioDir, startDev, startServe, waitFor,
  webFolder,
} from './harness.mjs';

/** Long enough for a page to confirm in any scenario that is not about the timeout. */
const CALM = { autoUpdate: false, appReadyTimeout: 30000 };
/** The timeout scenario's appReadyTimeout: short, so the run stays quick. */
const TIMEOUT_MS = 2000;

let browser;
let keys; // the app's main key (production) and bundle key, pinned with `--keys`
let betaKeys; // a second key that may sign for `beta` only

before(async () => {
  browser = await launchBrowser();
  keys = keygen('main', 'production');
  betaKeys = keygen('beta-only', 'beta');
});

after(async () => {
  await browser?.close();
});

/**
 * One named scenario with its folder, the built-in web folder (the `good` app, version
 * `builtin`), a page in a new browser context, and a `start()` that runs `liveship dev` and
 * opens the app. A failure saves a screenshot of the page next to the host's log.
 */
function scenario(name, body) {
  test(name, { timeout: 60000 }, async () => {
    const dir = scenarioDir(name);
    const builtin = webFolder(path.join(dir, 'web-builtin'), { version: 'builtin' });
    const app = await openApp(browser);
    let dev;
    const start = async ({ config = CALM, withKeys = keys } = {}) => {
      dev = await startDev({ dir, name, web: builtin, keys: withKeys, config });
      await app.page.goto(dev.url);
      return dev;
    };
    const release = (opts) => {
      const web = webFolder(path.join(dir, `web-${opts.channel ?? 'production'}-${opts.sequence}`), opts);
      return pack({ web, repo: path.join(dir, 'repo'), keys, ...opts });
    };
    try {
      await body({ ...app, dir, start, release });
      assert.deepEqual(app.errors.filter((e) => !/is broken/.test(e)), [], 'uncaught errors in the app pages');
    } catch (e) {
      const shot = path.join(OUT, `${path.basename(dir)}.failed.png`);
      await app.page.screenshot({ path: shot }).catch(() => {});
      e.message += `\n(liveship dev log: ${dev?.logFile ?? 'not started'}; page: ${shot})`;
      throw e;
    } finally {
      await app.context.close();
      await dev?.stop();
    }
  });
}

/** The page's id (window.__page), to wait for the page that replaces it. */
function pageId(page) {
  return page.evaluate(() => window.__page);
}

/** POST /__liveship/restart, then the first page of the new start, which must be `version`. */
async function restartInto(dev, page, version, wait = {}) {
  const before = await pageId(page);
  await dev.restart();
  await waitFor(page, { version, notPage: before, ...wait });
}

/** triggerUpdateCheck() from the page queues a cycle (Capgo's answer) that finds `r` on offer, and
 *  the page sees its updateAvailable and downloadComplete. */
async function downloadFromPage(page, r) {
  const queued = await must(page, 'triggerUpdateCheck');
  assert.deepEqual(queued, { status: 'queued', queued: true }, JSON.stringify(queued));
  await waitFor(page, { event: 'updateAvailable', where: { 'bundle.version': r.version } });
  await waitFor(page, { event: 'downloadComplete', where: { 'bundle.id': r.id } });
}

scenario('first start serves the built-in bundle and current() from the page says builtin', async ({ page, start }) => {
  const dev = await start();
  await waitFor(page, { version: 'builtin', event: 'notifyAppReady' });
  assert.equal(await page.evaluate(() => window.Capacitor.getPlatform()), 'android',
    'the page runs on Capacitor\'s Android runtime, not the web implementation');
  assert.equal(await page.evaluate(() => window.__LIVESHIP_BUNDLE_ID__), 'builtin');
  const current = await must(page, 'current');
  assert.equal(current.bundle.id, 'builtin');
  assert.equal(current.native, '1.0.0');
  const [ready] = await logOf(page, 'notifyAppReady');
  assert.equal(ready.bundle.id, 'builtin', 'notifyAppReady answers for the bundle the page runs on');
  const state = await dev.state();
  assert.equal(state.serving.bundleId, 'builtin');
  assert.equal(state.channel, 'production');
});

scenario('an update is found and downloaded: download progress reaches a listener and downloadComplete carries the bundle id', async ({ page, start, release }) => {
  // 512 KB that does not compress: the download takes many reads, so progress comes in steps.
  const r = release({ sequence: 1, version: '1.0.1', padding: 512_000 });
  const dev = await start();
  await waitFor(page, { version: 'builtin', event: 'notifyAppReady' });
  await downloadFromPage(page, r);

  const progress = await logOf(page, 'download');
  const percents = progress.map((e) => e.percent);
  // Reports are throttled (100 ms), and loopback is fast: the first read and the end at least.
  assert.ok(percents.length >= 2 && percents[0] < 100, `progress before the end reached the listener: ${percents}`);
  assert.deepEqual(percents, [...percents].sort((a, b) => a - b), 'progress never goes back');
  assert.equal(percents.at(-1), 100);
  for (const e of progress) {
    assert.equal(e.bundle.version, '1.0.1');
    assert.ok(e.downloadedBytes <= e.totalBytes && e.totalBytes > 512_000, JSON.stringify(e));
  }
  const [complete] = await logOf(page, 'downloadComplete');
  assert.equal(complete.bundle.id, r.id, 'downloadComplete names the content id pack printed');
  assert.equal(complete.bundle.version, '1.0.1');
  assert.equal((await must(page, 'getNextBundle')).id, r.id);
  assert.equal(bundleIn(await dev.state(), r.id)?.role, 'next');
  assert.equal((await dev.state()).serving.bundleId, 'builtin', 'a download alone does not switch the bundle');
});

scenario('restart puts the new bundle on trial, and its page\'s notifyAppReady makes it current', async ({ page, start, release }) => {
  const r = release({ sequence: 1, version: '1.0.1', mode: 'manual' });
  const dev = await start();
  await waitFor(page, { version: 'builtin', event: 'notifyAppReady' });
  await downloadFromPage(page, r);

  await restartInto(dev, page, '1.0.1');
  assert.equal(await page.evaluate(() => window.__LIVESHIP_BUNDLE_ID__), r.id);
  let current = await must(page, 'current');
  assert.equal(current.bundle.id, r.id);
  assert.equal(current.bundle.role, 'trial', 'before notifyAppReady the new bundle is on trial');
  assert.equal(bundleIn(await dev.state(), r.id)?.role, 'trial');

  const ready = await page.evaluate(() => window.__ready());
  assert.equal(ready.bundle.id, r.id);
  current = await must(page, 'current');
  assert.equal(current.bundle.role, 'current', 'confirmed by its own page');
  const state = await dev.state();
  assert.equal(bundleIn(state, r.id)?.role, 'current');
  assert.ok(state.history.some((h) => h.event === 'confirmed' && h.bundle === r.id), JSON.stringify(state.history));

  // Confirmed for good: the next start serves it again, not on trial.
  await restartInto(dev, page, '1.0.1');
  assert.equal((await must(page, 'current')).bundle.role, 'current');
});

scenario('a broken release is reverted after appReadyTimeout: the previous bundle\'s page gets updateFailed, and the release is not downloaded again', async ({ page, reports, start, release }) => {
  const good = release({ sequence: 1, version: '1.0.1' });
  const dev = await start({ config: { autoUpdate: false, appReadyTimeout: TIMEOUT_MS } });
  await waitFor(page, { version: 'builtin', event: 'notifyAppReady' });
  await downloadFromPage(page, good);
  await restartInto(dev, page, '1.0.1', { event: 'notifyAppReady' });
  assert.equal(bundleIn(await dev.state(), good.id)?.role, 'current');

  const broken = release({ sequence: 2, version: '1.0.2', mode: 'broken' });
  await downloadFromPage(page, broken);
  const goodPage = await pageId(page);
  await dev.restart();
  // The broken page starts and throws; appReadyTimeout later the host reverts and reloads.
  await waitFor(page, { version: '1.0.1', notPage: goodPage, event: 'updateFailed', where: { 'bundle.id': broken.id }, timeout: TIMEOUT_MS + 15000 });

  const brokenStart = reports.find((e) => e.version === '1.0.2' && e.event === 'start');
  assert.ok(brokenStart, 'the broken release was served on trial');
  const back = reports.find((e) => e.version === '1.0.1' && e.event === 'start' && e.receivedAt > brokenStart.receivedAt);
  assert.ok(back, 'the previous bundle started again after the broken one');
  assert.ok(back.receivedAt - brokenStart.receivedAt >= TIMEOUT_MS / 2,
    `reverted by the timer, not at once (${back.receivedAt - brokenStart.receivedAt} ms after the broken page started)`);
  const [failed] = await logOf(page, 'updateFailed');
  assert.equal(typeof failed.reason, 'string');
  assert.match(failed.reason, /notifyAppReady/, 'updateFailed says why');
  console.log(`  updateFailed reason: ${failed.reason}`);
  assert.equal((await must(page, 'current')).bundle.id, good.id, 'the page is the previous bundle');
  const state = await dev.state();
  assert.equal(state.serving.bundleId, good.id);
  assert.equal(bundleIn(state, broken.id)?.role, 'failed');

  // Never taken again: no offer, no download, and a new start stays on the good bundle.
  const cycles = (await logOf(page, 'updateCheckResult')).length;
  assert.equal((await must(page, 'triggerUpdateCheck')).status, 'queued');
  await page.waitForFunction((n) => window.__log.filter((e) => e.event === 'updateCheckResult').length > n, cycles);
  const again = (await logOf(page, 'updateCheckResult')).at(-1);
  assert.equal(again.outcome, 'noUpdate', `the failed release is not offered again: ${JSON.stringify(again)}`);
  const latest = await must(page, 'getLatest');
  assert.equal(latest.available, false, JSON.stringify(latest));
  await restartInto(dev, page, '1.0.1', { event: 'notifyAppReady' });
  assert.equal((await dev.state()).serving.bundleId, good.id);
  assert.ok(!reports.some((e) => e.version === '1.0.2' && e.receivedAt > back.receivedAt), 'the broken release never ran again');
  assert.deepEqual(await logOf(page, 'download'), []);
});

scenario('the outgoing page\'s late notifyAppReady, after set() switched the bundle, does not confirm the incoming one', async ({ page, reports, nextReport, start, release }) => {
  const r = release({ sequence: 1, version: '1.0.1', mode: 'manual' });
  const dev = await start();
  await waitFor(page, { version: 'builtin', event: 'notifyAppReady' });
  await downloadFromPage(page, r);

  // Hold the reload that set() causes, so the outgoing page is still running when it calls.
  // The page itself calls, as an app would: set(), then notifyAppReady() once set() resolved;
  // by then the host has switched to 1.0.1 and told the page to load it. (Playwright cannot
  // evaluate in a page whose navigation is held, so the result comes back through __report.)
  let go;
  const held = new Promise((resolve) => { go = resolve; });
  let navigating = false;
  await page.route((u) => u.pathname === '/', async (route) => { navigating = true; await held; await route.continue(); });
  const leaving = await pageId(page);
  const mark = reports.length;
  let late;
  try {
    await page.evaluate((id) => { window.__L.set({ id }).then(() => window.__ready()).catch(() => {}); }, r.id);
    late = await nextReport((e) => reports.indexOf(e) >= mark && e.page === leaving && e.event.startsWith('notifyAppReady'),
      'the late notifyAppReady');
  } finally {
    go(); // whatever happened, let the new page load
  }
  await page.unroute((u) => u.pathname === '/');
  assert.ok(navigating, 'the late call was made while the new page was on its way');
  if (late.event === 'notifyAppReady') assert.notEqual(late.data.bundle.id, r.id, `the outgoing page confirmed ${JSON.stringify(late.data)}`);

  await waitFor(page, { version: '1.0.1' });
  const state = await dev.state();
  assert.equal(state.serving.bundleId, r.id);
  assert.equal(bundleIn(state, r.id)?.role, 'trial', 'the incoming bundle is still on trial');
  assert.ok(!state.history.some((h) => h.event === 'confirmed' && h.bundle === r.id), JSON.stringify(state.history));
  // Its own page can confirm it.
  assert.equal((await page.evaluate(() => window.__ready())).bundle.id, r.id);
  assert.equal(bundleIn(await dev.state(), r.id)?.role, 'current');
});

scenario('appReloaded reaches the page that was loaded, not the one that left', async ({ page, reports, start, release }) => {
  const r = release({ sequence: 1, version: '1.0.1' });
  await start();
  await waitFor(page, { version: 'builtin', event: 'notifyAppReady' });
  await downloadFromPage(page, r);
  const leaving = await pageId(page);

  // Not awaited in the page: the reload set() causes may come before its answer.
  await page.evaluate((id) => { window.__L.set({ id }).catch(() => {}); }, r.id);
  await waitFor(page, { version: '1.0.1', event: 'appReloaded' });
  const arrived = await pageId(page);
  const reloaded = reports.filter((e) => e.event === 'appReloaded');
  assert.deepEqual(reloaded.map((e) => e.page), [arrived], `appReloaded went to the new page only, once: ${JSON.stringify(reloaded)}`);
  assert.ok(!reloaded.some((e) => e.page === leaving));
  assert.equal(reloaded[0].bundleId, r.id);
});

scenario('setMultiDelay with a background condition defers a nextLaunch apply', async ({ page, start, release }) => {
  const r = release({ sequence: 1, version: '1.0.1' });
  const dev = await start();
  await waitFor(page, { version: 'builtin', event: 'notifyAppReady' });
  await downloadFromPage(page, r);
  await must(page, 'setMultiDelay', { delayConditions: [{ kind: 'background' }] });

  // A cold start does not meet `background`: the app starts on the built-in bundle again.
  await restartInto(dev, page, 'builtin', { event: 'notifyAppReady' });
  assert.equal((await dev.state()).serving.bundleId, 'builtin');
  assert.equal((await must(page, 'getNextBundle'))?.id, r.id, 'the bundle still waits as next');

  // Leaving the app and coming back meets it: the bundle applies there and then.
  const waiting = await pageId(page);
  await dev.background();
  assert.equal((await dev.state()).serving.bundleId, 'builtin', 'nothing applies while the app is away');
  await dev.foreground();
  await waitFor(page, { version: '1.0.1', notPage: waiting, event: 'notifyAppReady' });
  assert.equal((await dev.state()).serving.bundleId, r.id);
});

/** The channel scenarios pin both keys: `main` (production) and `beta-only`. */
function channelConfig() {
  return { ...CALM, publicKeys: [...keys.publicKeys, ...betaKeys.publicKeys], bundleKeys: keys.bundleKeys };
}

scenario('setChannel moves the device to a channel signed by a key allowed for it', async ({ page, start, release }) => {
  release({ sequence: 1, version: '1.0.1' });
  const beta = release({ channel: 'beta', sequence: 1, version: '2.0.0-beta', keys: { signingKey: betaKeys.signingKey, bundleKey: keys.bundleKey } });
  const dev = await start({ config: channelConfig(), withKeys: null });
  await waitFor(page, { version: 'builtin', event: 'notifyAppReady' });

  const set = await must(page, 'setChannel', { channel: 'beta' });
  assert.equal(set.status, 'ok', JSON.stringify(set));
  assert.equal((await must(page, 'getChannel')).channel, 'beta');
  assert.equal((await dev.state()).channel, 'beta');
  await downloadFromPage(page, beta);
  const [complete] = await logOf(page, 'downloadComplete');
  assert.equal(complete.bundle.channel, 'beta');
  await restartInto(dev, page, '2.0.0-beta', { event: 'notifyAppReady' });
  assert.equal((await dev.state()).serving.bundleId, beta.id);
});

scenario('setChannel to a channel signed by a key not allowed for it is refused', async ({ page, start, release }) => {
  // `qa` signed by the key that may sign for `beta` only.
  release({ channel: 'qa', sequence: 1, version: '3.0.0-qa', keys: { signingKey: betaKeys.signingKey, bundleKey: keys.bundleKey } });
  const dev = await start({ config: channelConfig(), withKeys: null });
  await waitFor(page, { version: 'builtin', event: 'notifyAppReady' });

  await must(page, 'setChannel', { channel: 'qa' });
  const download = await call(page, 'download');
  assert.equal(download.ok, false, 'download() of qa\'s release is refused');
  console.log(`  qa refused: ${download.error.message} (${download.error.data?.check})`);
  assert.equal(download.error.code, 'verification', JSON.stringify(download.error));
  assert.equal(download.error.data?.check, 'release.keyNotAllowedForChannel', 'the refusal names the failed check');
  assert.match(download.error.message, new RegExp(`${betaKeys.publicKeys[0].keyId}.*"qa"`), 'and the key and channel');
  const state = await dev.state();
  assert.deepEqual(state.bundles.filter((b) => b.id !== 'builtin' && b.role !== 'builtin'), [], 'nothing was installed');
  await restartInto(dev, page, 'builtin', { event: 'notifyAppReady' });
});

scenario('screenshots of the app page and of the control page are saved', async ({ page, context, start, release }) => {
  const r = release({ sequence: 1, version: '1.0.1', padding: 200_000 });
  const dev = await start();
  await waitFor(page, { version: 'builtin', event: 'notifyAppReady' });
  await downloadFromPage(page, r);
  await restartInto(dev, page, '1.0.1', { event: 'notifyAppReady' });

  const appShot = path.join(OUT, 'app.png');
  await page.screenshot({ path: appShot, fullPage: true });
  const panel = await context.newPage();
  await panel.goto(dev.url + '__liveship/');
  // The control page shows what the core knows: wait until it names the serving bundle and its
  // log has the confirmation.
  await panel.waitForFunction((id) => document.getElementById('serving')?.textContent.includes(id)
    && /notifyAppReady/.test(document.getElementById('log')?.textContent ?? ''), r.id, { timeout: 15000 });
  const panelShot = path.join(OUT, 'control-page.png');
  await panel.screenshot({ path: panelShot, fullPage: true });
  for (const f of [appShot, panelShot]) {
    const head = fs.readFileSync(f).subarray(0, 8);
    assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${f} is a PNG`);
    console.log(`  screenshot: ${f}`);
  }
});

/**
 * The collector's dashboard (`liveship serve --stats`): a known fleet posted to /stats shows up
 * with its numbers in the table, the adoption lines and failure bars are drawn (non-empty
 * boxes), and a hostile version name is shown as text, never run.
 */
test('dashboard of the stats collector shows the posted fleet with drawn charts', { timeout: 60000 }, async () => {
  const dir = scenarioDir('dashboard');
  const serve = await startServe({ dir, name: 'dashboard', repo: path.join(dir, 'repo'), db: path.join(dir, 'stats.db') });
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  try {
    const now = Math.floor(Date.now() / 1000);
    const event = (device, action, [channel, sequence, version], hoursAgo, extra = {}) => ({
      platform: 'android', device_id: device, app_id: APP_ID, version_build: '1.0.0', version_name: version,
      old_version_name: 'builtin', plugin_version: '0.1.0', channel, sequence, action,
      at: now - Math.round(hoursAgo * 3600), consent: 'anonymous', ...extra,
    });
    const A = ['production', 1, '1.0.1'];
    const B = ['production', 2, '1.0.2'];
    const H = ['beta', 1, '<script>window.__pwned = 1</script>'];
    const events = [];
    // A: 8 devices over 8 hours; each downloads, then confirms an hour later.
    for (let d = 1; d <= 8; d++) {
      events.push(event(`a${d}`, 'download_complete', A, 10 - d, { bytes: 1000 }));
      events.push(event(`a${d}`, 'trial_start', A, 9.5 - d));
      events.push(event(`a${d}`, 'app_ready', A, 9 - d));
    }
    // B: 4 devices download; 2 revert (appReadyTimeout), 1 confirms; 1 more fails the signature.
    for (let d = 1; d <= 4; d++) events.push(event(`b${d}`, 'download_complete', B, 4 - d / 2));
    events.push(event('b1', 'update_fail', B, 2, { reason: 'appReadyTimeout' }));
    events.push(event('b2', 'update_fail', B, 1.5, { reason: 'appReadyTimeout' }));
    events.push(event('b3', 'app_ready', B, 1));
    events.push(event('b5', 'signature_fail', B, 1, { reason: 'release.signatureInvalid' }));
    events.push(event('h1', 'download_complete', H, 0.5));
    const answer = await serve.post(events);
    assert.equal(answer.stored, events.length);

    const res = await page.goto(serve.url + '/dashboard');
    assert.equal(res.status(), 200);
    const cells = (channel, sequence) => page.evaluate(({ channel, sequence }) => {
      const row = document.querySelector(`tr[data-channel="${channel}"][data-sequence="${sequence}"]`);
      if (!row) return null;
      const get = (c) => row.querySelector(`td.${c}`).textContent;
      return Object.fromEntries(['devices', 'downloads', 'installs', 'confirmed', 'reverted', 'failed', 'rate'].map((c) => [c, get(c)]));
    }, { channel, sequence });
    assert.deepEqual(await cells('production', 1), {
      devices: '8', downloads: '8', installs: '8', confirmed: '8', reverted: '0', failed: '0', rate: '0.0% [0.0%, 32.4%]',
    });
    // B: 5 devices, 3 failed (two reverts, one signature failure): Wilson 95% of 3/5.
    assert.deepEqual(await cells('production', 2), {
      devices: '5', downloads: '4', installs: '0', confirmed: '1', reverted: '2', failed: '3', rate: '60.0% [23.1%, 88.2%]',
    });

    const boxes = (selector) => page.$$eval(selector, (els) => els.map((e) => {
      const b = e.getBoundingClientRect();
      return { w: b.width, h: b.height };
    }));
    const lines = await boxes('#adoption polyline.series');
    // A, B and the hostile release downloaded; A and B confirmed: five lines.
    assert.equal(lines.length, 5, JSON.stringify(lines));
    assert.ok(lines.every((b) => b.w > 100), `adoption lines span the chart: ${JSON.stringify(lines)}`);
    assert.ok(lines.some((b) => b.h > 50), `some adoption line rises: ${JSON.stringify(lines)}`);
    const bars = await boxes('#failures rect.bar');
    assert.equal(bars.length, 2, JSON.stringify(bars));
    assert.ok(bars.every((b) => b.w > 0 && b.h > 0), JSON.stringify(bars));
    const text = await page.evaluate(() => document.body.innerText);
    assert.match(text, /update_fail · appReadyTimeout/);
    assert.match(text, /release\.signatureInvalid/);

    assert.equal(await page.evaluate(() => document.querySelectorAll('script').length), 0, 'no script element on the page');
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'the hostile version name ran');
    assert.ok(text.includes('beta #1 (<script>window.__pwned = 1</script>)'), 'the hostile name is shown as text');

    const shot = path.join(OUT, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(fs.statSync(shot).size > 10_000, 'the screenshot has content');
    console.log(`  screenshot: ${shot}`);
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, 'dashboard.failed.png'), fullPage: true }).catch(() => {});
    e.message += `\n(liveship serve log: ${serve.logFile})`;
    throw e;
  } finally {
    await context.close();
    await serve.stop();
  }
});
