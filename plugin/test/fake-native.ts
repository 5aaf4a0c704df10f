/**
 * A fake of the native bridge, standing in for what cannot run here (a WebView and the Android
 * or iOS plugin): it serves one bundle at a time, can switch to another the way `set()` does,
 * and confirms readiness like the core: the trial bundle is promoted, the current (last
 * confirmed) one is already confirmed, any other id is refused.
 */
import type { AppReadyResult, BundleInfo, LiveshipNativePlugin, NotifyAppReadyOptions } from '../src/definitions';

export const A = 'a'.repeat(16);
export const B = 'b'.repeat(16);

export function bundle(id: string, role: BundleInfo['role'] = 'current'): BundleInfo {
  return { id, version: id.slice(0, 4), downloaded: '', checksum: id, status: 'success', role, channel: 'production', sequence: 1 };
}

export interface Call {
  method: string;
  options: unknown;
}

export class FakeNative {
  /** The last confirmed bundle. */
  current: string;
  trial: string | undefined;
  /** What the WebView loads now. */
  serving: string;
  confirmed: string[] = [];
  calls: Call[] = [];
  currentCalls = 0;
  failCurrent = false;

  constructor(current: string, trial?: string) {
    this.current = current;
    this.trial = trial;
    this.serving = trial ?? current;
  }

  /** What `set()` does natively: the next bundle becomes the trial and serves from now on. */
  swapTo(id: string): void {
    this.serving = id;
    this.trial = id;
  }

  asPlugin(): LiveshipNativePlugin {
    const record = (method: string) => async (options?: unknown) => {
      this.calls.push({ method, options });
      return undefined;
    };
    const self = this;
    const plugin: Record<string, unknown> = {
      async current() {
        self.currentCalls++;
        if (self.failCurrent) throw new Error('bridge not ready');
        return { bundle: bundle(self.serving), native: '1.0.0' };
      },
      async notifyAppReady(options: NotifyAppReadyOptions): Promise<AppReadyResult> {
        self.calls.push({ method: 'notifyAppReady', options });
        const id = options.bundleId;
        if (id === self.trial) {
          self.current = id;
          self.trial = undefined;
        } else if (id !== self.current) {
          throw Object.assign(new Error(`bundle ${id} is not on trial`), { code: 'invalidArgument' });
        }
        self.confirmed.push(id);
        return { bundle: bundle(id) };
      },
    };
    plugin.getNextBundle = async () => ({});
    plugin.getFailedUpdate = async () => undefined;
    for (const m of ['download', 'next', 'set', 'delete', 'reset', 'getLatest', 'setChannel', 'unsetChannel',
      'setMultiDelay', 'setConsent', 'addListener', 'list']) {
      plugin[m] = record(m);
    }
    return plugin as unknown as LiveshipNativePlugin;
  }
}
