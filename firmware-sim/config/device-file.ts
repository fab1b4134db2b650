// `device.json`: the fixed facts of the device (what the firmware and the hardware say), with defaults.
import { readFile } from 'node:fs/promises';
import { randomBytes } from '../../common/lazy-crypto.js';
import { PROTOCOLS, type ProtoName } from '../../common/vocabulary.js';
import type { FirmwareSlotName } from '../api.js';
import { DeviceError } from '../errors.js';
import { parsePublicKey } from '../format/signify.js';

/** Limits of unpacking (SPEC §4.4); all configurable in `device.json`. */
export interface UnpackLimits {
  /** Uncompressed control archive. */
  readonly controlBytes: number;
  /** Uncompressed data archive. */
  readonly dataBytes: number;
  /** Entries of the data archive. */
  readonly entries: number;
  /** Components of an entry's path: a package nested deeper is unsafe. */
  readonly pathDepth: number;
  /** Seconds a boot may spend unpacking one package; after that it is not activated at this boot. */
  readonly stageSeconds: number;
  /** Bytes of the device storage that unpacking leaves free, for the device's own state. */
  readonly reserveBytes: number;
}

/** The content of `device.json`. */
export interface DeviceFile {
  readonly hostname: string;
  readonly serial: string;
  readonly firmwareVersion: string;
  /**
   * The firmware slot that runs (`firmware/a/` or `firmware/b/`); the other one holds the fallback.
   * Written together with `firmwareVersion`: this file is the commit point of a firmware switch.
   */
  readonly firmwareSlot: FirmwareSlotName;
  /** Architectures accepted besides `all`. */
  readonly architectures: readonly string[];
  /** The device has a secure-boot anchor: `allow-untrusted` needs an unlock token. */
  readonly secureBoot: boolean;
  /** The vendor's public key as the hardware anchor holds it (signify format): verifies unlock tokens. */
  readonly anchorKey: string;
  readonly defaultPorts: Readonly<Record<ProtoName, number>>;
  /** Largest package file accepted. */
  readonly maxPackageBytes: number;
  readonly limits: UnpackLimits;
  /** A maintainer script running longer is killed and counts as failed. */
  readonly scriptTimeoutMs: number;
}

const GiB = 1024 * 1024 * 1024;

/** Defaults of everything but the identity (serial, anchor key). */
export const DEVICE_DEFAULTS = {
  hostname: 'example',
  firmwareVersion: '5.26.0',
  firmwareSlot: 'A',
  architectures: ['arm64'],
  secureBoot: false,
  defaultPorts: { ftp: 21, tftp: 69, scp: 22, sftp: 22, http: 80, https: 443 },
  maxPackageBytes: 2 * GiB,
  limits: {
    controlBytes: 1024 * 1024,
    dataBytes: 2 * GiB,
    entries: 100_000,
    pathDepth: 64,
    stageSeconds: 300,
    reserveBytes: 64 * 1024 * 1024,
  },
  scriptTimeoutMs: 30_000,
} as const satisfies Omit<DeviceFile, 'serial' | 'anchorKey'>;

/** A new device's facts: defaults, a fresh serial, and the vendor key as anchor. */
export function newDeviceFile(anchorKey: string): DeviceFile {
  return { ...DEVICE_DEFAULTS, serial: `WM${randomBytes(5).toString('hex').toUpperCase()}`, anchorKey };
}

