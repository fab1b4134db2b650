// The package store (`cfg/packages/NAME/`): names, records, removal. Receiving lives in receive.ts.

import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { renameDurably, syncDirectory, tempPathFor } from '../../common/atomic.js';
import { formatOrigin } from '../../common/origin.js';
import { isPackageName, PACKAGE_NAME_RULE } from '../../common/package-name.js';
import { shown } from '../../common/text.js';
import type { PackageOrigin } from '../api.js';
import { DeviceError, deviceErrorOf, shownPath } from '../errors.js';
import { faultPoint } from '../state/fault.js';
import type { Layout } from '../state/layout.js';
import { parseStoreRecord, type StoreRecord } from './records.js';

/** The record file inside a package's directory. */
export const RECORD_FILE = 'record.json';

/** Checks a device package name; throws `DEVICE_BAD_NAME` saying what is allowed. */
export function checkPackageName(name: string): void {
  if (!isPackageName(name)) {
    throw new DeviceError('DEVICE_BAD_NAME', `bad package name "${shown(name)}": use ${PACKAGE_NAME_RULE}`);
  }
}

/** Installed package names, sorted: one readdir, nothing else (TAB completion). */
export async function storeNames(layout: Layout): Promise<string[]> {
  const entries = await readdir(layout.storeDir).catch(() => [] as string[]);
  return entries.filter((name) => !name.startsWith('.')).sort();
}

/**
 * What the store holds under a name: a package with its record, or a package directory whose record
 * cannot be read (`problem` says why, paths relative to the device). The device writes records
 * atomically, so a damaged one was edited or broken behind its back; it is reported, never guessed at.
 */
export type StoreEntry =
  | { readonly kind: 'record'; readonly record: StoreRecord }
  | { readonly kind: 'damaged'; readonly name: string; readonly problem: string };

/** The entry of an installed package, or `undefined` when nothing is stored under `name`. */
export async function readStoreEntry(layout: Layout, name: string): Promise<StoreEntry | undefined> {
  const dir = join(layout.storeDir, name);
  const rel = (path: string) => shownPath(path, layout.root);
  const path = join(dir, RECORD_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const st = await lstat(dir).catch(() => undefined);
      if (st === undefined) return undefined;
      const problem = st.isDirectory() ? `${rel(path)} is missing` : `${rel(dir)} is not a package directory`;
      return { kind: 'damaged', name, problem };
    }
    return { kind: 'damaged', name, problem: deviceErrorOf(error, rel(path), layout.root).message };
  }
  try {
    const record = parseStoreRecord(text, rel(path));
    if (record.name !== name) {
      return {
        kind: 'damaged',
        name,
        problem: `${rel(path)}: it names package "${shown(record.name)}"`,
      };
    }
    return { kind: 'record', record };
  } catch (error) {
    return { kind: 'damaged', name, problem: (error as Error).message };
  }
}

/** The error for a package whose record is damaged, when the operation needs the record. */
export function damagedError(entry: { readonly name: string; readonly problem: string }): DeviceError {
  return new DeviceError(
    'DEVICE_CORRUPT_STATE',
    `package ${entry.name}: damaged record: ${entry.problem}; remove ${entry.name} or install it again`,
  );
}

/** Path of the stored package file of a record. */
export function packageFile(layout: Layout, record: StoreRecord): string {
  return join(layout.storeDir, record.name, record.file);
}

/** `ftp 192.0.2.1`, `ftp [2001:db8::1]:2121`, `media external`: where a package came from, no secrets. */
export function describeOrigin(
  origin: PackageOrigin,
  defaultPorts?: Readonly<Record<string, number>>,
): string {
  return formatOrigin(origin, origin.kind === 'remote' ? defaultPorts?.[origin.proto] : undefined);
}

/** Deletes what a package directory holds beyond its record and the package file the record names. */
export async function removeUnreferenced(dir: string, record: StoreRecord): Promise<void> {
  let removed = false;
  for (const entry of await readdir(dir)) {
    if (entry === RECORD_FILE || entry === record.file) continue;
    await rm(join(dir, entry), { recursive: true, force: true });
    removed = true;
  }
  if (removed) await syncDirectory(dir);
}

/**
 * Removes an installed package from the store: its directory is renamed to a temporary name (the
 * commit point: it is gone from the store at once) and then deleted.
 */
export async function removeFromStore(layout: Layout, name: string): Promise<void> {
  faultPoint('remove:start');
  const dir = join(layout.storeDir, name);
  const trash = tempPathFor(dir, 'removed');
  await renameDurably(dir, trash);
  faultPoint('remove:renamed');
  await rm(trash, { recursive: true, force: true });
}

/**
 * Store records by name, and the packages whose record cannot be read (`damaged`: name → problem).
 * `problems` repeats the damaged ones as lines for the event log.
 */
export async function loadRecords(layout: Layout): Promise<{
  records: Map<string, StoreRecord>;
  damaged: Map<string, string>;
  problems: string[];
}> {
  const names = await storeNames(layout);
  const entries = await Promise.all(names.map((name) => readStoreEntry(layout, name)));
  const records = new Map<string, StoreRecord>();
  const damaged = new Map<string, string>();
  for (const entry of entries) {
    if (entry?.kind === 'record') records.set(entry.record.name, entry.record);
    else if (entry?.kind === 'damaged') damaged.set(entry.name, entry.problem);
  }
  const problems = [...damaged].map(([name, problem]) => `package ${name}: damaged record: ${problem}`);
  return { records, damaged, problems };
}
