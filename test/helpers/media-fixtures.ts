// Fixture drive lists for the media tests: lsblk JSON as util-linux prints it, mount points on temp directories.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A node of `lsblk --bytes --all --json --paths --output-all`, the columns that matter here. */
export interface FixtureNode {
  name: string;
  kname: string;
  path: string;
  pkname: string | null;
  type: string;
  'maj:min': string;
  size: number;
  rm: boolean;
  hotplug: boolean;
  ro: boolean;
  tran: string | null;
  subsystems: string;
  vendor: string | null;
  model: string | null;
  label: string | null;
  partlabel: string | null;
  uuid: string | null;
  partuuid: string | null;
  fstype: string | null;
  mountpoint: string | null;
  mountpoints: Array<string | null>;
  pttype: string | null;
  children?: FixtureNode[];
}

/** Options of a fixture disk or partition; the rest is filled as lsblk 2.38 prints it. */
export interface NodeOptions {
  type?: string;
  size?: number;
  rm?: boolean;
  hotplug?: boolean;
  tran?: string | null;
  subsystems?: string;
  vendor?: string;
  model?: string;
  label?: string;
  uuid?: string;
  partuuid?: string;
  fstype?: string;
  mount?: string;
  children?: FixtureNode[];
}

let minor = 0;

/** A block device node: a disk by default; give `children` for partitions. */
export function node(name: string, options: NodeOptions = {}): FixtureNode {
  const path = `/dev/${name}`;
  const mount = options.mount ?? null;
  const result: FixtureNode = {
    name: path,
    kname: path,
    path,
    pkname: null,
    type: options.type ?? 'disk',
    'maj:min': `8:${minor++}`,
    size: options.size ?? 8_000_000_000,
    rm: options.rm ?? false,
    hotplug: options.hotplug ?? false,
    ro: false,
    tran: options.tran ?? null,
    subsystems: options.subsystems ?? 'block:scsi:pci',
    vendor: options.vendor ?? null,
    model: options.model ?? null,
    label: options.label ?? null,
    partlabel: null,
    uuid: options.uuid ?? null,
    partuuid: options.partuuid ?? null,
    fstype: options.fstype ?? (options.uuid ? 'vfat' : null),
    mountpoint: mount,
    mountpoints: [mount],
    pttype: options.children ? 'dos' : null,
  };
  if (options.children) {
    result.children = options.children.map((child) => ({ ...child, pkname: path }));
  }
  return result;
}

/** A partition node (lsblk `type: part`), inheriting bus columns from the disk as lsblk does. */
export function part(name: string, options: NodeOptions = {}): FixtureNode {
  return node(name, { size: 1_000_000_000, ...options, type: options.type ?? 'part' });
}

/** A USB stick: `tran usb`, removable, hotplug. */
export function usbDisk(name: string, children: FixtureNode[], options: NodeOptions = {}): FixtureNode {
  return node(name, {
    tran: 'usb',
    rm: true,
    hotplug: true,
    subsystems: 'block:scsi:usb:pci',
    vendor: 'SanDisk ',
    model: 'Cruzer',
    ...options,
    children,
  });
}

/** An SD card in the host's own slot: lsblk calls it neither removable nor USB. */
export function mmcDisk(name: string, children: FixtureNode[], options: NodeOptions = {}): FixtureNode {
  return node(name, { subsystems: 'block:mmc:mmc_host:platform', ...options, children });
}

/** The JSON document lsblk prints. */
export function lsblk(...nodes: FixtureNode[]): { blockdevices: FixtureNode[] } {
  return { blockdevices: nodes };
}

/** A temp directory with named subdirectories to act as mount points; `cleanup` removes it all. */
export interface MountDirs {
  readonly root: string;
  dir(name: string): string;
  cleanup(): Promise<void>;
}

/** Creates a temp directory; `dir(name)` is a mount point below it (created by `makeMountDirs`). */
export async function makeMountDirs(names: readonly string[]): Promise<MountDirs> {
  const root = await mkdtemp(join(tmpdir(), 'edgesh-media-'));
  for (const name of names) await mkdir(join(root, name), { recursive: true });
  return {
    root,
    dir: (name) => join(root, name),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Writes `data` at `path` below `dir`, creating directories. */
export async function put(dir: string, path: string, data: string | Uint8Array): Promise<string> {
  const full = join(dir, path);
  await mkdir(join(full, '..'), { recursive: true });
  await writeFile(full, data);
  return full;
}

/**
 * The "workstation" snapshot: a system disk with LVM root, two USB sticks (one with two labelled
 * partitions, the second unmounted), an SD card in the built-in slot, zram, a virtual disk (nbd), a
 * loop device, a CD drive, an empty card reader, and a removable SATA disk.
 */
export function workstation(mounts: MountDirs): { blockdevices: FixtureNode[] } {
  return lsblk(
    node('loop0', { type: 'loop', subsystems: 'block', size: 60_000_000, mount: '/snap/core/1' }),
    node('sda', {
      tran: 'sata',
      subsystems: 'block:scsi:pci',
      vendor: 'ATA ',
      model: 'Samsung SSD',
      children: [
        part('sda1', { fstype: 'vfat', uuid: 'AAAA-0001', mount: '/boot/efi' }),
        part('sda2', {
          fstype: 'LVM2_member',
          children: [node('dm-0', { type: 'lvm', subsystems: 'block', mount: '/', uuid: 'f00d-0000' })],
        }),
      ],
    }),
    usbDisk('sdb', [part('sdb1', { label: 'STICK', uuid: '1234-ABCD', mount: mounts.dir('sdb1') })]),
    usbDisk('sdc', [
      part('sdc1', {
        label: 'FIRMWARE',
        uuid: '0a1b2c3d-0000-4000-8000-000000000001',
        fstype: 'ext4',
        mount: mounts.dir('sdc1'),
      }),
      part('sdc2', { label: 'DATA', uuid: 'BEEF-0002' }),
    ]),
    usbDisk('sdd', [], { size: 0, model: 'Card Reader' }),
    node('sde', {
      tran: 'sata',
      hotplug: true,
      children: [part('sde1', { label: 'BACKUP', uuid: 'CAFE-0005', mount: mounts.dir('sde1') })],
    }),
    node('sr0', { type: 'rom', tran: 'sata', rm: true, size: 1_000_000 }),
    mmcDisk('mmcblk0', [part('mmcblk0p1', { label: 'SDCARD', uuid: '5D00-0001', mount: mounts.dir('sd') })]),
    node('nbd0', {
      subsystems: 'block',
      children: [part('nbd0p1', { subsystems: 'block', uuid: 'DEAD-0001', mount: mounts.dir('nbd') })],
    }),
    node('zram0', { subsystems: 'block', size: 4_000_000_000, mount: '[SWAP]' }),
  );
}

/** Mount point names `workstation` uses. */
export const WORKSTATION_MOUNTS = ['sdb1', 'sdc1', 'sde1', 'sd', 'nbd'] as const;
