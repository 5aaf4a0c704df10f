/**
 * Page-bound readiness: the id of the bundle that served *this page* is captured once, when the
 * page starts, and every `notifyAppReady()` from the page carries it. The core confirms only
 * that bundle, so a page from an outgoing bundle that calls late (after the native side switched
 * to a new trial) cannot confirm the incoming bundle it never ran.
 *
 * Where the id comes from, in order:
 * 1. `window.__LIVESHIP_BUNDLE_ID__`, set by the native plugin in a document-start script that
 *    it replaces before it points the WebView at another bundle (Android: androidx.webkit
 *    `addDocumentStartJavaScript`; iOS: a `WKUserScript` at document start). Exact.
 * 2. Otherwise one `current()` call issued while this module is evaluated, before the app
 *    could ask for a swap. Correct unless a swap was already under way while the page loaded.
 */
import { checkBundleId, checkChannel, checkConsent, checkDeletable, checkDownload, checkGetLatest,
  checkMultiDelay, checkReset, checkUnsetChannel } from './args';
import type { AppReadyResult, LiveshipNativePlugin, LiveshipPlugin } from './definitions';

/** Name of the global the native document-start script sets. */
export const BUNDLE_ID_GLOBAL = '__LIVESHIP_BUNDLE_ID__';

/** The part of `globalThis` the capture reads. */
export interface PageScope {
  [BUNDLE_ID_GLOBAL]?: unknown;
}

/**
 * Captures the serving bundle's id now. The returned promise is settled once and never changes,
 * whatever the native side serves later.
 */
export function capturePageBundle(native: Pick<LiveshipNativePlugin, 'current'>, scope: PageScope): Promise<string> {
  const injected = scope[BUNDLE_ID_GLOBAL];
  if (typeof injected === 'string' && injected !== '') return Promise.resolve(injected);
  return native.current().then((r) => r.bundle.id);
}

/** Validators applied to a method's first argument before it is forwarded. */
const checks: Partial<Record<keyof LiveshipPlugin, (options: unknown) => unknown>> = {
  download: checkDownload,
  next: checkBundleId,
  set: checkBundleId,
  delete: checkDeletable,
  reset: checkReset,
  getLatest: checkGetLatest,
  setChannel: checkChannel,
  unsetChannel: checkUnsetChannel,
  setMultiDelay: checkMultiDelay,
  setConsent: checkConsent,
};

/**
 * Methods whose "nothing" is `null` (Capgo's contract). A native call that resolves without data
 * reaches JavaScript as `undefined` or `{}`; these become `null`.
 */
const nullable = new Set<PropertyKey>(['getNextBundle', 'getFailedUpdate']);

function orNull(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'object' && Object.keys(value as object).length === 0) return null;
  return value;
}

/**
 * The app-facing plugin over the native one: `notifyAppReady()` sends the captured id, methods
 * with arguments check them first, everything else (listeners included) passes through.
 * Capture starts immediately: call this while the page starts (index.ts does, at import).
 */
export function withReadiness(native: LiveshipNativePlugin, scope: PageScope): LiveshipPlugin {
  let captured: Promise<string> | undefined;
  const pageBundle = (): Promise<string> => {
    captured ??= capturePageBundle(native, scope);
    return captured;
  };
  // Start now; a failure is reported by notifyAppReady, not as an unhandled rejection here.
  pageBundle().catch(() => undefined);

  const notifyAppReady = async (): Promise<AppReadyResult> => {
    const bundleId = await pageBundle();
    return native.notifyAppReady({ bundleId });
  };

  return new Proxy(native as unknown as LiveshipPlugin, {
    get(target, prop, receiver) {
      if (prop === 'notifyAppReady') return notifyAppReady;
      const check = typeof prop === 'string' ? checks[prop as keyof LiveshipPlugin] : undefined;
      const value: unknown = Reflect.get(target, prop, receiver);
      if (nullable.has(prop) && typeof value === 'function') {
        return () => (value as () => Promise<unknown>).call(target).then(orNull);
      }
      if (check && typeof value === 'function') {
        return (options?: unknown) => {
          try {
            return (value as (o: unknown) => Promise<unknown>).call(target, check(options));
          } catch (e) {
            return Promise.reject(e);
          }
        };
      }
      return value;
    },
  });
}
