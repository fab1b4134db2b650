// Opening a state directory: is it a device, a place to make one, or neither; did a crash leave work behind.
import { access, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TEMP_PREFIX } from '../../common/atomic.js';
import { DeviceError } from '../errors.js';
import type { Layout } from '../state/layout.js';
import { tempOwnerAlive } from '../state/lock.js';
import { hasSlotLayout } from '../state/slots.js';

/**
 * What `dir` is: a device (`device.json` is there), or a place to create one (missing, empty, or a
 * creation left unfinished). Anything else is refused: creating a device there would mix it with
 * other files, or hide that a device lost its `device.json` (a new serial would orphan its unlock
 * token and its packages). `shown` is the directory as the operator named it.
 */
export async function examine(layout: Layout, shown: string): Promise<'device' | 'create'> {
  const missing = (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  };
  if (await stat(layout.deviceFile).catch(missing)) return 'device';
  const root = await stat(layout.root).catch(missing);
  if (!root) return 'create';
  if (!root.isDirectory()) throw new DeviceError('DEVICE_NOT_A_DEVICE', `${shown} is not a directory`);
  const entries = await readdir(layout.root);
  if (entries.length === 0 || entries.includes('.creating')) return 'create';
  if ((await stat(layout.storeDir).catch(missing))?.isDirectory()) {
    throw new DeviceError(
      'DEVICE_NOT_A_DEVICE',
      `${shown}: device.json is missing; restore it from a backup (a new one would give the device a new serial)`,
    );
  }
  throw new DeviceError(
    'DEVICE_NOT_A_DEVICE',
    `${shown} is not a device directory (no device.json) and not empty`,
  );
}

/**
 * `mkdir -p`. Node reports a recursive mkdir on a read-only file system as ENOENT; the first missing
 * ancestor is then made alone, which fails with the real reason (EROFS, EACCES, ENOTDIR…).
 */
export async function makeDirectory(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    let first = path;
    while (dirname(first) !== first && !(await exists(dirname(first)))) first = dirname(first);
    await mkdir(first);
    await mkdir(path, { recursive: true });
  }
}

/**
 * Whether an activation, a multi-package operation or a firmware switch was left unfinished, or the
 * device still lacks its firmware slots (made by an earlier version): a few lookups.
 */
export async function interrupted(layout: Layout): Promise<boolean> {
  return (
    (await exists(layout.txnDir)) ||
    (await exists(layout.journalFile)) ||
    (await exists(layout.firmwareJournal)) ||
    ((await exists(layout.deviceFile)) && !(await hasSlotLayout(layout)))
  );
}

/**
 * Temporary files in the store or in the kept feed indexes left by a process that is gone (a kill
 * while it held no lock: a download, or an update writing its new Packages before taking the lock).
 */
export async function deadTemps(layout: Layout): Promise<boolean> {
  const feeds = await readdir(layout.feedsDir).catch(() => [] as string[]);
  for (const dir of [layout.storeDir, ...feeds.map((feed) => join(layout.feedsDir, feed))]) {
    for (const name of await readdir(dir).catch(() => [] as string[]))
      if (name.startsWith(TEMP_PREFIX) && !tempOwnerAlive(name)) return true;
  }
  return false;
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
