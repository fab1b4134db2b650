// The two firmware slots (A/B): where each lives, what `slot.json` says of it, and the `current` link.
import { lstat, mkdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { syncDirectory, tempPathFor, writeFileAtomic } from '../../common/atomic.js';
import type { FirmwareSlotName, PackageOrigin } from '../api.js';
import { DeviceError } from '../errors.js';
import type { Layout } from './layout.js';

/** Both slots, in the order `show version` lists them. */
export const SLOT_NAMES: readonly FirmwareSlotName[] = ['A', 'B'];

/** The slot that is not `slot`. */
export function otherSlot(slot: FirmwareSlotName): FirmwareSlotName {
  return slot === 'A' ? 'B' : 'A';
}

/** Where one slot keeps its files. */
export interface SlotPaths {
  /** `firmware/a/`. */
  readonly dir: string;
  /** The slot's root file system: the firmware's files and the packages activated over them. */
  readonly rootfs: string;
  /** Activation records of the packages in this slot's rootfs. */
  readonly active: string;
  /** Originals of this slot's firmware files that packages overwrote. */
  readonly backup: string;
  /** Scratch space while the slot is written (maintainer scripts of the firmware). */
  readonly work: string;
  /** `slot.json`: what the slot holds. */
  readonly file: string;
}

/** The name of a slot's directory: `a`, `b`. */
function dirName(slot: FirmwareSlotName): string {
  return slot.toLowerCase();
}

/** The paths of one slot. */
export function slotPaths(layout: Layout, slot: FirmwareSlotName): SlotPaths {
  const dir = join(layout.firmwareDir, dirName(slot));
  return {
    dir,
    rootfs: join(dir, 'rootfs'),
    active: join(dir, 'active'),
    backup: join(dir, 'backup'),
    work: join(dir, 'work'),
    file: join(dir, 'slot.json'),
  };
}

/** The firmware package a slot was written from (the factory firmware has none). */
export interface SlotSource {
  readonly name: string;
  readonly installId: string;
  readonly keyNumber?: string;
  readonly origin: PackageOrigin;
  readonly description: string;
}

/**
 * `firmware/X/slot.json`. `building` is written before the slot is wiped and filled, so that a slot
 * left half written is never taken for a firmware; `failed` keeps the version and why it did not
 * activate; `empty` holds nothing.
 */
export interface SlotRecord {
  readonly format: 1;
  readonly slot: FirmwareSlotName;
  readonly state: 'good' | 'building' | 'failed' | 'empty';
  readonly version?: string;
  /** ISO 8601: when the firmware was written into the slot. */
  readonly writtenAt?: string;
  readonly source?: SlotSource;
  readonly reason?: string;
}

/** Reads a slot's record; a missing or unreadable one is an empty slot (never booted into). */
export async function readSlot(layout: Layout, slot: FirmwareSlotName): Promise<SlotRecord> {
  const empty: SlotRecord = { format: 1, slot, state: 'empty' };
  let value: unknown;
  try {
    value = JSON.parse(await readFile(slotPaths(layout, slot).file, 'utf8'));
  } catch {
    return empty;
  }
  const o = value as Partial<SlotRecord> | null;
  const states: readonly unknown[] = ['good', 'building', 'failed', 'empty'];
  if (typeof o !== 'object' || o === null || o.slot !== slot || !states.includes(o.state)) return empty;
  if (o.state !== 'empty' && typeof o.version !== 'string') return empty;
  return o as SlotRecord;
}

/** Writes a slot's record atomically. */
export async function writeSlot(layout: Layout, record: SlotRecord): Promise<void> {
  const paths = slotPaths(layout, record.slot);
  await mkdir(paths.dir, { recursive: true });
  await writeFileAtomic(paths.file, `${JSON.stringify(record, null, 1)}\n`);
}

async function lstatOrUndefined(path: string) {
  return lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}

/** Replaces (or creates) a symlink atomically: a new link under a temporary name, renamed over the old. */
async function pointLink(link: string, target: string): Promise<void> {
  const tmp = tempPathFor(link, 'link');
  await symlink(target, tmp);
  try {
    await rename(tmp, link);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(link));
}

/** The slot `firmware/current` points to, or `undefined` when there is no such link. */
async function currentLinkSlot(layout: Layout): Promise<FirmwareSlotName | undefined> {
  const target = await readlink(layout.currentSlotLink).catch(() => undefined);
  return SLOT_NAMES.find((slot) => dirName(slot) === target);
}

/**
 * Points `firmware/current` at `slot`: every path through it (`rootfs/`, the activation records, the
 * originals) now names that slot's. One rename: the switch of the root file system is atomic.
 */
export async function pointCurrent(layout: Layout, slot: FirmwareSlotName): Promise<void> {
  if ((await currentLinkSlot(layout)) === slot) return;
  await pointLink(layout.currentSlotLink, dirName(slot));
}

/** The links through `firmware/current`: where each path of the layout points. */
function stableLinks(layout: Layout): ReadonlyArray<readonly [string, string]> {
  const through = (path: string, inSlot: string) =>
    [path, relative(dirname(path), join(layout.currentSlotLink, inSlot))] as const;
  return [
    through(layout.rootfs, 'rootfs'),
    through(layout.activeDir, 'active'),
    through(layout.backupDir, 'backup'),
  ];
}

/** Whether the state directory has its slots and links (a device made by an earlier version has not). */
export async function hasSlotLayout(layout: Layout): Promise<boolean> {
  for (const [path] of [[layout.currentSlotLink], ...stableLinks(layout)]) {
    if (!(await lstatOrUndefined(path!))?.isSymbolicLink()) return false;
  }
  return true;
}

/**
 * Gives a device its slots, or completes an interrupted attempt (each step is done only if it is not
 * done yet, so a crash anywhere is completed the next time): the root file system, the activation
 * records and the originals move into the running slot's directory, `slot.json` describes it, and
 * `firmware/current`, `rootfs`, `var/lib/wmopkg/active` and `…/backup` become links. A new device is
 * made the same way. The caller holds the lock; returns whether anything changed.
 */
export async function ensureSlotLayout(
  layout: Layout,
  running: { readonly slot: FirmwareSlotName; readonly version: string },
): Promise<boolean> {
  if (await hasSlotLayout(layout)) return false;
  const slot = slotPaths(layout, running.slot);
  await mkdir(slot.dir, { recursive: true });
  const moves: ReadonlyArray<readonly [string, string]> = [
    [layout.rootfs, slot.rootfs],
    [layout.activeDir, slot.active],
    [layout.backupDir, slot.backup],
  ];
  for (const [path, inSlot] of moves) {
    const here = await lstatOrUndefined(path);
    const there = await lstatOrUndefined(inSlot);
    if (here?.isDirectory() && there === undefined) await rename(path, inSlot);
    else if (here?.isDirectory()) {
      throw new DeviceError(
        'DEVICE_CORRUPT_STATE',
        `${relative(layout.root, path)} and ${relative(layout.root, inSlot)} both exist; keep one`,
      );
    } else if (there === undefined) await mkdir(inSlot, { recursive: true });
  }
  await syncDirectory(slot.dir);
  await syncDirectory(layout.root);
  if ((await readSlot(layout, running.slot)).state !== 'good') {
    await writeSlot(layout, { format: 1, slot: running.slot, state: 'good', version: running.version });
  }
  if ((await currentLinkSlot(layout)) === undefined) await pointCurrent(layout, running.slot);
  for (const [path, target] of stableLinks(layout)) {
    const st = await lstatOrUndefined(path);
    if (st?.isSymbolicLink() && (await readlink(path)) === target) continue;
    await mkdir(dirname(path), { recursive: true });
    await pointLink(path, target);
  }
  return true;
}
