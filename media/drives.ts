// Drive enumeration: one lsblk snapshot, classified by drivelist's own transform, partitions read from the same snapshot.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { MediaError } from './errors.js';

/** Bus of a drive as labels see it; `other` (a removable SATA/SCSI disk, …) matches only `any`. */
export type DriveBus = 'usb' | 'sd' | 'other';

/**
 * What a drive is to the media layer. Only `external` drives are ever matched by a label.
 * - `external`: USB, removable/hotplug, or an SD card (mmcblk) not holding the system;
 * - `system`: holds `/`, `/boot` (or `/boot/efi`, `/boot/firmware`) or the kernel's `root=`;
 * - `virtual`: zram, loop, nbd, device-mapper and other block devices without hardware;
 * - `internal`: a fixed disk, an eMMC, an eMMC boot or RPMB area;
 * - `no-medium`: an empty card reader (size 0).
 */
export type DriveRole = 'external' | 'system' | 'virtual' | 'internal' | 'no-medium';

/** A filesystem a label can point at: a partition, or the whole disk when it has no partition table. */
export interface MediaPartition {
  /** Block device holding the filesystem: `/dev/sdb1` (the disk itself for a "superfloppy" stick). */
  readonly device: string;
  /** 1-based partition number (1 for a disk without a partition table). */
  readonly number: number;
  readonly fsLabel?: string;
  readonly uuid?: string;
  /** First mount point, when mounted. */
  readonly mountpoint?: string;
}

/** One drive, classified; partitions in ascending number order. */
export interface MediaDrive {
  /** Whole-disk device: `/dev/sdb`, `/dev/mmcblk1`, or `sim-usb0` for the simulated stick. */
  readonly device: string;
  readonly bus: DriveBus;
  readonly role: DriveRole;
  /** Vendor, model and labels in words (drivelist's description). */
  readonly description: string;
  readonly partitions: readonly MediaPartition[];
}

/** Lists every drive (external or not); injectable so that tests never need hardware. */
export type DriveLister = () => Promise<readonly MediaDrive[]>;

/** Facts about the running system that lsblk does not show, gathered by `listDrives` (empty in tests). */
export interface SystemHints {
  /** The `root=` argument of the kernel command line: `/dev/mmcblk0p2`, `PARTUUID=…`, `UUID=…`, `LABEL=…`. */
  readonly kernelRoot?: string;
  /** Card type per mmcblk disk name from `/sys/block/NAME/device/type`: `SD`, `MMC` (eMMC), `SDIO`. */
  readonly mmcTypes?: Readonly<Record<string, string>>;
}

/** Mount points that mark the disk holding them as the system disk. */
export const SYSTEM_MOUNTPOINTS: readonly string[] = ['/', '/boot', '/boot/efi', '/boot/firmware'];

/** One node of `lsblk --json --output-all --paths`; only the columns read here, in the shapes util-linux 2.33–2.40 print. */
interface LsblkNode {
  readonly name: string;
  readonly type?: string | null;
  readonly 'maj:min'?: string | null;
  readonly partn?: number | string | null;
  readonly label?: string | null;
  readonly uuid?: string | null;
  readonly partuuid?: string | null;
  readonly fstype?: string | null;
  readonly mountpoint?: string | null;
  readonly mountpoints?: ReadonlyArray<string | null> | null;
  readonly size?: number | string | null;
  readonly children?: readonly LsblkNode[];
}

/** The shape of drivelist's per-drive result that is read here (its `Drive` type, narrowed). */
interface DrivelistDrive {
  readonly device: string;
  readonly description: string;
  readonly size: number | null;
  readonly isUSB: boolean | null;
  readonly isRemovable: boolean;
  readonly isVirtual: boolean | null;
}

type Transform = (data: { blockdevices: unknown[] }) => DrivelistDrive[];

const LSBLK_ARGS = ['--bytes', '--all', '--json', '--paths', '--output-all'];
const LSBLK_TIMEOUT_MS = 5000;

/**
 * The drives of this machine: runs lsblk once (the same arguments drivelist uses), reads the kernel
 * command line and the mmc card types, and classifies with `drivesFromLsblk`. Linux only; elsewhere,
 * and when lsblk fails, it throws a `MediaError` (`MEDIA_LIST_FAILED`).
 */
export const listDrives: DriveLister = async () => {
  if (process.platform !== 'linux') {
    throw new MediaError(
      'MEDIA_LIST_FAILED',
      `media: drive listing needs Linux (lsblk), not ${process.platform}`,
    );
  }
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      'lsblk',
      LSBLK_ARGS,
      { timeout: LSBLK_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, out, err) => {
        if (error === null) resolve(out);
        else {
          const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
          const why = missing ? 'not found' : (err.trim().split('\n')[0] || error.message).slice(0, 200);
          reject(new MediaError('MEDIA_LIST_FAILED', `media: cannot list drives: lsblk: ${why}`));
        }
      },
    );
  });
  const json = parseLsblkOutput(stdout);
  return drivesFromLsblk(json, await systemHints(json));
};

