// Test devices in temporary directories, and ways to look at their state from outside.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { SecretKey } from '../../firmware-sim/format/index.js';
import {
  DeviceError,
  type DeviceErrorCode,
  type LocalDevice,
  loadVendorSecretKey,
  openDevice,
} from '../../firmware-sim/index.js';

export { installFile, mediaOrigin } from '../../lab/packages.js';

/** A device in a fresh temporary directory; `cleanup` removes all of it. */
export interface TestDevice {
  readonly device: LocalDevice;
  /** The temporary directory holding the device, its vendor directory and anything else. */
  readonly root: string;
  readonly dir: string;
  readonly vendorDir: string;
  readonly vendorKey: SecretKey;
  cleanup(): Promise<void>;
}

/** Creates a device; `edit` may change `device.json` before the device is opened again. */
export async function makeTestDevice(
  options: { lockWaitMs?: number; edit?: (json: Record<string, unknown>) => void; user?: string } = {},
): Promise<TestDevice> {
  const root = await mkdtemp(join(tmpdir(), 'edgesh-device-'));
  const dir = join(root, 'device');
  const vendorDir = join(root, 'vendor');
  const session = { user: options.user ?? 'tester', id: 'test' };
  let device = await openDevice(dir, { session, vendorDir, lockWaitMs: options.lockWaitMs ?? 5000 });
  if (options.edit) {
    await editDeviceJson(dir, options.edit);
    device = await openDevice(dir, { session, vendorDir, lockWaitMs: options.lockWaitMs ?? 5000 });
  }
  return {
    device,
    root,
    dir,
    vendorDir,
    vendorKey: await loadVendorSecretKey(vendorDir),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Changes fields of `device.json` (limits, firmware version, secure boot). */
export async function editDeviceJson(
  dir: string,
  edit: (json: Record<string, unknown>) => void,
): Promise<void> {
  const path = join(dir, 'device.json');
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(json);
  await writeFile(path, `${JSON.stringify(json, null, 2)}\n`);
}

/** Every path under `dir` (relative), with type, mode and a content digest: compares two trees. */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (at: string): Promise<void> => {
    for (const entry of (await readdir(at)).sort()) {
      const path = join(at, entry);
      const st = await lstat(path);
      const rel = relative(dir, path);
      if (st.isDirectory()) {
        out.set(rel, `dir ${(st.mode & 0o7777).toString(8)}`);
        await walk(path);
      } else if (st.isSymbolicLink()) {
        out.set(rel, `symlink ${await readlink(path)}`);
      } else {
        const digest = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
        out.set(rel, `file ${(st.mode & 0o7777).toString(8)} ${digest}`);
      }
    }
  };
  await walk(dir);
  return out;
}

/** Names in a directory, sorted (to show that nothing appeared next to it). */
export async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** Temporary files (`.tmp-…`) anywhere in the state directory outside rootfs and the USB stick. */
export async function tempFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      const rel = relative(dir, path);
      if (rel === 'rootfs' || rel === join('media', 'usb0')) continue;
      if (entry.name.startsWith('.tmp-')) found.push(rel);
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(dir);
  return found;
}

/** Asserts-friendly: whether a message is one line. */
export function oneLine(message: string): boolean {
  return !/[\r\n]/.test(message) && message.length > 0;
}

/** Whether a path exists. */
export function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Awaits a rejection with a `DeviceError` of `code` (one of the device's own), a one-line message
 * matching `pattern` when given; returns the message.
 */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: DeviceErrorCode,
  pattern?: RegExp,
): Promise<string> {
  let message = '';
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DeviceError, String(error));
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    assert.ok(oneLine(error.message), error.message);
    message = error.message;
    return true;
  });
  return message;
}
