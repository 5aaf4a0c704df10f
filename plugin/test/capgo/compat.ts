// Liveship stands in for Capgo's plugin: tsc fails here, naming the method or event, when one
// of Capgo 8's `CapacitorUpdaterPlugin` methods is missing from `LiveshipPlugin` or is not
// assignable to Capgo's (scripts/plugin-test.sh type-checks this against the
// `@capgo/capacitor-updater` in package.json's devDependencies; docs/CAPGO.md).
import type * as Capgo from '@capgo/capacitor-updater';

import type { LiveshipPlugin } from '../../src/definitions';

type CapgoPlugin = Capgo.CapacitorUpdaterPlugin;
type Methods = Exclude<keyof CapgoPlugin, 'addListener' | 'removeAllListeners'>;

// Methods become function-typed properties, so parameters are checked both ways
// (strictFunctionTypes), not bivariantly as method declarations would be.
type AsFunction<F> = F extends (...args: infer A) => infer R ? (...args: A) => R : never;
type AsFunctions<P, K extends keyof P> = { [M in K]: AsFunction<P[M]> };

declare const ours: LiveshipPlugin;

// Every Capgo method: a missing one is named here (the type is the missing names, not `true`),
// a mismatched one fails the assignment below.
type Missing = Exclude<Methods, keyof LiveshipPlugin>;
export const noneMissing: [Missing] extends [never] ? true : Missing = true;
export const methods: AsFunctions<CapgoPlugin, Methods> = ours as AsFunctions<LiveshipPlugin, Methods>;

// Every Capgo event (scripts/plugin-test.sh checks that these lines name all of Capgo's): a
// listener written for Capgo's payload accepts Liveship's.
type Handle = Promise<{ remove: () => Promise<void> }>;
export function events(): Handle[] {
  return [
    ours.addListener('download', (s: Capgo.DownloadEvent) => void s),
    ours.addListener('noNeedUpdate', (s: Capgo.NoNeedEvent) => void s),
    ours.addListener('updateAvailable', (s: Capgo.UpdateAvailableEvent) => void s),
    ours.addListener('downloadComplete', (s: Capgo.DownloadCompleteEvent) => void s),
    ours.addListener('downloadFailed', (s: Capgo.DownloadFailedEvent) => void s),
    ours.addListener('updateFailed', (s: Capgo.UpdateFailedEvent) => void s),
    ours.addListener('set', (s: Capgo.SetEvent) => void s),
    ours.addListener('setNext', (s: Capgo.SetNextEvent) => void s),
    ours.addListener('appReloaded', () => undefined),
    ours.addListener('appReady', (s: Capgo.AppReadyEvent) => void s),
    ours.addListener('updateCheckResult', (s: Capgo.UpdateCheckResultEvent) => void s),
    ours.addListener('breakingAvailable', (s: Capgo.BreakingAvailableEvent) => void s),
    ours.addListener('majorAvailable', (s: Capgo.MajorAvailableEvent) => void s),
    ours.addListener('channelPrivate', (s: Capgo.ChannelPrivateEvent) => void s),
    ours.addListener('onFlexibleUpdateStateChange', (s: Capgo.FlexibleUpdateState) => void s),
  ];
}
