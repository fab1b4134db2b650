// The firmware as `show version` sees it (both slots, the next change), and `firmware fallback` as a setting.
import type { FirmwareChange, FirmwareSlot, FirmwareState } from '../api.js';
import { readBootConfig, type StoredBootConfig } from '../config/boot-config.js';
import type { DeviceFile } from '../config/device-file.js';
import { unlocked } from '../config/policy.js';
import type { ConfigChange } from '../config/settings.js';
import { DeviceError } from '../errors.js';
import { compareVersions } from '../format/version.js';
import type { Layout } from '../state/layout.js';
import { otherSlot, readSlot, SLOT_NAMES, type SlotRecord } from '../state/slots.js';
import { firmwareRecords } from '../store/kind.js';
import { loadRecords } from '../store/packages.js';

function slotView(record: SlotRecord, active: boolean): FirmwareSlot {
  const state = active
    ? 'active'
    : record.state === 'good'
      ? 'fallback'
      : record.state === 'failed'
        ? 'failed'
        : 'empty';
  return {
    name: record.slot,
    state,
    ...(record.version === undefined || state === 'empty' ? {} : { version: record.version }),
    ...(record.writtenAt === undefined || state === 'empty' ? {} : { writtenAt: record.writtenAt }),
    ...(state === 'empty' ? {} : { source: record.source?.name ?? 'factory' }),
    ...(state === 'failed' && record.reason !== undefined ? { reason: record.reason } : {}),
  };
}

/** What the next boot will do to the firmware: a firmware package installed, or a fallback asked for. */
async function nextChange(
  layout: Layout,
  device: DeviceFile,
  config: StoredBootConfig,
): Promise<FirmwareChange | undefined> {
  const from = device.firmwareVersion;
  const slot = otherSlot(device.firmwareSlot);
  const { records } = await loadRecords(layout);
  const pending = firmwareRecords(records.values())[0];
  if (pending !== undefined)
    return { kind: 'install', from, to: pending.version, slot, package: pending.name };
  if (!config.firmwareFallback) return undefined;
  const fallback = await readSlot(layout, slot);
  if (fallback.state !== 'good') return undefined;
  return { kind: 'fallback', from, to: fallback.version!, slot };
}

/** Both slots, which runs, and what the next boot changes. Reads only (no lock). */
export async function firmwareState(layout: Layout, device: DeviceFile): Promise<FirmwareState> {
  const [config, ...slots] = await Promise.all([
    readBootConfig(layout.bootConfigFile),
    ...SLOT_NAMES.map((slot) => readSlot(layout, slot)),
  ]);
  // The running slot is what device.json says (the commit point), whatever its slot.json holds.
  const views = slots.map((record) =>
    record.slot === device.firmwareSlot
      ? slotView({ ...record, state: 'good', version: device.firmwareVersion }, true)
      : slotView(record, false),
  );
  const next = await nextChange(layout, device, config);
  return { active: device.firmwareSlot, slots: views, ...(next ? { next } : {}) };
}

/**
 * `firmware fallback` / `no firmware fallback` as a change of the boot configuration. Setting it
 * needs a good firmware in the other slot, no firmware package waiting (one change at a time), and
 * on a secure-boot device an unlock token when the fallback is older (rollback protection, as for a
 * firmware package). `changed` receives the change the next boot will make.
 */
export function fallbackChange(
  layout: Layout,
  on: boolean,
  changed: (change: FirmwareChange | undefined) => void,
): ConfigChange {
  return async (config, device) => {
    if (!on) {
      changed(undefined);
      const { firmwareFallback: _, ...rest } = config;
      return { config: rest, event: 'boot config: no firmware fallback' };
    }
    const slot = otherSlot(device.firmwareSlot);
    const fallback = await readSlot(layout, slot);
    if (fallback.state !== 'good') {
      throw new DeviceError(
        'DEVICE_FIRMWARE',
        `no fallback firmware: slot ${slot} is ${fallback.state}${fallback.state === 'failed' ? ` (${fallback.version}: ${fallback.reason})` : ''}`,
      );
    }
    const { records } = await loadRecords(layout);
    const pending = firmwareRecords(records.values())[0];
    if (pending !== undefined) {
      throw new DeviceError(
        'DEVICE_FIRMWARE',
        `firmware ${pending.version} (package ${pending.name}) is installed for the next boot; remove it first to fall back`,
      );
    }
    const to = fallback.version!;
    if (compareVersions(to, device.firmwareVersion) < 0 && device.secureBoot && !unlocked(config, device)) {
      throw new DeviceError(
        'DEVICE_SECURE_BOOT',
        `firmware fallback from ${device.firmwareVersion} to ${to} refused: secure boot is on and ${to} is older; install an unlock token for serial ${device.serial} first (unlock media external token.lic)`,
      );
    }
    changed({ kind: 'fallback', from: device.firmwareVersion, to, slot });
    return {
      config: { ...config, firmwareFallback: true },
      event: `boot config: firmware fallback to ${to} in slot ${slot} (takes effect at the next boot)`,
    };
  };
}
