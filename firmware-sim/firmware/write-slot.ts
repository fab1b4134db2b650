// Writing a firmware package into the slot that does not run: one pass that hashes, checks and unpacks.
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tempOwner, tempPathFor } from '../../common/atomic.js';
import type { Verification } from '../api.js';
import { runScript, type ScriptName } from '../boot/scripts.js';
import { freeSpace, StageBudget } from '../boot/stage-budget.js';
import { backgroundSync } from '../boot/syncer.js';
import { applySpecialBits, SafeUnpacker, type UnpackResult } from '../boot/unpack.js';
import { deferDataErrors } from '../boot/unpack-stored.js';
import { invalidFrom, verifyStored } from '../boot/verdict.js';
import { checkCompatibility } from '../config/compat.js';
import { type DeviceFile, readLimits } from '../config/device-file.js';
import { DeviceError, deviceErrorOf, isFsError } from '../errors.js';
import {
  type PackageReading,
  REVOCATION_UNREADABLE,
  readPackageFile,
  type TrustStore,
  type Verdict,
} from '../format/index.js';
import { faultPoint } from '../state/fault.js';
import type { Layout } from '../state/layout.js';
import { holderAlive } from '../state/lock.js';
import { otherSlot, type SlotSource, slotPaths, writeSlot } from '../state/slots.js';
import { vendorKeyNumber } from '../store/firmware-install.js';
import { packageFile } from '../store/packages.js';
import type { StoreRecord } from '../store/records.js';

/** How writing the slot went: `reason` says why the firmware may not run (nothing of it runs then). */
export interface SlotWrite {
  readonly verification: Verification;
  readonly reason?: string;
}

/** Why a verified firmware package may not run here, or `undefined`: only the vendor key counts. */
function firmwareVerdictRefusal(verdict: Verdict, device: DeviceFile): string | undefined {
  if (verdict.status === 'Invalid') return `invalid: ${verdict.reason}`;
  if (verdict.status !== 'Signed')
    return `${verdict.status.toLowerCase()}: ${verdict.reason}; a firmware must be signed by the vendor key`;
  const vendor = vendorKeyNumber(device);
  if (verdict.keyNumber !== vendor)
    return `signed with key ${verdict.keyNumber}, not the vendor key ${vendor}`;
  return undefined;
}

/**
 * Why a stored firmware package may not run, as far as its record and the keys of this boot tell:
 * its key revoked or no longer trusted since it was installed, or the revocation list unreadable. Known
 * before anything is read, so the spare slot (the fallback) is not wiped for a firmware that would be
 * refused anyway; the verdict after the unpacking (members unchanged, signature) still decides the rest.
 */
export function recordedRefusal(
  record: StoreRecord,
  device: DeviceFile,
  trust: TrustStore,
): SlotWrite | undefined {
  const keyNumber = record.keyNumber;
  if (keyNumber === undefined) return undefined;
  const unreadable = trust.revocationProblems?.[0];
  const untrusted = trust.revoked.has(keyNumber)
    ? `signed by revoked key ${keyNumber}`
    : !trust.keys.has(keyNumber)
      ? `signed by unknown key ${keyNumber}`
      : unreadable !== undefined
        ? `${REVOCATION_UNREADABLE}: ${unreadable.where}`
        : undefined;
  const verdict: Verdict =
    untrusted === undefined
      ? { status: 'Signed', reason: `signature valid (key ${keyNumber})`, keyNumber }
      : { status: 'Untrusted', reason: untrusted, keyNumber };
  const reason = firmwareVerdictRefusal(verdict, device);
  return reason === undefined ? undefined : { verification: verdict.status, reason };
}

/** The prefix of a wiped slot's old files on their way out (a temporary name: recovery removes leftovers). */
const TRASH = 'trash';

/**
 * Wipes a slot: its directories are moved into one temporary directory at once (renames) and deleted
 * in the background. A real A/B system writes over the spare partition; deleting the old fallback's
 * hundreds of MiB file by file would only make the switch wait. Leftovers of a process that died
 * meanwhile are deleted too; recovery removes any that are left.
 */
