// The rules that decide whether a verified package may run here: trust, allow-untrusted, the anchor.
import type { Verification } from '../api.js';
import type { StoredBootConfig } from './boot-config.js';
import type { DeviceFile } from './device-file.js';
import { verifyUnlockToken } from './unlock.js';

/**
 * `REVOCATION_UNREADABLE` of format/verify.ts, repeated here so that opening the device does not load
 * the package reader.
 */
const REVOCATION_UNREADABLE = 'revocation list unreadable';

/** Whether the unlock token in the configuration is valid for this device. */
export function unlocked(config: StoredBootConfig, device: DeviceFile): boolean {
  if (!config.unlockToken) return false;
  try {
    verifyUnlockToken(config.unlockToken, device.anchorKey, device.serial);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `allow-untrusted` is in force: set in the configuration and, on a device with a secure-boot
 * anchor, backed by a valid unlock token (a hand-edited configuration does not bypass the anchor).
 */
export function allowUntrustedInForce(config: StoredBootConfig, device: DeviceFile): boolean {
  return config.allowUntrusted && (!device.secureBoot || unlocked(config, device));
}

/**
 * The activation rule of SPEC §4.3 for a verdict: `undefined` when the package may be activated,
 * else why not.
 */
export function activationRefusal(
  verification: Verification,
  reason: string,
  keyNumber: string | undefined,
  allowUntrusted: boolean,
  config: StoredBootConfig,
  device: DeviceFile,
): string | undefined {
  switch (verification) {
    case 'Signed':
      return undefined;
    case 'Invalid':
      return `invalid: ${reason}`;
    case 'Untrusted':
    case 'Unsigned': {
      if (allowUntrusted) return undefined;
      const what =
        verification === 'Unsigned'
          ? 'unsigned'
          : reason.startsWith(REVOCATION_UNREADABLE)
            ? `key ${keyNumber} not trusted: ${reason}`
            : reason.includes('revoked')
              ? `revoked key ${keyNumber}`
              : `untrusted key ${keyNumber}`;
      const why =
        config.allowUntrusted && device.secureBoot
          ? 'allow-untrusted needs an unlock token (secure boot)'
          : 'allow-untrusted is off';
      return `${what}, ${why}`;
    }
  }
}
