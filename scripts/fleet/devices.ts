// The device directories of a fleet: one device created by the device itself, then copied with a new identity.
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { lstat, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadVendorSecretKey, makeUnlockToken, openDevice } from '../../firmware-sim/index.js';

/** A file or directory of the template device, held in memory to be written once per device. */
type Entry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode: number }
  | { readonly kind: 'file'; readonly path: string; readonly mode: number; readonly content: Buffer }
  | { readonly kind: 'link'; readonly path: string; readonly target: string };

/** The identity that makes a copy of the template a device of its own. */
export interface DeviceIdentity {
  readonly hostname: string;
  readonly serial: string;
}

/** Owner to give every file of a device (root mode: the fleet's login user). */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * A device as the device layer creates it (`openDevice` on an empty directory, the fleet's vendor key
 * trusted), read into memory. Creating each device that way costs about 200 ms (it builds and signs
 * the sample packages); writing a copy costs a few milliseconds.
 */
export class DeviceTemplate {
  private constructor(
    private readonly entries: readonly Entry[],
    private readonly hostname: string,
    private readonly vendorDir: string,
  ) {}

  /** Creates the template device in `dir` with the vendor key pair of `vendorDir` (made if missing). */
  static async create(dir: string, vendorDir: string): Promise<DeviceTemplate> {
    await rm(dir, { recursive: true, force: true });
    const device = await openDevice(dir, {
      session: { user: 'fleet', id: `fleet pid ${process.pid}` },
      vendorDir,
    });
    const info = await device.info();
    const entries: Entry[] = [];
    await readTree(dir, dir, entries);
    await rm(dir, { recursive: true, force: true });
    return new DeviceTemplate(entries, info.hostname, vendorDir);
  }

  /**
   * Writes a device into `dir` (which must not exist) with its own host name and serial: `device.json`,
   * the greeting of its firmware, the event log's first line, and the unlock token on its USB stick
   * name this device, as if it had been created on its own.
   */
  async write(dir: string, id: DeviceIdentity, owner?: Owner): Promise<void> {
    const vendorKey = await this.vendorKey();
    const overrides = new Map<string, Buffer>();
    for (const entry of this.entries) {
      if (entry.kind !== 'file') continue;
      const text = entry.content.toString('utf8');
      if (entry.path === 'device.json') {
        const file = JSON.parse(text) as Record<string, unknown>;
        overrides.set(
          entry.path,
          Buffer.from(`${JSON.stringify({ ...file, hostname: id.hostname, serial: id.serial }, null, 2)}\n`),
        );
      } else if (/^firmware\/[^/]+\/rootfs\/etc\/motd$/.test(entry.path)) {
        // The greeting of the firmware in its slot (`rootfs` is a link to the slot that runs).
        overrides.set(entry.path, Buffer.from(text.split(this.hostname).join(id.hostname)));
      } else if (entry.path === 'var/log/packages.log') {
        const stamp = text.slice(0, 19);
        const firmware = /firmware (\S+)/.exec(text)?.[1] ?? '?';
        overrides.set(
          entry.path,
          Buffer.from(
            `${stamp} device created: hostname ${id.hostname}, serial ${id.serial}, firmware ${firmware}\n`,
          ),
        );
      } else if (entry.path === 'media/usb0/token.lic') {
        overrides.set(entry.path, makeUnlockToken(vendorKey, id.serial));
      }
    }
    // Synchronous on purpose: thirty small files, and a promise per call cost ten times as much.
    mkdirSync(dir, { mode: 0o755 });
    for (const entry of this.entries) {
      const path = join(dir, entry.path);
      if (entry.kind === 'dir') mkdirSync(path, { mode: entry.mode });
      else if (entry.kind === 'link') symlinkSync(entry.target, path);
      else writeFileSync(path, overrides.get(entry.path) ?? entry.content, { mode: entry.mode });
      if (owner !== undefined && entry.kind !== 'link') chownSync(path, owner.uid, owner.gid);
    }
    if (owner !== undefined) chownSync(dir, owner.uid, owner.gid);
  }

  private key: ReturnType<typeof loadVendorSecretKey> | undefined;

  private vendorKey(): ReturnType<typeof loadVendorSecretKey> {
    this.key ??= loadVendorSecretKey(this.vendorDir);
    return this.key;
  }
}

/** Reads every entry under `dir` (parents before children). */
async function readTree(root: string, dir: string, into: Entry[]): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const rel = relative(root, path);
    const stat = await lstat(path);
    if (stat.isDirectory()) {
      into.push({ kind: 'dir', path: rel, mode: stat.mode & 0o7777 });
      await readTree(root, path, into);
    } else if (stat.isSymbolicLink()) {
      into.push({ kind: 'link', path: rel, target: await readlink(path) });
    } else if (stat.isFile()) {
      into.push({ kind: 'file', path: rel, mode: stat.mode & 0o7777, content: await readFile(path) });
    }
  }
}

/** `count` distinct serials in the device's own form (`WM` and ten hex digits). */
export function newSerials(count: number): string[] {
  const serials = new Set<string>();
  while (serials.size < count) serials.add(`WM${randomBytes(5).toString('hex').toUpperCase()}`);
  return [...serials];
}
