/**
 * Argument checks done in JavaScript before a call crosses the bridge, so a wrong call fails at
 * once with a message naming the field. The native side checks the same rules again (a page
 * can always call the bridge directly); the core checks what only it can know.
 */
import type {
  BundleId,
  ConsentOptions,
  DelayCondition,
  DownloadOptions,
  GetLatestOptions,
  MultiDelayConditions,
  ResetOptions,
  SetChannelOptions,
  UnsetChannelOptions,
} from './definitions';

/** A call rejected before it reached native code; `code` matches the native error kind. */
export class LiveshipArgumentError extends Error {
  readonly code = 'invalidArgument';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`invalid argument ${field}: ${reason}`);
    this.name = 'LiveshipArgumentError';
  }
}

/** Content id (lowercase SHA-256 hex) or `builtin`. */
const BUNDLE_ID = /^(builtin|[0-9a-f]{16,64})$/;
/** Same rule as the release format (docs/FORMAT.md): lowercase, digits, `.`, `_`, `-`. */
const CHANNEL = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/**
 * An RFC 3339 date-time (ISO 8601 with seconds and a zone, what `Date.toISOString()` writes), as
 * the core accepts it (src/capacitor/args.rs).
 */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** A native app version (`versionName`, `CFBundleShortVersionString`): `2`, `1.10.0-beta`. */
const NATIVE_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/;

function record(options: unknown, what: string): Record<string, unknown> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new LiveshipArgumentError(what, 'must be an object');
  }
  return options as Record<string, unknown>;
}

function optionalRecord(options: unknown, what: string): Record<string, unknown> {
  return options === undefined ? {} : record(options, what);
}

function optionalBoolean(o: Record<string, unknown>, field: string): void {
  if (o[field] !== undefined && typeof o[field] !== 'boolean') {
    throw new LiveshipArgumentError(field, 'must be a boolean');
  }
}

export function checkBundleId(options: unknown): BundleId {
  const o = record(options, 'options');
  if (typeof o.id !== 'string' || !BUNDLE_ID.test(o.id)) {
    throw new LiveshipArgumentError('id', 'must be a bundle id from list() or download() (16 hex digits) or "builtin"');
  }
  return { id: o.id };
}

/** `delete` cannot remove the bundle shipped in the app. */
export function checkDeletable(options: unknown): BundleId {
  const b = checkBundleId(options);
  if (b.id === 'builtin') throw new LiveshipArgumentError('id', 'the built-in bundle cannot be deleted');
  return b;
}

export function checkChannel(options: unknown): SetChannelOptions {
  const o = record(options, 'options');
  if (typeof o.channel !== 'string' || !CHANNEL.test(o.channel)) {
    throw new LiveshipArgumentError(
      'channel',
      'must be 1-64 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit',
    );
  }
  optionalBoolean(o, 'triggerAutoUpdate');
  return o as unknown as SetChannelOptions;
}

export function checkUnsetChannel(options: unknown): UnsetChannelOptions {
  const o = optionalRecord(options, 'options');
  optionalBoolean(o, 'triggerAutoUpdate');
  return o as UnsetChannelOptions;
}

export function checkDownload(options: unknown): DownloadOptions {
  const o = optionalRecord(options, 'options');
  for (const field of ['sessionKey', 'checksum'] as const) {
    if (o[field] !== undefined) {
      throw new LiveshipArgumentError(field, 'is not used: keys and hashes travel in the signed manifest');
    }
  }
  for (const field of ['url', 'version'] as const) {
    if (o[field] !== undefined && (typeof o[field] !== 'string' || o[field] === '')) {
      throw new LiveshipArgumentError(field, 'must be a non-empty string when given');
    }
  }
  return o as DownloadOptions;
}

export function checkReset(options: unknown): ResetOptions {
  const o = optionalRecord(options, 'options');
  optionalBoolean(o, 'toLastSuccessful');
  return o as ResetOptions;
}

export function checkGetLatest(options: unknown): GetLatestOptions {
  const o = optionalRecord(options, 'options');
  if (o.channel !== undefined && (typeof o.channel !== 'string' || !CHANNEL.test(o.channel))) {
    throw new LiveshipArgumentError('channel', 'must be a valid channel name when given');
  }
  return o as GetLatestOptions;
}

function checkCondition(c: unknown, i: number): DelayCondition {
  const o = record(c, `delayConditions[${i}]`);
  const field = `delayConditions[${i}].value`;
  if (o.value !== undefined && typeof o.value !== 'string') {
    throw new LiveshipArgumentError(field, 'must be a string');
  }
  const value = o.value as string | undefined;
  switch (o.kind) {
    case 'background':
      if (value !== undefined && !/^\d{1,12}$/.test(value)) {
        throw new LiveshipArgumentError(field, 'must be a whole number of milliseconds');
      }
      break;
    case 'kill':
      break;
    case 'date':
      if (value === undefined || !ISO_DATE.test(value) || Number.isNaN(Date.parse(value))) {
        throw new LiveshipArgumentError(field, 'must be an ISO 8601 date-time');
      }
      break;
    case 'nativeVersion':
      if (value === undefined || !NATIVE_VERSION.test(value)) {
        throw new LiveshipArgumentError(field, 'must be a native app version such as "2.1.0"');
      }
      break;
    default:
      throw new LiveshipArgumentError(
        `delayConditions[${i}].kind`,
        'must be "background", "kill", "date" or "nativeVersion"',
      );
  }
  return value === undefined ? { kind: o.kind } : { kind: o.kind, value };
}

export function checkMultiDelay(options: unknown): MultiDelayConditions {
  const o = record(options, 'options');
  if (!Array.isArray(o.delayConditions) || o.delayConditions.length === 0) {
    throw new LiveshipArgumentError('delayConditions', 'must be a non-empty array (use cancelDelay() to clear)');
  }
  return { delayConditions: o.delayConditions.map(checkCondition) };
}

const LEVELS = ['off', 'anonymous', 'full'];

export function checkConsent(options: unknown): ConsentOptions {
  const o = record(options, 'options');
  if (o.level !== undefined && !LEVELS.includes(o.level as string)) {
    throw new LiveshipArgumentError('level', 'must be "off", "anonymous" or "full"');
  }
  if (o.telemetry !== undefined && typeof o.telemetry !== 'boolean') {
    throw new LiveshipArgumentError('telemetry', 'must be a boolean');
  }
  if (o.level === undefined && o.telemetry === undefined) {
    throw new LiveshipArgumentError('level', 'is required: "off", "anonymous" or "full"');
  }
  const out: ConsentOptions = {};
  if (o.level !== undefined) out.level = o.level as ConsentOptions['level'];
  if (o.telemetry !== undefined) out.telemetry = o.telemetry as boolean;
  return out;
}
