// Startup after a crash: finish or undo what an interrupted operation left, remove temporary files.
import { mkdir, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, TEMP_PREFIX, writeFileAtomic } from '../../common/atomic.js';
import { recoverTxn } from '../boot/rootfs-txn.js';
import { readDeviceFile } from '../config/device-file.js';
import { recoverFirmwareSwitch } from '../firmware/switch.js';
import { quantity, repairLog } from '../state/event-log.js';
import type { Layout } from '../state/layout.js';
import { tempOwnerAlive } from '../state/lock.js';
import { ensureSlotLayout } from '../state/slots.js';
import { dropView } from '../state/snapshot.js';
import { restoreHeld } from '../store/backup.js';
import { readStoreEntry, removeFromStore, removeUnreferenced } from '../store/packages.js';
import { completePlan, isPlanJournal, type PlanJournal } from '../store/plan-commit.js';
import { cleanFeedTemps, resetFeeds } from './reset-feeds.js';

/** `var/lib/wmopkg/journal.json`: an operation over several packages, completed if interrupted. */
export interface Journal {
  readonly op: 'remove-all' | 'factory-reset';
  readonly names: readonly string[];
  /** Factory reset: packages of the backup brought back into the store. */
  readonly restore?: readonly string[];
}

/** Writes the journal durably before the first change. */
export async function writeJournal(layout: Layout, journal: Journal): Promise<void> {
  await mkdir(layout.libDir, { recursive: true });
  await writeFileAtomic(layout.journalFile, `${JSON.stringify(journal)}\n`);
}

/** Removes the journal once its operation is complete. */
export async function clearJournal(layout: Layout): Promise<void> {
  await unlink(layout.journalFile).catch(() => {});
  await syncDirectory(layout.libDir);
}

/**
 * Runtime state that a factory reset clears: known SSH hosts, session state (history), and the feeds
 * not marked persistent with their kept indexes. Returns the names of the feeds dropped.
 */
export async function resetRuntime(layout: Layout): Promise<string[]> {
  await writeFileAtomic(layout.knownHostsFile, '');
  await rm(layout.runtimeDir!, { recursive: true, force: true });
  await mkdir(layout.runtimeDir!, { recursive: true });
  return resetFeeds(layout);
}

/** Removes the listed packages that are still in the store (each removal is atomic). */
export async function removePackages(layout: Layout, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const present = await readdir(join(layout.storeDir, name)).then(
      () => true,
      () => false,
    );
    if (present) await removeFromStore(layout, name);
  }
}

/**
 * Brings the state directory back to a consistent state after a crash, under the device lock.
 * Returns lines for the event log. Idempotent: a crash during recovery is recovered the next time.
 */
export async function recover(layout: Layout): Promise<string[]> {
  const events: string[] = [];
  await repairLog(layout.logFile);
  await dropView(layout);
  const device = await readDeviceFile(layout.deviceFile).catch(() => undefined);
  if (device) {
    // Before the slots exist (a device of an earlier version) nothing else can be interrupted in them.
    const running = { slot: device.firmwareSlot, version: device.firmwareVersion };
    if (await ensureSlotLayout(layout, running))
      events.push(`firmware slots: ${running.version} in slot ${running.slot}`);
    const firmware = await recoverFirmwareSwitch(layout, device);
    if (firmware) events.push(firmware);
  }
  const txn = await recoverTxn(layout);
  if (txn) events.push(txn);
  const journal = await readFile(layout.journalFile, 'utf8').then(
    (text) => JSON.parse(text) as Journal | PlanJournal,
    () => undefined,
  );
  if (journal !== undefined && isPlanJournal(journal)) {
    // Decided before the crash (every download was complete and verified): completed, never undone.
    await completePlan(layout, journal);
    events.push(
      `recovery: completed the interrupted plan ${journal.id} (${journal.installs.length} installed, ${journal.removes.length} removed)`,
    );
  } else if (journal) {
    await removePackages(layout, journal.names);
    for (const name of journal.restore ?? []) await restoreHeld(layout, name);
    if (journal.op === 'factory-reset') await resetRuntime(layout);
    await clearJournal(layout);
    events.push(
      `recovery: completed the interrupted ${journal.op} (${quantity(journal.names.length, 'package')})`,
    );
  }
  events.push(...(await cleanStore(layout)));
  for (const dir of [
    layout.root,
    layout.bootDir,
    layout.wmopkgDir,
    layout.keysDir,
    layout.sshDir,
    layout.libDir,
    layout.activeDir,
    layout.logDir,
    layout.firmwareDir,
    layout.backupStoreDir,
  ]) {
    await removeTemps(dir);
  }
  await cleanFeedTemps(layout);
  return events;
}

async function removeTemps(dir: string, keep: (name: string) => boolean = () => false): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(TEMP_PREFIX) || keep(name)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/**
 * A download of a process that still runs: an install waiting for the answer to its downgrade
 * question holds no lock, and its verified file must survive another session's recovery.
 */
function liveDownload(name: string): boolean {
  return name.includes('.download.') && tempOwnerAlive(name);
}

/**
 * The store after a crash: temporary downloads and half-built or half-removed package directories
 * go; in each package directory, files its record does not name go (an interrupted replacement).
 */
async function cleanStore(layout: Layout): Promise<string[]> {
  const events: string[] = [];
  const removed = await removeTemps(layout.storeDir, liveDownload);
  if (removed > 0) events.push(`recovery: removed ${removed} unfinished downloads or package directories`);
  for (const name of await readdir(layout.storeDir).catch(() => [] as string[])) {
    if (name.startsWith('.')) continue;
    const entry = await readStoreEntry(layout, name);
    if (entry === undefined) continue;
    if (entry.kind === 'damaged') {
      // Never made by the device (records are written atomically): leave it for the operator to see.
      events.push(`recovery: package ${name}: damaged record: ${entry.problem}; left as it is`);
      continue;
    }
    await removeUnreferenced(join(layout.storeDir, name), entry.record);
  }
  return events;
}
