import { registerPlugin } from '@capacitor/core';

import type { LiveshipNativePlugin, LiveshipPlugin } from './definitions';
import { withReadiness } from './readiness';
import type { PageScope } from './readiness';

const native = registerPlugin<LiveshipNativePlugin>('Liveship', {
  web: () => import('./web').then((m) => new m.LiveshipWeb()),
});

/** The plugin. Importing this module captures the bundle serving the page (see readiness.ts). */
const Liveship: LiveshipPlugin = withReadiness(native, globalThis as PageScope);

export * from './definitions';
export { LiveshipArgumentError } from './args';
export { Liveship };
/** Alias for apps moving from `@capgo/capacitor-updater`. */
export { Liveship as CapacitorUpdater };