function parseLsblkOutput(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new MediaError('MEDIA_LIST_FAILED', 'media: cannot list drives: lsblk printed no valid JSON');
  }
}

async function systemHints(json: unknown): Promise<SystemHints> {
  const read = (file: string) =>
    readFile(file, 'utf8').then(
      (text) => text.trim(),
      () => undefined,
    );
  const cmdline = await read('/proc/cmdline');
  const kernelRoot = cmdline
    ?.split(/\s+/)
    // The kernel takes the last root= it is given.
    .findLast((arg) => arg.startsWith('root='))
    ?.slice('root='.length);
  const mmcTypes: Record<string, string> = {};
  for (const node of topLevel(json)) {
    const name = baseName(node.name);
    if (!/^mmcblk\d+$/.test(name)) continue;
    const type = await read(`/sys/block/${name}/device/type`);
    if (type !== undefined) mmcTypes[name] = type;
  }
  return { ...(kernelRoot ? { kernelRoot } : {}), mmcTypes };
}

function topLevel(json: unknown): LsblkNode[] {
  const devices = (json as { blockdevices?: unknown } | null)?.blockdevices;
  if (!Array.isArray(devices)) {
    throw new MediaError('MEDIA_LIST_FAILED', 'media: cannot list drives: lsblk printed no "blockdevices"');
  }
  return devices.filter((d): d is LsblkNode => typeof (d as LsblkNode | null)?.name === 'string');
}

/**
 * Classifies the drives of one `lsblk --bytes --all --json --paths --output-all` snapshot (parsed
 * JSON or its text). drivelist's own transform decides USB, removable and virtual; partition numbers,
 * filesystem labels, uuids and mount points come from the same snapshot, which drivelist drops.
 * Drives come out in the order labels match in (`compareDrives`).
 */
export async function drivesFromLsblk(json: unknown, hints: SystemHints = {}): Promise<MediaDrive[]> {
  const data = typeof json === 'string' ? parseLsblkOutput(json) : json;
  const nodes = topLevel(data);
  const { transform } = (await import('drivelist/js/lsblk/json.js')) as unknown as { transform: Transform };
  const byDevice = new Map(nodes.map((node) => [devicePath(node.name), node]));
  const drives = transform({ blockdevices: nodes }).flatMap((drive) => {
    const node = byDevice.get(drive.device);
    return node === undefined ? [] : [classify(drive, node, hints)];
  });
  return drives.sort(compareDrives);
}

const BUS_RANK: Readonly<Record<DriveBus, number>> = { usb: 0, sd: 1, other: 2 };

/**
 * The order labels match in: USB first, then SD cards, then other removable drives, each in kernel
 * name order. A card that stays in the slot does not hide a stick plugged in for an update.
 */
export function compareDrives(a: MediaDrive, b: MediaDrive): number {
  return BUS_RANK[a.bus] - BUS_RANK[b.bus] || compareDeviceNames(a.device, b.device);
}

/**
 * Kernel order of device names: `sdz` < `sdaa` (letters by length, as the kernel hands them out),
 * `mmcblk2` < `mmcblk10` (digit runs as numbers), otherwise by character.
 */
