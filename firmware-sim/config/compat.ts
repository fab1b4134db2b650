// Whether a package fits this device: its architecture and the firmware version it needs.

import type { DeviceErrorCode } from '../errors.js';
import { type ControlFile, parseDepends, satisfies } from '../format/index.js';
import type { DeviceFile } from './device-file.js';

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
