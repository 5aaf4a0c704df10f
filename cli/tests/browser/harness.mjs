// The parts the browser scenarios are made of: a publisher (keys, web folders and releases made
// with the real `liveship` CLI), a `liveship dev` host per scenario, and the page helpers. Every
// wait is on something observable (a line on stdout, page state, an event in the page); none is
// a fixed sleep. Paths come from scripts/browser-test.sh through the environment.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the scenarios through scripts/browser-test.sh`);
  return v;
}

export const CLI = env('LIVESHIP_CLI');
export const WORK = env('LIVESHIP_BROWSER_WORK');
export const OUT = env('LIVESHIP_BROWSER_OUT');
const NATIVE_BRIDGE = env('LIVESHIP_NATIVE_BRIDGE');
const CAPACITOR_JS = env('LIVESHIP_CAPACITOR_JS');
const PLUGIN_JS = env('LIVESHIP_PLUGIN_JS');
const APP_JS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'app.js');
export const APP_ID = 'com.example.app';

/** playwright-core from the tools folder the script installed it into. */
export function playwright() {
  return createRequire(import.meta.url)(env('LIVESHIP_PLAYWRIGHT'));
}

/** Chromium as the issue asks: Debian's binary, headless, nothing phoning home. */
export async function launchBrowser() {
  const { chromium } = playwright();
  // launch() starts Chromium on a fresh temporary --user-data-dir of its own (and refuses one
  // in `args`); each scenario then gets a new context, so no scenario sees another's storage.
  return chromium.launch({
    executablePath: env('LIVESHIP_CHROMIUM'),
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

function cli(args) {
  return execFileSync(CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `liveship keygen --out DIR [--channels ...]`; returns the folder and its files. */
export function keygen(name, channels) {
  const dir = path.join(WORK, 'keys', name);
  cli(['keygen', '--out', dir, ...(channels ? ['--channels', channels] : [])]);
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'liveship.config.json'), 'utf8'));
  return {
    dir,
    signingKey: path.join(dir, 'signing.key'),
    bundleKey: path.join(dir, 'bundle.key'),
    publicKeys: config.publicKeys,
    bundleKeys: config.bundleKeys,
  };
}

/**
 * A built web folder of the test app: index.html, copies of @capacitor/core's IIFE and the
 * plugin's, and app.js. `mode` is good | manual | broken (see app.js); `padding` bytes of random
 * data make the bundle large enough for several progress events.
 */
export function webFolder(dir, { version, mode = 'good', padding = 0 }) {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(CAPACITOR_JS, path.join(dir, 'capacitor.js'));
  fs.copyFileSync(PLUGIN_JS, path.join(dir, 'plugin.js'));
  fs.copyFileSync(APP_JS, path.join(dir, 'app.js'));
  if (padding) fs.writeFileSync(path.join(dir, 'padding.bin'), randomBytes(padding));
  const colour = { good: '#1b5e20', manual: '#0d47a1', broken: '#b71c1c' }[mode];
  fs.writeFileSync(path.join(dir, 'index.html'), `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Liveship test app ${version}</title>
<style>body{font:16px system-ui,sans-serif;margin:2em}h1{color:${colour}}pre{background:#f4f4f4;padding:1em;white-space:pre-wrap}</style>
<script>window.__APP__ = ${JSON.stringify({ version, mode })};</script>
<script src="capacitor.js"></script>
<script src="plugin.js"></script>
<script src="app.js"></script>
</head>
<body>
<h1>Test app ${version}</h1>
<p>Bundle mode: ${mode}. Events this page received:</p>
<pre id="log"></pre>
</body>
</html>
`);
  return dir;
}

/**
 * `liveship pack` of `web` into `repo`; returns the release with the content id `pack` printed
 * and the bundle id devices will report (its first 16 hex digits, docs/DEVICE.md).
 */
export function pack({ web, repo, channel = 'production', sequence, version, keys }) {
  const out = cli(['pack', web, '--app-id', APP_ID, '--channel', channel, '--sequence', String(sequence),
    '--version', version, '--signing-key', keys.signingKey, '--bundle-key', keys.bundleKey, '--out', repo]);
  const contentId = /content id\s+([0-9a-f]{64})/.exec(out)?.[1];
  if (!contentId) throw new Error(`liveship pack printed no content id:\n${out}`);
  return { id: contentId.slice(0, 16), contentId, version, channel, sequence };
}

/** One scenario's folders: its own repository, data folder and web folders. */
export function scenarioDir(name) {
  const dir = path.join(WORK, name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 60));
  fs.mkdirSync(path.join(dir, 'repo'), { recursive: true });
  return dir;
}

/**
 * Starts `liveship dev` and waits for its `listening on` line. `config` is the plugins.Liveship
 * object for `--config`; `keys` a keygen folder for `--keys`. The host's stderr goes to
 * OUT/<name>.dev.log (kept for a failed run).
 */
export async function startDev({ dir, name, web, keys, config }) {
  const configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config ?? {}));
  const logFile = path.join(OUT, `${path.basename(dir)}.dev.log`);
  const log = fs.openSync(logFile, 'w');
  const args = ['dev', '--web', web, '--repo', path.join(dir, 'repo'), '--config', configFile,
    '--data-dir', path.join(dir, 'data'), '--port', '0', '--native-bridge', NATIVE_BRIDGE];
  if (keys) args.push('--keys', keys.dir);
  const child = spawn(CLI, args, { stdio: ['ignore', 'pipe', log] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const onData = (d) => {
      out += d;
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m) { child.stdout.off('data', onData); resolve(m[1]); }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(
      `liveship dev (${name}) exited (${code ?? signal}) before listening:\n${fs.readFileSync(logFile, 'utf8')}`)));
  });
  child.removeAllListeners('exit');
  child.stdout.resume();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const post = async (what) => {
    const r = await fetch(url + '__liveship/' + what, { method: 'POST' });
    if (!r.ok) throw new Error(`POST /__liveship/${what}: ${r.status}`);
  };
  return {
    url,
    logFile,
    /** GET /__liveship/state: what the core knows. */
    async state() {
      const r = await fetch(url + '__liveship/state');
      if (!r.ok) throw new Error(`GET /__liveship/state: ${r.status}`);
      return r.json();
    },
    /** POST /__liveship/restart: the app is killed and started again. */
    async restart() { await post('restart'); },
    /** POST /__liveship/background, then /foreground: the app left and came back. */
    async background() { await post('background'); },
    async foreground() { await post('foreground'); },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      fs.closeSync(log);
    },
  };
}

