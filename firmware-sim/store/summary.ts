// What `package show` lists: each package's row and details, from its record, its activation and the last boot.
import type { PackageDetails, PackageSummary, PendingReboot } from '../api.js';
import { readBootConfig, type StoredBootConfig } from '../config/boot-config.js';
import type { DeviceFile } from '../config/device-file.js';
import { activationRefusal, allowUntrustedInForce } from '../config/policy.js';
import { DeviceError } from '../errors.js';
import type { Layout } from '../state/layout.js';
import { type LastBoot, loadActive, readLastBoot } from './last-boot.js';
import { damagedError, loadRecords, readStoreEntry } from './packages.js';
import type { ActiveRecord, StoreRecord } from './records.js';

/** Installed packages and packages removed but still active, in name order. */
export async function listPackages(layout: Layout, device: DeviceFile): Promise<PackageSummary[]> {
  const [{ records, damaged }, active, last, config] = await Promise.all([
    loadRecords(layout),
    loadActive(layout),
    readLastBoot(layout),
    readBootConfig(layout.bootConfigFile),
  ]);
  const names = new Set([...records.keys(), ...damaged.keys(), ...active.keys()]);
  return [...names].sort().map((name) => {
    const problem = damaged.get(name);
    if (problem !== undefined) return summarizeDamaged(name, problem, active.get(name));
    return summarize(records.get(name), active.get(name), last, device, config);
  });
}

/**
 * What the next boot would change: the packages installed, changed or removed since the last boot,
 * and whether the activation rule differs from the one the last boot applied (a last boot written by
 * an earlier version, which did not record it, counts as the same).
 */
export async function pendingReboot(layout: Layout, device: DeviceFile): Promise<PendingReboot> {
  const [list, last, config] = await Promise.all([
    listPackages(layout, device),
    readLastBoot(layout),
    readBootConfig(layout.bootConfigFile),
  ]);
  const before = last?.allowUntrusted;
  return {
    packages: list.filter((p) => p.state === 'pending' || p.state === 'removed').map((p) => p.name),
    bootConfig: before !== undefined && before !== allowUntrustedInForce(config, device),
  };
}

/** `package show NAME`: the row of one package, its control fields, origin, size and file count. */
export async function packageDetails(
  layout: Layout,
  device: DeviceFile,
  name: string,
): Promise<PackageDetails> {
  const [entry, active, last, config] = await Promise.all([
    readStoreEntry(layout, name),
    loadActive(layout).then((all) => all.get(name)),
    readLastBoot(layout),
    readBootConfig(layout.bootConfigFile),
  ]);
  const record = entry?.kind === 'record' ? entry.record : undefined;
  const source = record ?? active?.record;
  if (entry?.kind === 'damaged' && !active) throw damagedError(entry);
  if (!source) throw notInstalled(name);
  return {
    ...(entry?.kind === 'damaged'
      ? summarizeDamaged(name, entry.problem, active)
      : summarize(record, active, last, device, config)),
    fields: source.fields,
    origin: source.origin,
    installedAt: source.installedAt,
    ...(source.keyNumber === undefined ? {} : { keyNumber: source.keyNumber }),
    size: source.size,
    ...fileCountOf(source, active),
    ...(source.feed === undefined ? {} : { feed: source.feed }),
    ...(source.auto === undefined ? {} : { auto: source.auto }),
  };
}

/** The error for a name that nothing is installed under. */
export function notInstalled(name: string): DeviceError {
  return new DeviceError('DEVICE_NOT_INSTALLED', `package ${name} is not installed (see package show)`);
}

/**
 * The row of a package whose record is damaged: `Invalid`, never activated again, and what it had in
 * rootfs stays until the operator removes or reinstalls it.
 */
function summarizeDamaged(name: string, problem: string, active: ActiveRecord | undefined): PackageSummary {
  return {
    name,
    version: active?.version ?? '?',
    persistent: active?.record.persistent ?? false,
    verification: 'Invalid',
    description: active?.record.description ?? '',
    state: 'inactive',
    reason: active
      ? `damaged record: ${problem}; ${active.version} stays active until ${name} is removed or installed again`
      : `damaged record: ${problem}; remove ${name} or install it again`,
  };
}

/** One row of `package show` from what the store, the activation records and the last boot say. */
function summarize(
  record: StoreRecord | undefined,
  active: ActiveRecord | undefined,
  last: LastBoot | undefined,
  device: DeviceFile,
  config: StoredBootConfig,
): PackageSummary {
  if (!record) {
    const gone = active!.record;
    return {
      name: gone.name,
      version: active!.version,
      persistent: gone.persistent,
      verification: active!.verification,
      description: gone.description,
      state: 'removed',
      reason: 'removed; active until the next boot',
    };
  }
  const base = {
    name: record.name,
    version: record.version,
    persistent: record.persistent,
    description: record.description,
  };
  const running = active && active.installId !== record.installId ? { activeVersion: active.version } : {};
  const line =
    last?.installIds[record.name] === record.installId
      ? last.report.lines.find((l) => l.name === record.name)
      : undefined;
  if (active?.installId === record.installId) {
    return { ...base, verification: line?.verification ?? active.verification, state: 'active' };
  }
  if (line && !line.activated) {
    return { ...base, verification: line.verification, state: 'inactive', ...running, reason: line.reason };
  }
  const refused = activationRefusal(
    record.verification,
    record.reason,
    record.keyNumber,
    allowUntrustedInForce(config, device),
    config,
    device,
  );
  return {
    ...base,
    verification: record.verification,
    state: 'pending',
    ...running,
    reason: refused === undefined ? 'takes effect at the next boot' : `will not be activated: ${refused}`,
  };
}

/** The data archive's file count where known: counted when this installation was activated. */
function fileCountOf(record: StoreRecord, active: ActiveRecord | undefined): { fileCount?: number } {
  const count = record.fileCount ?? (active?.installId === record.installId ? active.fileCount : undefined);
  return count === undefined ? {} : { fileCount: count };
}
