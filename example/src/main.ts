// The example app's page: confirms readiness on start, shows what serves, and offers the manual
// calls. Built into www/main.js by `npm run build` in this folder (rollup + node-resolve).
import { Liveship } from '@liveship/capacitor';
import type { BundleInfo } from '@liveship/capacitor';

const out = document.getElementById('log') as HTMLPreElement;
function log(line: string): void {
  out.textContent = `${new Date().toISOString().slice(11, 19)} ${line}\n${out.textContent ?? ''}`;
}
function describe(b: BundleInfo): string {
  return `${b.version} (${b.role}${b.id === 'builtin' ? '' : `, ${b.id.slice(0, 12)}`})`;
}

async function start(): Promise<void> {
  // First thing the app does once it works: confirm the bundle that served this page.
  try {
    const ready = await Liveship.notifyAppReady();
    log(`ready: ${describe(ready.bundle)}`);
  } catch (e) {
    log(`notifyAppReady failed: ${String(e)}`);
  }
  const { bundle, native } = await Liveship.current();
  (document.getElementById('serving') as HTMLElement).textContent = `${describe(bundle)} on native ${native}`;

  await Liveship.addListener('download', (e) => log(`download ${e.percent}% of ${e.bundle.version}`));
  await Liveship.addListener('downloadComplete', (e) => log(`installed ${describe(e.bundle)}: serves at next launch`));
  await Liveship.addListener('downloadFailed', (e) => log(`download of ${e.version} failed: ${e.error}`));
  await Liveship.addListener('updateFailed', (e) => log(`reverted ${describe(e.bundle)}: ${e.reason}`));
  await Liveship.addListener('noNeedUpdate', (e) => log(`up to date: ${e.reason}`));
  await Liveship.addListener('updateCheckResult', (e) => log(`update cycle: ${e.outcome} ${e.reason ?? ''}`));

  const failed = await Liveship.getFailedUpdate();
  if (failed) log(`last start reverted ${describe(failed.bundle)}: ${failed.reason}`);
}

function button(id: string, action: () => Promise<unknown>): void {
  (document.getElementById(id) as HTMLButtonElement).addEventListener('click', () => {
    action().then(
      (r) => log(`${id}: ${JSON.stringify(r ?? 'ok')}`),
      (e: { code?: string; message?: string }) => log(`${id} failed [${e.code ?? 'error'}]: ${e.message ?? String(e)}`),
    );
  });
}

button('check', () => Liveship.getLatest());
button('update', () => Liveship.triggerUpdateCheck());
button('list', () => Liveship.list());
button('reset', () => Liveship.reset({ toLastSuccessful: false }));
button('history', () => Liveship.getHistory());

void start();
