// The boot sequence (SPEC §4.2): verify every installed package, activate what may run, take out the rest.
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../../common/atomic.js';
import type { BootLine, BootReport, Deactivated, FirmwareBootReport, Verification } from '../api.js';
import { readBootConfig } from '../config/boot-config.js';
import { type DeviceFile, readLimits } from '../config/device-file.js';
import { allowUntrustedInForce } from '../config/policy.js';
import { DeviceError, deviceErrorOf, isFsError } from '../errors.js';
import {
  compareVersions,
  loadTrustStore,
  type PackageReading,
  readPackageFile,
  type Verdict,
} from '../format/index.js';
import { quantity } from '../state/event-log.js';
import { faultPoint } from '../state/fault.js';
import { type Layout, REVOKED_LIST_NAME } from '../state/layout.js';
import { type LastBoot, loadActive } from '../store/last-boot.js';
import { loadRecords, packageFile } from '../store/packages.js';
import type { ActiveRecord, StoreRecord } from '../store/records.js';
import { type BootState, deactivate, installStaged } from './activation.js';
import { planGate, type StoredVerdict } from './plan-gate.js';
import { cleanTxn, txnPaths } from './rootfs-txn.js';
import { freeSpace, StageBudget } from './stage-budget.js';
import { backgroundSync } from './syncer.js';
import { applySpecialBits, SafeUnpacker, type UnpackResult } from './unpack.js';
import { deferDataErrors } from './unpack-stored.js';
import { checkStored, invalidFrom, refusalFor, verifyStored } from './verdict.js';
import { readActiveAgain } from './verify-parallel.js';

/** What the firmware step (firmware/boot.ts) hands this pass: lines of firmware packages, its report. */
export interface BootHooks {
  /** Lines of packages this pass leaves alone, by name (also of one no longer in the store). */
  readonly handled?: ReadonlyMap<string, BootLine>;
  readonly firmware?: FirmwareBootReport;
  /** When the boot started (the firmware step began it); now by default. */
  readonly at?: Date;
}

/**
 * Runs the boot sequence; the caller holds the device lock. Its events go to `log` at the end, or
 * up to the failure if an unexpected error stops it (rootfs is then recovered by the caller). They
 * are logged with the time the boot started, the time its report shows (`Boot 2026-11-21 10:02:41`),
 * so that the operator finds the report's time in the log.
 */
export async function runBoot(
  layout: Layout,
  device: DeviceFile,
  log: (events: readonly string[], at: Date) => Promise<void>,
  hooks: BootHooks = {},
): Promise<BootReport> {
  const events: string[] = [];
  const at = hooks.at ?? new Date();
  try {
    const report = await bootSequence(layout, device, events, at.toISOString(), hooks);
    await log(events, at);
    return report;
  } catch (error) {
    events.push(`boot: stopped by an error: ${(error as Error).message}`);
    await log(events, at).catch(() => {});
    throw error;
  }
}

