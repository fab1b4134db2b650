// The backup (KerOS): the packages that come back after a firmware change or a factory reset.
// Persistent packages of the store are in it; `cfg/backup/NAME/` keeps those a removal package took out
// of the system without `--backup`, until the firmware changes or the device is reset.
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renameDurably, syncDirectory, tempPathFor } from '../../common/atomic.js';
import type { BackupEntry } from '../api.js';
import { faultPoint } from '../state/fault.js';
import type { Layout } from '../state/layout.js';
import { loadRecords, RECORD_FILE } from './packages.js';
import { parseStoreRecord, type StoreRecord } from './records.js';

/** `cfg/backup/NAME/held.json`: who took the package out of the system, and under which firmware. */
export interface Held {
  /** The removal package (its file name) that took it out. */
  readonly by: string;
  readonly at: string;
  /** The firmware that ran then: it comes back once another one runs. */
  readonly firmware: string;
}

/** The file beside the record of a held package. */
const HELD_FILE = 'held.json';

/** A package held in the backup. */
export interface HeldPackage {
  readonly record: StoreRecord;
  readonly held: Held;
}

/** The packages held in the backup, by name; an entry that cannot be read is left out. */
export async function heldPackages(layout: Layout): Promise<Map<string, HeldPackage>> {
  const held = new Map<string, HeldPackage>();
  for (const name of await readdir(layout.backupStoreDir).catch(() => [] as string[])) {
    if (name.startsWith('.')) continue;
    const dir = join(layout.backupStoreDir, name);
    try {
      const record = parseStoreRecord(await readFile(join(dir, RECORD_FILE), 'utf8'), `cfg/backup/${name}`);
      const note = JSON.parse(await readFile(join(dir, HELD_FILE), 'utf8')) as Held;
      if (record.name === name) held.set(name, { record, held: note });
    } catch {
      // Half moved by a crash (recovery settles it) or edited by hand: not a package of the backup.
    }
  }
  return held;
}

/** `show backup`: the persistent packages of the store and the held ones, in name order. */
export async function backupList(layout: Layout): Promise<BackupEntry[]> {
  const [{ records }, held] = await Promise.all([loadRecords(layout), heldPackages(layout)]);
  const entries: BackupEntry[] = [];
  for (const record of records.values()) {
    if (!record.persistent) continue;
    entries.push({
      name: record.name,
      version: record.version,
      description: record.description,
      state: 'installed',
    });
  }
  for (const { record, held: note } of held.values()) {
    if (records.get(record.name)?.persistent) continue;
    entries.push({
      name: record.name,
      version: record.version,
      description: record.description,
      state: 'held',
      removedBy: note.by,
      firmware: note.firmware,
    });
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Takes an installed package out of the system but keeps it in the backup: its directory moves from
 * the store to `cfg/backup/` (the rename is the commit point; the note is written first, and a crash
 * before the rename leaves a file recovery removes). The next boot deactivates it.
 */
export async function holdInBackup(layout: Layout, name: string, held: Held): Promise<void> {
  const from = join(layout.storeDir, name);
  const to = join(layout.backupStoreDir, name);
  await writeFile(join(from, HELD_FILE), `${JSON.stringify(held)}\n`, { flush: true });
  faultPoint('backup:noted');
  await dropHeld(layout, name);
  await mkdir(layout.backupStoreDir, { recursive: true });
  await renameDurably(from, to);
  await syncDirectory(layout.storeDir);
  faultPoint('backup:held');
}

/** Removes a held package from the backup (`remove`, a removal package made with `--backup`). */
export async function dropHeld(layout: Layout, name: string): Promise<boolean> {
  const dir = join(layout.backupStoreDir, name);
  const trash = tempPathFor(dir, 'removed');
  try {
    await rename(dir, trash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  await syncDirectory(layout.backupStoreDir);
  await rm(trash, { recursive: true, force: true });
  return true;
}

/**
 * Brings a held package back into the store (the rename is the commit point): `restored`. One
 * installed again meanwhile under the same name wins: the held one is `dropped`; `gone` when there is
 * none.
 */
export async function restoreHeld(layout: Layout, name: string): Promise<'restored' | 'dropped' | 'gone'> {
  const from = join(layout.backupStoreDir, name);
  const to = join(layout.storeDir, name);
  await mkdir(layout.storeDir, { recursive: true });
  try {
    await rename(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'gone';
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    await dropHeld(layout, name);
    return 'dropped';
  }
  await syncDirectory(layout.storeDir);
  await syncDirectory(layout.backupStoreDir);
  faultPoint('backup:restored');
  await unlink(join(to, HELD_FILE)).catch(() => {});
  return 'restored';
}