export function compareDeviceNames(a: string, b: string): number {
  const letters = (s: string) => /^(.*\/)?(sd|vd|hd|xvd)([a-z]+)$/.exec(s);
  const [la, lb] = [letters(a), letters(b)];
  if (la && lb && la[1] === lb[1] && la[2] === lb[2]) {
    return la[3]!.length - lb[3]!.length || cmp(la[3]!, lb[3]!);
  }
  const runs = (s: string) => s.match(/[0-9]+|[^0-9]+/g) ?? [];
  const [x, y] = [runs(a), runs(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const [p, q] = [x[i]!, y[i]!];
    if (p === q) continue;
    if (/^[0-9]/.test(p) && /^[0-9]/.test(q)) return Number(p) - Number(q) || p.length - q.length;
    return cmp(p, q);
  }
  return x.length - y.length;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** drivelist names devices `/dev/NAME` whether or not lsblk ran with `--paths`; so does this. */
function devicePath(name: string): string {
  return name.startsWith('/') ? name : `/dev/${name}`;
}

function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

function classify(drive: DrivelistDrive, node: LsblkNode, hints: SystemHints): MediaDrive {
  const name = baseName(drive.device);
  const mmc = /^mmcblk\d+$/.test(name);
  const bus: DriveBus = drive.isUSB ? 'usb' : mmc && hints.mmcTypes?.[name] !== 'MMC' ? 'sd' : 'other';
  return {
    device: drive.device,
    bus,
    role: role(drive, node, name, hints),
    description: drive.description,
    partitions: partitions(node),
  };
}

function role(drive: DrivelistDrive, node: LsblkNode, name: string, hints: SystemHints): DriveRole {
  if (drive.isVirtual || /^(zram|loop|nbd|dm-|md|ram|sr)\d/.test(name) || node.type === 'loop') {
    return 'virtual';
  }
  if (holdsSystem(node, hints.kernelRoot)) return 'system';
  if (!(Number(drive.size) > 0)) return 'no-medium';
  if (/^mmcblk\d+$/.test(name)) return hints.mmcTypes?.[name] === 'MMC' ? 'internal' : 'external';
  // mmcblkNbootM and mmcblkNrpmb are areas of an eMMC, never a card.
  if (name.startsWith('mmcblk')) return 'internal';
  return drive.isUSB || drive.isRemovable ? 'external' : 'internal';
}

function* subtree(node: LsblkNode): Generator<LsblkNode> {
  yield node;
  for (const child of node.children ?? []) yield* subtree(child);
}

function mountpointsOf(node: LsblkNode): string[] {
  const all = [...(node.mountpoints ?? []), node.mountpoint];
  return all.filter((m): m is string => typeof m === 'string' && m !== '');
}

/** Whether `/`, `/boot` & co. live anywhere below the disk (partitions, LVM, crypt), or the kernel booted from it. */
function holdsSystem(disk: LsblkNode, kernelRoot: string | undefined): boolean {
  const root = kernelRoot === undefined ? undefined : kernelRootMatcher(kernelRoot);
  for (const node of subtree(disk)) {
    if (mountpointsOf(node).some((m) => SYSTEM_MOUNTPOINTS.includes(m))) return true;
    if (root?.(node)) return true;
  }
  return false;
}

function kernelRootMatcher(spec: string): ((node: LsblkNode) => boolean) | undefined {
  const same = (a: string | null | undefined, b: string) =>
    typeof a === 'string' && a.toLowerCase() === b.toLowerCase();
  const [key, value] = spec.includes('=')
    ? [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)]
    : ['', spec];
  switch (key) {
    case '':
      return spec.startsWith('/dev/') ? (node) => devicePath(node.name) === spec : undefined;
    case 'PARTUUID':
      return (node) => same(node.partuuid, value);
    case 'UUID':
      return (node) => same(node.uuid, value);
    case 'LABEL':
      return (node) => node.label === value;
    default:
      return undefined;
  }
}

/** Partitions of a disk; a disk without partitions but with a filesystem counts as its own partition 1. */
function partitions(disk: LsblkNode): MediaPartition[] {
  const children = (disk.children ?? []).filter((child) => child.type === 'part' || child.type == null);
  const found = children.flatMap((child) => {
    const number = partitionNumber(child, disk);
    return number === undefined ? [] : [partition(child, number)];
  });
  if (found.length === 0 && (disk.children ?? []).length === 0 && (disk.fstype || disk.uuid)) {
    return [partition(disk, 1)];
  }
  return found.sort((a, b) => a.number - b.number);
}

function partition(node: LsblkNode, number: number): MediaPartition {
  const mountpoint = mountpointsOf(node)[0];
  return {
    device: devicePath(node.name),
    number,
    ...(node.label ? { fsLabel: node.label } : {}),
    ...(node.uuid ? { uuid: node.uuid } : {}),
    ...(mountpoint === undefined ? {} : { mountpoint }),
  };
}

/**
 * `partn` where lsblk has it (util-linux ≥ 2.39); otherwise from the kernel's naming: the disk name,
 * then `p` when the disk name ends in a digit (`mmcblk0p1`, `nvme0n1p2`), then the number (`sdb1`).
 */
function partitionNumber(child: LsblkNode, disk: LsblkNode): number | undefined {
  const partn = Number(child.partn);
  if (child.partn != null && Number.isInteger(partn) && partn > 0) return partn;
  const diskName = baseName(disk.name);
  const childName = baseName(child.name);
  if (!childName.startsWith(diskName)) return undefined;
  const match = /^p?([0-9]+)$/.exec(childName.slice(diskName.length));
  if (match === null) return undefined;
  if (/[0-9]$/.test(diskName) && !childName.slice(diskName.length).startsWith('p')) return undefined;
  const number = Number(match[1]);
  return number > 0 ? number : undefined;
}