/** Formats `device.json`. */
export function formatDeviceFile(file: DeviceFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Reads `device.json`; missing optional fields take their defaults, wrong ones are an error. `name`
 * is how messages name the file (default: its path).
 */
export async function readDeviceFile(path: string, name = path): Promise<DeviceFile> {
  const text = await readFile(path, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DeviceError('DEVICE_CORRUPT_STATE', `${name}: ${(error as Error).message}`, { cause: error });
  }
  return parseDeviceFile(raw, name);
}

function parseDeviceFile(raw: unknown, path: string): DeviceFile {
  const bad = (why: string): never => {
    throw new DeviceError('DEVICE_CORRUPT_STATE', `${path}: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('expected a JSON object');
  const o = raw as Record<string, unknown>;
  const str = (key: string, fallback?: string): string => {
    const value = o[key] ?? fallback;
    if (typeof value !== 'string' || value === '') bad(`"${key}" must be a non-empty string`);
    return value as string;
  };
  const num = (value: unknown, key: string, fallback: number): number => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
      bad(`"${key}" must be a positive integer`);
    return v as number;
  };
  const architectures = o.architectures ?? DEVICE_DEFAULTS.architectures;
  if (!Array.isArray(architectures) || !architectures.every((a) => typeof a === 'string')) {
    bad('"architectures" must be a list of strings');
  }
  const secureBoot = o.secureBoot ?? DEVICE_DEFAULTS.secureBoot;
  if (typeof secureBoot !== 'boolean') bad('"secureBoot" must be true or false');
  const firmwareSlot = o.firmwareSlot ?? DEVICE_DEFAULTS.firmwareSlot;
  if (firmwareSlot !== 'A' && firmwareSlot !== 'B') bad('"firmwareSlot" must be "A" or "B"');
  const anchorKey = str('anchorKey');
  try {
    parsePublicKey(anchorKey);
  } catch (error) {
    bad(`"anchorKey": ${(error as Error).message}`);
  }
  const ports = (o.defaultPorts ?? {}) as Record<string, unknown>;
  if (typeof ports !== 'object') bad('"defaultPorts" must be an object');
  const defaultPorts = Object.fromEntries(
    PROTOCOLS.map((proto) => {
      const port = num(ports[proto], `defaultPorts.${proto}`, DEVICE_DEFAULTS.defaultPorts[proto]);
      if (port > 65535) bad(`"defaultPorts.${proto}" must be a port number`);
      return [proto, port];
    }),
  ) as Record<ProtoName, number>;
  const limits = (o.limits ?? {}) as Record<string, unknown>;
  return {
    hostname: str('hostname', DEVICE_DEFAULTS.hostname),
    serial: str('serial'),
    firmwareVersion: str('firmwareVersion', DEVICE_DEFAULTS.firmwareVersion),
    firmwareSlot: firmwareSlot as FirmwareSlotName,
    architectures: architectures as string[],
    secureBoot: secureBoot as boolean,
    anchorKey,
    defaultPorts,
    maxPackageBytes: num(o.maxPackageBytes, 'maxPackageBytes', DEVICE_DEFAULTS.maxPackageBytes),
    limits: {
      controlBytes: num(limits.controlBytes, 'limits.controlBytes', DEVICE_DEFAULTS.limits.controlBytes),
      dataBytes: num(limits.dataBytes, 'limits.dataBytes', DEVICE_DEFAULTS.limits.dataBytes),
      entries: num(limits.entries, 'limits.entries', DEVICE_DEFAULTS.limits.entries),
      pathDepth: num(limits.pathDepth, 'limits.pathDepth', DEVICE_DEFAULTS.limits.pathDepth),
      stageSeconds: num(limits.stageSeconds, 'limits.stageSeconds', DEVICE_DEFAULTS.limits.stageSeconds),
      reserveBytes: num(limits.reserveBytes, 'limits.reserveBytes', DEVICE_DEFAULTS.limits.reserveBytes),
    },
    scriptTimeoutMs: num(o.scriptTimeoutMs, 'scriptTimeoutMs', DEVICE_DEFAULTS.scriptTimeoutMs),
  };
}

/** The reader's limits on this device: control archive and whole package. */
export function readLimits(device: DeviceFile): { limits: { controlBytes: number; packageBytes: number } } {
  return { limits: { controlBytes: device.limits.controlBytes, packageBytes: device.maxPackageBytes } };
}