async function bootSequence(
  layout: Layout,
  device: DeviceFile,
  events: string[],
  at: string,
  hooks: BootHooks,
): Promise<BootReport> {
  const config = await readBootConfig(layout.bootConfigFile);
  const trust = await loadTrustStore(layout.keysDir, layout.revokedFile, REVOKED_LIST_NAME);
  const { records, damaged, problems } = await loadRecords(layout);
  const active = await loadActive(layout);
  const owners = new Map<string, string>();
  for (const record of active.values()) for (const file of record.files) owners.set(file, record.name);
  const dirs = new Map<string, readonly string[]>();
  for (const record of active.values()) dirs.set(record.name, record.dirs);
  const state: BootState = {
    layout,
    device,
    config,
    trust,
    allowUntrusted: allowUntrustedInForce(config, device),
    owners,
    dirs,
    events,
  };
  events.push(
    `boot: firmware ${device.firmwareVersion}, ${quantity(records.size + damaged.size, 'package')} installed`,
  );
  for (const problem of config.problems ?? []) {
    state.events.push(`boot: ${problem}; allow-untrusted counts as off until the file is rewritten`);
  }
  for (const problem of trust.problems) state.events.push(`boot: trust store: ${problem}`);
  for (const problem of problems) state.events.push(`boot: store: ${problem}`);
  const lines: BootLine[] = [];
  const deactivated: Deactivated[] = [];
  const installIds: Record<string, string> = {};

  // Packages removed since the last boot go first: their files may be in the way of others. A
  // package whose record is damaged is not removed: its files stay until the operator acts.
  for (const name of [...active.keys()].sort()) {
    if (records.has(name) || damaged.has(name)) continue;
    const record = active.get(name)!;
    if (await deactivate(state, record, 'removed', { scripts: true })) {
      deactivated.push({ name, version: record.version, reason: 'removed' });
    }
    active.delete(name);
  }
  const handled = hooks.handled ?? new Map<string, BootLine>();
  const readings = await readActiveAgain(layout, device, records, active, handled);
  // A plan's packages go together: the gate holds back those of a plan with a package that may not run.
  const gate = await planGate(records, active, (record) =>
    storedVerdict(state, record, readings.get(record.name)),
  );
  for (const name of gate.order(
    [...new Set([...records.keys(), ...damaged.keys(), ...handled.keys()])].sort(),
  )) {
    const record = records.get(name);
    const current = active.get(name);
    const given = handled.get(name);
    if (given !== undefined) {
      gate.done(name, given);
      lines.push(given);
      if (record !== undefined) installIds[name] = record.installId;
      continue;
    }
    if (record === undefined) {
      lines.push(damagedLine(name, damaged.get(name)!, current));
      state.events.push(
        `boot ${name} ${lines.at(-1)!.version} Invalid: not activated (${lines.at(-1)!.reason})`,
      );
      continue;
    }
    installIds[name] = record.installId;
    const held = gate.held(name);
    const line = held
      ? lineOf(
          record,
          held.verification,
          false,
          `${held.reason}${current ? `; ${current.version} stays active` : ''}`,
        )
      : current?.installId === record.installId
        ? await reverify(state, record, current, deactivated, readings.get(name))
        : await activate(state, record, current);
    gate.done(name, line);
    lines.push(line);
    state.events.push(
      `boot ${name} ${line.version} ${line.verification}: ${line.activated ? line.reason : `not activated (${line.reason})`}`,
    );
    faultPoint('boot:package-done');
  }
  // Taken in the gate's order; reported in name order.
  lines.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const activeCount = lines.filter((line) => line.activated).length;
  state.events.push(
    `boot: done, ${activeCount} active, ${lines.length - activeCount} not activated, ${deactivated.length} deactivated`,
  );
  const report: BootReport = {
    at,
    lines,
    deactivated,
    ...(hooks.firmware ? { firmware: hooks.firmware } : {}),
  };
  await mkdir(layout.libDir, { recursive: true });
  await writeFileAtomic(
    layout.lastBootFile,
    `${JSON.stringify({ report, installIds, allowUntrusted: state.allowUntrusted } satisfies LastBoot)}\n`,
  );
  faultPoint('boot:report-written');
  return report;
}

/**
 * The line of a package whose record is damaged: never activated (nothing about it can be checked);
 * what it had in rootfs stays, so that a damaged file does not silently take a service down.
 */
function damagedLine(name: string, problem: string, active: ActiveRecord | undefined): BootLine {
  const reason = active
    ? `damaged record: ${problem}; ${active.version} stays active until ${name} is removed or installed again`
    : `damaged record: ${problem}; remove ${name} or install it again`;
  return { name, version: active?.version ?? '?', verification: 'Invalid', activated: false, reason };
}

function lineOf(
  record: StoreRecord,
  verification: Verification,
  activated: boolean,
  reason: string,
): BootLine {
  return { name: record.name, version: record.version, verification, activated, reason };
}

/** The verdict on a stored package and whether it may run, for the plan gate (nothing is unpacked). */
async function storedVerdict(
  state: BootState,
  record: StoreRecord,
  read: PackageReading | undefined,
): Promise<StoredVerdict> {
  const check = await checkStored(state, record, read);
  return {
    verification: check.verdict.status,
    ...(check.refused === undefined ? {} : { refused: check.refused }),
  };
}

/** An active package of the same installation: verified again (`read` on every core, or here); taken out if it may no longer run. */
async function reverify(
  state: BootState,
  record: StoreRecord,
  current: ActiveRecord,
  deactivated: Deactivated[],
  read: PackageReading | undefined,
): Promise<BootLine> {
  const { verdict, refused } = await checkStored(state, record, read);
  if (refused === undefined) return lineOf(record, verdict.status, true, 'already active');
  // A package that may no longer run is not run once more to take it out: its files go, its scripts don't.
  const out = await deactivate(state, current, refused, { scripts: false });
  if (out) deactivated.push({ name: current.name, version: current.version, reason: refused });
  return lineOf(
    record,
    verdict.status,
    false,
    out ? refused : `${refused}; could not be taken out, see the log`,
  );
}