/**
 * A new browser context whose pages report every event they record (app.js calls
 * window.__report) into `reports`, tagged with the page and its bundle; the record survives the
 * page's navigation, so the test can say which page received an event and which did not.
 */
export async function openApp(browser) {
  const context = await browser.newContext({ viewport: { width: 900, height: 640 } });
  const reports = [];
  const waiters = new Set();
  await context.exposeBinding('__report', (_source, entry) => {
    const r = { ...entry, receivedAt: Date.now() };
    reports.push(r);
    for (const w of waiters) if (w.match(r)) { waiters.delete(w); w.resolve(r); }
  });
  /** The first report (past or future) that `match` accepts. */
  const nextReport = (match, what, timeout = 15000) => {
    const seen = reports.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { match, resolve: (r) => { clearTimeout(timer); resolve(r); } };
      const timer = setTimeout(() => { waiters.delete(w); reject(new Error(`no page reported ${what} within ${timeout} ms`)); }, timeout);
      waiters.add(w);
    });
  };
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, reports, nextReport, errors };
}

const WAIT = { timeout: 15000, polling: 50 };

/**
 * Waits until the page is the test app of `version` and, when `event` is given, until its log
 * holds that event (matching `where`, an object of expected top-level or `bundle.` fields).
 * `notPage`: a page id (window.__page) that does not count, to wait for the next page of the
 * same bundle. Survives navigations (playwright re-runs the predicate in the new document).
 */
export async function waitFor(page, { version, event, where, notPage, timeout } = {}) {
  try {
    await page.waitForFunction(({ version, event, where, notPage }) => {
      const app = window.__APP__;
      if (!app || (version !== undefined && app.version !== version) || !Array.isArray(window.__log)) return false;
      if (notPage !== undefined && window.__page === notPage) return false;
      if (!event) return true;
      const get = (o, k) => k.split('.').reduce((v, p) => (v == null ? v : v[p]), o);
      return window.__log.some((e) => e.event === event
        && Object.entries(where || {}).every(([k, v]) => get(e.data, k) === v));
    }, { version, event, where, notPage }, { ...WAIT, ...(timeout ? { timeout } : {}) });
  } catch (e) {
    const seen = await page.evaluate(() => ({ app: window.__APP__, log: window.__log })).catch(() => 'page gone');
    throw new Error(`waiting for ${JSON.stringify({ version, event, where })}: ${e.message.split('\n')[0]}\npage: ${JSON.stringify(seen)}`);
  }
}

/** The page's log entries of `event`. */
export function logOf(page, event) {
  return page.evaluate((event) => window.__log.filter((e) => e.event === event).map((e) => e.data), event);
}

/** Calls `Liveship.<method>(options)` in the page; resolves to `{ok, value}` or `{ok: false, error}`. */
export function call(page, method, options) {
  return page.evaluate(async ({ method, options }) => {
    try {
      return { ok: true, value: await window.__L[method](options) };
    } catch (e) {
      return { ok: false, error: { message: e.message, code: e.code, data: e.data } };
    }
  }, { method, options });
}

/** Like `call`, but a rejection fails the test with the plugin's message. */
export async function must(page, method, options) {
  const r = await call(page, method, options);
  if (!r.ok) throw new Error(`Liveship.${method}(${JSON.stringify(options ?? '')}) rejected: ${JSON.stringify(r.error)}`);
  return r.value;
}

/** The bundle with id `id` in `/__liveship/state`'s list. */
export function bundleIn(state, id) {
  return state.bundles.find((b) => b.id === id);
}

/**
 * Starts `liveship serve REPO --stats DB` on a free loopback port and waits for its `listening
 * on` line; stderr goes to OUT/<name>.serve.log.
 */
export async function startServe({ dir, name, repo, db }) {
  fs.mkdirSync(repo, { recursive: true });
  const logFile = path.join(OUT, `${name}.serve.log`);
  const log = fs.openSync(logFile, 'w');
  const child = spawn(CLI, ['serve', repo, '--addr', '127.0.0.1:0', '--stats', db],
    { cwd: dir, stdio: ['ignore', 'pipe', log] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const onData = (d) => {
      out += d;
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m) { child.stdout.off('data', onData); resolve(m[1]); }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(
      `liveship serve (${name}) exited (${code ?? signal}) before listening:\n${fs.readFileSync(logFile, 'utf8')}`)));
  });
  child.removeAllListeners('exit');
  child.stdout.resume();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url,
    logFile,
    /** POST /stats with `events` (one batch); resolves to the JSON answer, throws unless 200. */
    async post(events) {
      const r = await fetch(url + '/stats', { method: 'POST', body: JSON.stringify(events) });
      const answer = await r.json();
      if (r.status !== 200) throw new Error(`POST /stats: ${r.status} ${JSON.stringify(answer)}`);
      return answer;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      fs.closeSync(log);
    },
  };
}
