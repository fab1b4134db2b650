// The firmware switch: a journal first, `device.json` as the one commit point, then the `current` link.
import { readFile, rm, unlink } from 'node:fs/promises';
import { syncDirectory, writeFileAtomic } from '../../common/atomic.js';
import type { FirmwareSlotName } from '../api.js';
import { formatBootConfig, readBootConfig } from '../config/boot-config.js';
import { type DeviceFile, formatDeviceFile } from '../config/device-file.js';
import { faultPoint } from '../state/fault.js';
import type { Layout } from '../state/layout.js';
import { pointCurrent, readSlot, type SlotSource, slotPaths, writeSlot } from '../state/slots.js';
import { readStoreEntry, removeFromStore } from '../store/packages.js';

/**
 * `firmware/switch.json`: a switch in progress, written before anything changes. Recovery looks at
 * `device.json`: naming the new slot, the switch happened and is completed; else it is undone (a slot
 * left half written is emptied). The firmware package is consumed by the switch: its files are the
 * slot's now, so it leaves the store.
 */
export interface SwitchJournal {
  readonly op: 'install' | 'fallback';
  readonly from: { readonly slot: FirmwareSlotName; readonly version: string };
  readonly to: { readonly slot: FirmwareSlotName; readonly version: string };
  /** `install`: the firmware package being written into the slot. */
  readonly package?: { readonly name: string; readonly installId: string };
}

/** Writes the journal durably: from here on a crash is completed or undone from it. */
export async function writeJournal(layout: Layout, journal: SwitchJournal): Promise<void> {
  await writeFileAtomic(layout.firmwareJournal, `${JSON.stringify(journal)}\n`);
  faultPoint('firmware:journal');
}

async function readJournal(layout: Layout): Promise<SwitchJournal | undefined> {
  try {
    return JSON.parse(await readFile(layout.firmwareJournal, 'utf8')) as SwitchJournal;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Written atomically: an unreadable journal was not written by the device. Nothing is switched.
    return { op: 'fallback', from: { slot: 'A', version: '?' }, to: { slot: 'B', version: '?' } };
  }
}

/** Removes the journal: the switch is complete, or was given up before its commit point. */
export async function clearJournal(layout: Layout): Promise<void> {
  await unlink(layout.firmwareJournal).catch(() => {});
  await syncDirectory(layout.firmwareDir);
}

/**
 * The commit point: `device.json` names the new firmware and slot, in one atomic write. The rest of
 * the switch (`completeSwitch`) follows from it, now or in recovery.
 */
export async function commitSwitch(
  layout: Layout,
  device: DeviceFile,
  journal: SwitchJournal,
): Promise<DeviceFile> {
  const next: DeviceFile = { ...device, firmwareVersion: journal.to.version, firmwareSlot: journal.to.slot };
  await writeFileAtomic(layout.deviceFile, formatDeviceFile(next));
  faultPoint('firmware:committed');
  return next;
}

/**
 * What follows the commit, each step idempotent: `firmware/current` points to the new slot (`rootfs/`
 * with it), the firmware package leaves the store, a `firmware fallback` line leaves the boot
 * configuration, and the journal goes.
 */
export async function completeSwitch(layout: Layout, journal: SwitchJournal): Promise<void> {
  await pointCurrent(layout, journal.to.slot);
  faultPoint('firmware:pointed');
  if (journal.package !== undefined) {
    const entry = await readStoreEntry(layout, journal.package.name);
    if (entry?.kind === 'record' && entry.record.installId === journal.package.installId) {
      await removeFromStore(layout, journal.package.name);
    }
    faultPoint('firmware:consumed');
  }
  const config = await readBootConfig(layout.bootConfigFile);
  if (config.firmwareFallback) {
    const { firmwareFallback: _, ...rest } = config;
    await writeFileAtomic(layout.bootConfigFile, formatBootConfig(rest));
  }
  await clearJournal(layout);
}

/** Empties a slot that was being written: it holds no firmware any more (`slot.json` says so). */
export async function emptySlot(
  layout: Layout,
  slot: FirmwareSlotName,
  failed?: { readonly version: string; readonly reason: string; readonly source?: SlotSource },
): Promise<void> {
  const paths = slotPaths(layout, slot);
  for (const dir of [paths.rootfs, paths.active, paths.backup, paths.work]) {
    await rm(dir, { recursive: true, force: true });
  }
  await writeSlot(
    layout,
    failed
      ? {
          format: 1,
          slot,
          state: 'failed',
          version: failed.version,
          reason: failed.reason,
          ...(failed.source ? { source: failed.source } : {}),
        }
      : { format: 1, slot, state: 'empty' },
  );
}

/**
 * After a crash: completes a switch that reached its commit point, undoes one that did not (the slot
 * being written is emptied; the old firmware never stopped being the current one). Returns a line for
 * the event log, if there was anything to do. The caller holds the lock.
 */
export async function recoverFirmwareSwitch(layout: Layout, device: DeviceFile): Promise<string | undefined> {
  const journal = await readJournal(layout);
  if (journal === undefined) {
    // The link follows device.json; a crash between the commit and the link is covered by the journal,
    // this only repairs a link changed by hand.
    await pointCurrent(layout, device.firmwareSlot);
    return undefined;
  }
  if (device.firmwareSlot === journal.to.slot && device.firmwareVersion === journal.to.version) {
    await completeSwitch(layout, journal);
    return `recovery: completed the switch to firmware ${journal.to.version} (slot ${journal.to.slot})`;
  }
  await pointCurrent(layout, device.firmwareSlot);
  if (journal.op === 'install') {
    // A slot this switch began to write holds nothing usable; one it never touched keeps its fallback.
    const slot = await readSlot(layout, journal.to.slot);
    const ours = slot.state === 'building' || slot.source?.installId === journal.package?.installId;
    if (ours && slot.state !== 'empty') await emptySlot(layout, journal.to.slot);
  }
  await clearJournal(layout);
  return journal.op === 'install'
    ? `recovery: undid the interrupted write of firmware ${journal.to.version} into slot ${journal.to.slot}; ${device.firmwareVersion} runs in slot ${device.firmwareSlot}`
    : `recovery: undid the interrupted fallback to firmware ${journal.to.version}; ${device.firmwareVersion} runs in slot ${device.firmwareSlot}`;
}