/**
 * A package not active in this installation. Whether it may run is decided before anything of it is
 * unpacked: a package that may not (Unsigned or Untrusted without allow-untrusted, Invalid, another
 * architecture or firmware) costs one hashing pass and is never inflated, so that a gzip bomb or a
 * deep tree waiting in the store does not fill the stage at every boot. Only then is it unpacked.
 */
async function activate(
  state: BootState,
  record: StoreRecord,
  old: ActiveRecord | undefined,
): Promise<BootLine> {
  const { verdict, refused } = await checkStored(state, record);
  if (refused !== undefined) {
    return lineOf(record, verdict.status, false, `${refused}${old ? `; ${old.version} stays active` : ''}`);
  }
  return unpackAndInstall(state, record, old);
}

/**
 * Unpacks an allowed package into the stage, reading it again through one descriptor and hashing
 * every member while data.tar.gz inflates, so that what is staged is what is verified (the file may
 * have changed since the check); the files reach rootfs only if this verdict allows it too. The stage
 * is bounded in time and storage (`StageBudget`).
 */
async function unpackAndInstall(
  state: BootState,
  record: StoreRecord,
  old: ActiveRecord | undefined,
): Promise<BootLine> {
  const { layout, device } = state;
  const paths = txnPaths(layout, record.name);
  await cleanTxn(layout, undefined);
  await mkdir(paths.stage, { recursive: true });
  const budget = new StageBudget({
    seconds: device.limits.stageSeconds,
    reserveBytes: device.limits.reserveBytes,
    freeBytes: await freeSpace(paths.stage),
  });
  const unpacker = new SafeUnpacker({ limits: device.limits, stageDir: paths.stage, budget });
  const data = deferDataErrors(unpacker);
  let unpacked: UnpackResult | undefined;
  let reading: PackageReading | undefined;
  let verdict: Verdict;
  const writeback = backgroundSync(layout.rootfs);
  try {
    reading = await readPackageFile(packageFile(layout, record), {
      ...readLimits(device),
      ...data.reading,
    });
    verdict = verifyStored(reading, record, state.trust);
    const failure = data.failure();
    if (verdict.status !== 'Invalid' && failure !== undefined) {
      // The storage failed (disk full…) or a bound of the stage was reached: this package is not
      // activated at this boot, the others may still be.
      const bound = failure instanceof DeviceError && failure.code === 'DEVICE_STAGE_LIMIT';
      if (isFsError(failure) || bound) {
        await cleanTxn(layout, undefined);
        const why = bound ? failure.message : deviceErrorOf(failure, 'could not unpack').message;
        return lineOf(record, verdict.status, false, old ? `${why}; ${old.version} stays active` : why);
      }
      throw failure;
    }
    unpacked = data.result();
  } catch (error) {
    await unpacker.abort();
    try {
      verdict = invalidFrom(error);
    } catch (unexpected) {
      await cleanTxn(layout, undefined);
      throw unexpected;
    }
  } finally {
    await writeback.stop();
  }
  faultPoint('boot:staged');
  const keep = old ? `; ${old.version} stays active` : '';
  const refused = refusalFor(state, verdict, reading);
  if (refused !== undefined || !unpacked || !reading) {
    await cleanTxn(layout, undefined);
    return lineOf(record, verdict.status, false, `${refused ?? 'not unpacked'}${keep}`);
  }
  if (verdict.status === 'Signed') applySpecialBits(paths.stage, unpacked.entries);
  const outcome = await installStaged(state, record, reading, unpacked, verdict, old);
  if (outcome !== undefined) return lineOf(record, verdict.status, false, `${outcome}${keep}`);
  return lineOf(record, verdict.status, true, activatedReason(old?.version, record.version));
}

/** `activated`, and over what ran before: `(upgrade from 1.0)`, `(downgrade from 2.0)`, `(reinstalled)`. */
function activatedReason(from: string | undefined, to: string): string {
  if (from === undefined) return 'activated';
  const order = compareVersions(to, from);
  if (order === 0) return 'activated (reinstalled)';
  return `activated (${order > 0 ? 'upgrade' : 'downgrade'} from ${from})`;
}
