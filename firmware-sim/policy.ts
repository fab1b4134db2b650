// The rules that decide whether a package may run here: architecture, firmware version, trust.
import type { Verification } from './api.js';
import type { StoredBootConfig } from './boot-config.js';
import type { DeviceFile } from './device-file.js';
import type { DeviceErrorCode } from './errors.js';
import { type ControlFile, parseDepends, satisfies } from './format/index.js';
import { verifyUnlockToken } from './unlock.js';

/** A reason not to run a package, with the error code an install reports for it. */
export interface Incompatibility {
  readonly code: Extract<DeviceErrorCode, 'DEVICE_ARCHITECTURE' | 'DEVICE_DEPENDS'>;
  readonly reason: string;
}

/**
 * Checks `Architecture` (`all` or one the device accepts) and every `Depends` group that names
 * `firmware` against the firmware version. Dependencies on other packages are not enforced: the
 * device has no package resolver (documented).
 */
export function checkCompatibility(control: ControlFile, device: DeviceFile): Incompatibility | undefined {
  const arch = control.architecture;
  if (arch !== 'all' && !device.architectures.includes(arch)) {
    return {
      code: 'DEVICE_ARCHITECTURE',
      reason: `architecture ${arch} is not accepted by this device (accepted: all, ${device.architectures.join(', ')})`,
    };
  }
  const depends = control.get('Depends');
  if (depends === undefined) return undefined;
  let groups: ReturnType<typeof parseDepends>;
  try {
    groups = parseDepends(depends);
  } catch (error) {
    return { code: 'DEVICE_DEPENDS', reason: (error as Error).message };
  }
  for (const group of groups) {
    const firmware = group.filter((dep) => dep.name === 'firmware');
    if (firmware.length === 0 || firmware.length < group.length) continue;
    const holds = firmware.some(
      (dep) => dep.relation === undefined || satisfies(device.firmwareVersion, dep.relation, dep.version!),
    );
    if (!holds) {
      const wanted = firmware.map((dep) => `firmware (${dep.relation} ${dep.version})`).join(' | ');
      return {
        code: 'DEVICE_DEPENDS',
        reason: `needs ${wanted}, this device runs firmware ${device.firmwareVersion}`,
      };
    }
  }
  return undefined;
}

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
