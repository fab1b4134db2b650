// What the install allows of firmware and hotfix packages: vendor-signed firmware, one change at a time.

import type { StoredBootConfig } from '../config/boot-config.js';
import type { DeviceFile } from '../config/device-file.js';
import { unlocked } from '../config/policy.js';
import { DeviceError } from '../errors.js';
import { compareVersions, keyNumberHex, parsePublicKey, type Verdict } from '../format/index.js';
import type { Layout } from '../state/layout.js';
import { otherSlot, readSlot } from '../state/slots.js';
import { firmwareRecords } from './kind.js';
import { loadRecords } from './packages.js';

/** The key number of the vendor key the hardware anchor holds: the only key a firmware may be signed with. */
export function vendorKeyNumber(device: DeviceFile): string {
  return keyNumberHex(parsePublicKey(device.anchorKey).keyNumber);
}

/**
 * Why a firmware package may not be installed here, as the error to throw, or `undefined`. A
 * firmware must be `Signed` by the vendor key (the anchor's): `allow-untrusted` and an unlock token do
 * not apply, since a firmware replaces what checks every other package. One firmware change at a
 * time: another pending firmware package (under another name) or a requested fallback refuses it.
 */
export async function firmwareRefusal(
  layout: Layout,
  name: string,
  verdict: Verdict,
  persistent: boolean,
  device: DeviceFile,
  config: StoredBootConfig,
): Promise<DeviceError | undefined> {
  const what = `firmware package ${name} refused`;
  if (verdict.status !== 'Signed') {
    return new DeviceError(
      'DEVICE_UNTRUSTED',
      `${what}: a firmware must be signed by the vendor key; it is ${verdict.status} (${verdict.reason}); allow-untrusted does not apply to firmware`,
    );
  }
  const vendor = vendorKeyNumber(device);
  if (verdict.keyNumber !== vendor) {
    return new DeviceError(
      'DEVICE_UNTRUSTED',
      `${what}: signed with key ${verdict.keyNumber}, not the vendor key ${vendor} (the secure-boot anchor's)`,
    );
  }
  if (persistent) {
    return new DeviceError(
      'DEVICE_FIRMWARE',
      `${what}: a firmware cannot be persistent (it stays across a factory reset by itself); install it without persistent`,
    );
  }
  if (config.firmwareFallback) {
    return new DeviceError(
      'DEVICE_FIRMWARE',
      `${what}: a firmware fallback is set for the next boot; cancel it first (boot: no firmware fallback)`,
    );
  }
  const { records } = await loadRecords(layout);
  const other = firmwareRecords(records.values()).find((record) => record.name !== name);
  if (other !== undefined) {
    return new DeviceError(
      'DEVICE_FIRMWARE',
      `${what}: firmware ${other.version} (package ${other.name}) is installed and waits for the next boot; remove it first`,
    );
  }
  return undefined;
}

/**
 * A firmware older than the one that runs: refused on a secure-boot device without an unlock token
 * (rollback protection), else a question for the operator. Returns whether to ask.
 */
export function firmwareDowngrade(version: string, device: DeviceFile, config: StoredBootConfig): boolean {
  if (compareVersions(version, device.firmwareVersion) >= 0) return false;
  if (device.secureBoot && !unlocked(config, device)) {
    throw new DeviceError(
      'DEVICE_SECURE_BOOT',
      `firmware downgrade from ${device.firmwareVersion} to ${version} refused: secure boot is on; install an unlock token for serial ${device.serial} first (unlock media external token.lic)`,
    );
  }
  return true;
}

/**
 * Why a hotfix will not run after the next boot although it fits now: a firmware change is pending
 * (a firmware package, or a fallback), and the hotfix goes when the firmware is no longer its own.
 */
export async function hotfixWarning(
  layout: Layout,
  version: string,
  device: DeviceFile,
  config: StoredBootConfig,
): Promise<string | undefined> {
  const next = await pendingFirmwareVersion(layout, device, config);
  if (next === undefined || next === version) return undefined;
  return `firmware ${next} is pending: a hotfix for firmware ${version} is removed at the next boot`;
}

/** The firmware the next boot will switch to, if a change is pending (a firmware package or a fallback). */
async function pendingFirmwareVersion(
  layout: Layout,
  device: DeviceFile,
  config: StoredBootConfig,
): Promise<string | undefined> {
  const { records } = await loadRecords(layout);
  const pending = firmwareRecords(records.values())[0];
  if (pending !== undefined) return pending.version;
  if (!config.firmwareFallback) return undefined;
  const fallback = await readSlot(layout, otherSlot(device.firmwareSlot));
  return fallback.state === 'good' ? fallback.version : undefined;
}
