// The package store (`cfg/packages/NAME/`): names, records, removal. Receiving lives in receive.ts.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackageOrigin } from './api.js';
import { renameDurably, syncDirectory, tempPathFor } from './atomic.js';
import { DeviceError } from './errors.js';
import { faultPoint } from './fault.js';
import { printable } from './format/version.js';
import type { Layout } from './layout.js';
import { DEVICE_NAME, parseStoreRecord, readStoreRecord, type StoreRecord } from './records.js';

/** The record file inside a package's directory. */
export const RECORD_FILE = 'record.json';

/** Checks a device package name; throws `DEVICE_BAD_NAME` saying what is allowed. */
export function checkPackageName(name: string): void {
  if (!DEVICE_NAME.test(name)) {
    throw new DeviceError(
      'DEVICE_BAD_NAME',
      `bad package name "${printable(name)}": use up to 100 letters, digits, ".", "_", "+" and "-", starting with a letter or digit`,
    );
  }
}

/** Installed package names, sorted: one readdir, nothing else (TAB completion). */
export async function storeNames(layout: Layout): Promise<string[]> {
  const entries = await readdir(layout.storeDir).catch(() => [] as string[]);
  return entries.filter((name) => !name.startsWith('.')).sort();
}

/** The record of an installed package, or `undefined`. */
export async function findRecord(layout: Layout, name: string): Promise<StoreRecord | undefined> {
  try {
    return await readStoreRecord(join(layout.storeDir, name, RECORD_FILE));
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (error as NodeJS.ErrnoException).code === 'ENOTDIR'
    )
      return undefined;
    throw error;
  }
}

/** Path of the stored package file of a record. */
export function packageFile(layout: Layout, record: StoreRecord): string {
  return join(layout.storeDir, record.name, record.file);
}

/** Path of the file list written at installation. */
export function fileListFile(layout: Layout, record: StoreRecord): string {
  return join(layout.storeDir, record.name, `${record.installId}.files.json`);
}

/** `ftp 192.0.2.1`, `ftp [2001:db8::1]:2121`, `media external`: where a package came from, no secrets. */
export function describeOrigin(
  origin: PackageOrigin,
  defaultPorts?: Readonly<Record<string, number>>,
): string {
  if (origin.kind === 'media') return `media ${origin.label}`;
  const host = origin.host.includes(':') ? `[${origin.host}]` : origin.host;
  const port = defaultPorts && defaultPorts[origin.proto] === origin.port ? '' : `:${origin.port}`;
  return `${origin.proto} ${host}${port}`;
}

/** Deletes package files and file lists of a package directory that its record does not name. */
export async function removeUnreferenced(dir: string, record: StoreRecord): Promise<void> {
  let removed = false;
  for (const entry of await readdir(dir)) {
    if (entry === RECORD_FILE || entry === record.file || entry === `${record.installId}.files.json`)
      continue;
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
 * Store records by name. A package directory without a readable record (never made by the device,
 * which writes records atomically) is left out and reported in `problems`.
 */
export async function loadRecords(
  layout: Layout,
): Promise<{ records: Map<string, StoreRecord>; problems: string[] }> {
  const names = await storeNames(layout);
  const problems: string[] = [];
  const records = await Promise.all(
    names.map(async (name) => {
      const path = join(layout.storeDir, name, RECORD_FILE);
      try {
        return parseStoreRecord(await readFile(path, 'utf8'), path);
      } catch (error) {
        problems.push(`${path}: ${(error as Error).message}; package ignored`);
        return undefined;
      }
    }),
  );
  return {
    records: new Map(records.filter((r): r is StoreRecord => r !== undefined).map((r) => [r.name, r])),
    problems,
  };
}
