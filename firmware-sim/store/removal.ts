// Installing a removal package: never stored; its one effect is to take its target out of the store (and backup).
import { basename } from 'node:path';
import type { InstallRequest, InstallResult } from '../api.js';
import type { DeviceFile } from '../config/device-file.js';
import { DeviceError } from '../errors.js';
import { removalOf } from '../format/index.js';
import { faultPoint } from '../state/fault.js';
import type { Layout } from '../state/layout.js';
import { dropHeld, heldPackages, holdInBackup } from './backup.js';
import { readStoreEntry, removeFromStore } from './packages.js';
import type { Received } from './receive.js';

/** Appends lines to the event log. */
type Log = (events: readonly string[]) => Promise<void>;

/**
 * Applies a received removal package (the caller holds the lock and checked its verdict): the target
 * leaves the store now and is deactivated at the next boot, like `remove`. Without `Remove-Backup`, a
 * persistent target stays in the backup (`cfg/backup/`) and comes back after a firmware change or a
 * factory reset; with it, it leaves the backup too. `refused` is why the activation rule does not let
 * this package act (untrusted, unsigned without allow-untrusted): then nothing changes. Logged as
 * KerOS does: `Remove package with backup from test-remove-backup.wmopkg: OK`. A dry run
 * (`request.dryRun`) checks the same and says what would be removed, changing and logging nothing.
 */
export async function applyRemoval(
  layout: Layout,
  device: DeviceFile,
  received: Received,
  request: Pick<InstallRequest, 'name' | 'origin' | 'dryRun'>,
  refused: string | undefined,
  origin: string,
  log: Log,
): Promise<InstallResult> {
  const { reading, verdict } = received;
  const file = basename(request.origin.path);
  if (refused !== undefined) {
    throw new DeviceError(
      'DEVICE_UNTRUSTED',
      `removal package ${request.name} refused: ${refused}; nothing was removed`,
    );
  }
  const { target, backup } = removalOf(reading.control);
  const entry = await readStoreEntry(layout, target);
  const held = (await heldPackages(layout)).get(target);
  const version =
    entry?.kind === 'record' ? entry.record.version : (held?.record.version ?? (entry ? '?' : undefined));
  if (version === undefined || (entry === undefined && !backup)) {
    throw new DeviceError(
      'DEVICE_NOT_INSTALLED',
      entry === undefined && held !== undefined
        ? `removal package ${request.name}: package ${target} is only in the backup; a removal package made with --backup takes it out of it; nothing was removed`
        : `removal package ${request.name}: package ${target} is not installed; nothing was removed`,
    );
  }
  const persistent = entry?.kind === 'record' && entry.record.persistent;
  const keep = persistent && !backup;
  faultPoint('removal:checked');
  if (request.dryRun === true) {
    // What would be done, from what was checked; nothing is changed nor logged.
  } else if (keep) {
    await holdInBackup(layout, target, {
      by: file,
      at: new Date().toISOString(),
      firmware: device.firmwareVersion,
    });
  } else {
    if (entry !== undefined) await removeFromStore(layout, target);
    if (backup) await dropHeld(layout, target);
  }
  const fromBackup = backup && (persistent || held !== undefined);
  const scope = keep
    ? '; kept in the backup: it comes back after a firmware change or a factory reset'
    : fromBackup
      ? ', also from the backup'
      : '';
  if (request.dryRun !== true)
    await log([
      `Remove package${backup ? ' with backup' : ''} from ${file}: OK`,
      `remove ${target} ${version} by removal package ${request.name} (${origin}) ${verdict.status}${scope} (takes effect at the next boot)`,
    ]);
  return {
    name: request.name,
    version: reading.control.version,
    verification: verdict.status,
    ...(verdict.status === 'Signed' ? {} : { reason: verdict.reason }),
    ...(verdict.keyNumber === undefined ? {} : { keyNumber: verdict.keyNumber }),
    willActivate: true,
    persistent: false,
    kind: 'removal',
    removal: { target, version, fromBackup, keptInBackup: keep },
    ...(request.dryRun === true ? { dryRun: true } : {}),
  };
}