async function setAside(layout: Layout, dirs: readonly string[]): Promise<void> {
  const trash = tempPathFor(join(layout.firmwareDir, TRASH), TRASH);
  await mkdir(trash);
  for (const [i, dir] of dirs.entries()) {
    await rename(dir, join(trash, String(i))).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  const dead = (await readdir(layout.firmwareDir)).filter((name) => {
    const pid = tempOwner(name);
    return name.includes(`.${TRASH}.`) && pid !== undefined && !holderAlive({ pid, host: hostname() });
  });
  for (const old of [trash, ...dead.map((name) => join(layout.firmwareDir, name))]) {
    void rm(old, { recursive: true, force: true }).catch(() => {});
  }
}

/** What the slot record says of the firmware package it came from. */
export function sourceOf(record: StoreRecord): SlotSource {
  return {
    name: record.name,
    installId: record.installId,
    ...(record.keyNumber === undefined ? {} : { keyNumber: record.keyNumber }),
    origin: record.origin,
    description: record.description,
  };
}

/**
 * Writes the firmware of `record` into the slot that does not run: marks it `building`, wipes it,
 * reads the stored package through one descriptor, hashing every member while data.tar.gz unpacks
 * under the rules of SPEC §4.4 straight into the slot's root; then the verdict (vendor-signed, the
 * members as installed), the architecture and `Depends: firmware`, the firmware's `preinst` and
 * `postinst` (cwd and `PKG_ROOT` the new root), a `syncfs`, and `slot.json` says `good`. Returns why
 * it failed, if it did: the caller empties the slot and the running firmware stays (the rollback).
 * Script output goes to `events`.
 */
export async function writeFirmwareSlot(
  layout: Layout,
  device: DeviceFile,
  record: StoreRecord,
  trust: TrustStore,
  events: string[],
): Promise<SlotWrite> {
  const slot = otherSlot(device.firmwareSlot);
  const paths = slotPaths(layout, slot);
  const writtenAt = new Date().toISOString();
  const source = sourceOf(record);
  await writeSlot(layout, { format: 1, slot, state: 'building', version: record.version, writtenAt, source });
  faultPoint('firmware:building');
  await setAside(layout, [paths.rootfs, paths.active, paths.backup, paths.work]);
  for (const dir of [paths.rootfs, paths.active, paths.backup]) await mkdir(dir, { recursive: true });
  faultPoint('firmware:wiped');
  // Syncs beside the unpacking, as at a package's activation: the final one then finds little to do.
  const writeback = backgroundSync(paths.rootfs);
  let written: SlotWrite;
  try {
    written = await unpackAndConfigure(layout, device, record, trust, events);
  } finally {
    await writeback.stop();
  }
  if (written.reason !== undefined) return written;
  // Every file and rename on that file system is on disk before the slot says good.
  await writeback.finish();
  await writeSlot(layout, { format: 1, slot, state: 'good', version: record.version, writtenAt, source });
  faultPoint('firmware:written');
  return written;
}

/**
 * The firmware's files into the slot's root, checked as they come, then its scripts there. Returns why
 * it may not run, if it may not; nothing of it is durable yet.
 */
async function unpackAndConfigure(
  layout: Layout,
  device: DeviceFile,
  record: StoreRecord,
  trust: TrustStore,
  events: string[],
): Promise<SlotWrite> {
  const paths = slotPaths(layout, otherSlot(device.firmwareSlot));
  // The bounds of a package's stage hold for a firmware too: depth and entries (the limits), and the
  // time and storage it may take, so that a firmware never fills the storage the device state lives on.
  const budget = new StageBudget({
    seconds: device.limits.stageSeconds,
    reserveBytes: device.limits.reserveBytes,
    freeBytes: await freeSpace(paths.rootfs),
  });
  const unpacker = new SafeUnpacker({ limits: device.limits, stageDir: paths.rootfs, budget });
  const data = deferDataErrors(unpacker);
  let reading: PackageReading | undefined;
  let unpacked: UnpackResult | undefined;
  let verdict: Verdict;
  try {
    reading = await readPackageFile(packageFile(layout, record), {
      ...readLimits(device),
      ...data.reading,
    });
    verdict = verifyStored(reading, record, trust);
    const failure = data.failure();
    if (verdict.status !== 'Invalid' && failure !== undefined) {
      if (failure instanceof DeviceError && failure.code === 'DEVICE_STAGE_LIMIT')
        return { verification: verdict.status, reason: failure.message };
      if (!isFsError(failure)) throw failure;
      return { verification: verdict.status, reason: deviceErrorOf(failure, 'could not unpack').message };
    }
    unpacked = data.result();
  } catch (error) {
    await unpacker.abort();
    verdict = invalidFrom(error);
  }
  faultPoint('firmware:unpacked');
  const refused =
    firmwareVerdictRefusal(verdict, device) ??
    (reading ? checkCompatibility(reading.control, device)?.reason : undefined);
  if (refused !== undefined || !reading || !unpacked) {
    return { verification: verdict.status, reason: refused ?? 'not unpacked' };
  }
  applySpecialBits(paths.rootfs, unpacked.entries);
  for (const [which, args] of [
    ['preinst', ['upgrade', device.firmwareVersion]],
    ['postinst', ['configure', device.firmwareVersion]],
  ] as const) {
    const body = reading.controlFiles.get(which);
    if (body === undefined) continue;
    faultPoint(`firmware:${which}`);
    const run = await runScript(which as ScriptName, body, args, {
      rootfs: paths.rootfs,
      workDir: paths.work,
      packageName: record.name,
      version: record.version,
      timeoutMs: device.scriptTimeoutMs,
    });
    for (const line of run.output) events.push(`script ${record.name} ${which}: ${line}`);
    if (!run.ok) {
      events.push(`script ${record.name} ${which} failed: ${run.status}`);
      return { verification: verdict.status, reason: `${which} failed (${run.status})` };
    }
  }
  await rm(paths.work, { recursive: true, force: true });
  return { verification: verdict.status };
}
