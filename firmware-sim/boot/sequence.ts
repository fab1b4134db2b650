// The boot sequence (SPEC §4.2): verify every installed package, activate what may run, take out the rest.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
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
import { planGate, type StoredVerdict } from './plan-gate.js';
import {
  applySteps,
  ConflictError,
  cleanTxn,
  commitActivation,
  commitDeactivation,
  planActivation,
  planDeactivation,
  revertSteps,
  txnPaths,
  writePlan,
} from './rootfs-txn.js';
import { runScript, type ScriptContext, type ScriptName } from './scripts.js';
import { freeSpace, StageBudget } from './stage-budget.js';
import { backgroundSync, syncFileSystem } from './syncer.js';
import { applySpecialBits, SafeUnpacker, type UnpackResult } from './unpack.js';
import { deferDataErrors } from './unpack-stored.js';
import { type BootRules, checkStored, invalidFrom, refusalFor, verifyStored } from './verdict.js';
import { readActiveAgain } from './verify-parallel.js';

/** Everything a boot needs, read once at its start. */
interface BootState extends BootRules {
  /** Files of active packages → package name. */
  readonly owners: Map<string, string>;
  /** Directories each active package created (or shares with the one that did). */
  readonly dirs: Map<string, readonly string[]>;
  readonly events: string[];
}

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
      onData: data.onData,
      onDataEnd: data.onDataEnd,
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
  const outcome = await install(state, record, reading, unpacked, verdict, old);
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

function scriptContext(state: BootState, record: { name: string; version: string }): ScriptContext {
  return {
    rootfs: state.layout.rootfs,
    workDir: join(state.layout.txnDir, 'scripts'),
    packageName: record.name,
    version: record.version,
    timeoutMs: state.device.scriptTimeoutMs,
  };
}

/** Runs one maintainer script if there is one; its output goes to the event log. Returns failure text. */
async function script(
  state: BootState,
  owner: { name: string; version: string },
  which: ScriptName,
  body: Buffer | undefined,
  args: readonly string[],
): Promise<string | undefined> {
  if (body === undefined) return undefined;
  faultPoint(`script:${which}`);
  const run = await runScript(which, body, args, scriptContext(state, owner));
  for (const line of run.output) state.events.push(`script ${owner.name} ${which}: ${line}`);
  if (run.ok) return undefined;
  state.events.push(`script ${owner.name} ${which} failed: ${run.status}`);
  return `${which} failed (${run.status})`;
}

function decode(base64: string | undefined): Buffer | undefined {
  return base64 === undefined ? undefined : Buffer.from(base64, 'base64');
}

/**
 * Moves a staged package into rootfs as a transaction, with its scripts in dpkg's order (for an
 * upgrade: old prerm, new preinst, files, old postrm, new postinst). A failing prerm, preinst or
 * postinst leaves rootfs as it was. Returns why it failed, or `undefined`.
 */
async function install(
  state: BootState,
  record: StoreRecord,
  reading: PackageReading,
  unpacked: UnpackResult,
  verdict: Verdict,
  old: ActiveRecord | undefined,
): Promise<string | undefined> {
  const { layout } = state;
  const paths = txnPaths(layout, record.name);
  const owners = new Map(state.owners);
  for (const file of old?.files ?? []) owners.delete(file);
  const shared = new Set<string>();
  for (const [name, dirs] of state.dirs) if (name !== record.name) for (const dir of dirs) shared.add(dir);
  let plan: ReturnType<typeof planActivation>;
  try {
    plan = planActivation(layout.rootfs, unpacked.entries, old, owners, shared);
  } catch (error) {
    await cleanTxn(layout, undefined);
    if (error instanceof ConflictError) return `conflict: ${error.message}`;
    throw error;
  }
  const control = reading.controlFiles;
  const self = { name: record.name, version: record.version };
  const fail = async (why: string) => {
    await cleanTxn(layout, record.name);
    return why;
  };
  if (old) {
    const failed = await script(state, old, 'prerm', decode(old.scripts.prerm), ['upgrade', record.version]);
    if (failed) return fail(`${failed} in ${old.version}`);
  }
  const preinst = await script(
    state,
    self,
    'preinst',
    control.get('preinst'),
    old ? ['upgrade', old.version] : ['install'],
  );
  if (preinst) return fail(preinst);
  await writePlan(paths, {
    kind: 'activate',
    name: record.name,
    installId: record.installId,
    steps: plan.steps,
  });
  const undo = async (why: string) => {
    revertSteps(paths, plan.steps);
    await syncFileSystem(layout.rootfs);
    return fail(`${why}; rolled back`);
  };
  try {
    applySteps(paths, plan.steps);
  } catch (error) {
    return undo(`unpacking into rootfs failed: ${(error as Error).message}`);
  }
  faultPoint('boot:applied');
  if (old) await script(state, old, 'postrm', decode(old.scripts.postrm), ['upgrade', record.version]);
  const postinst = await script(
    state,
    self,
    'postinst',
    control.get('postinst'),
    old ? ['configure', old.version] : ['configure'],
  );
  if (postinst) return undo(postinst);
  const prerm = control.get('prerm');
  const postrm = control.get('postrm');
  const active: ActiveRecord = {
    format: 1,
    name: record.name,
    installId: record.installId,
    version: record.version,
    verification: verdict.status,
    ...(verdict.keyNumber === undefined ? {} : { keyNumber: verdict.keyNumber }),
    activatedAt: new Date().toISOString(),
    files: plan.files,
    fileCount: unpacked.fileCount,
    dirs: plan.dirs,
    diverted: plan.diverted,
    scripts: {
      ...(prerm ? { prerm: prerm.toString('base64') } : {}),
      ...(postrm ? { postrm: postrm.toString('base64') } : {}),
    },
    record,
  };
  await commitActivation(layout, active);
  await cleanTxn(layout, record.name);
  for (const file of old?.files ?? []) state.owners.delete(file);
  for (const file of plan.files) state.owners.set(file, record.name);
  state.dirs.set(record.name, plan.dirs);
  return undefined;
}

/**
 * Takes an active package out of rootfs: prerm, its files go (originals come back), postrm. Script
 * failures are logged, not fatal: the package must go. Without `scripts` (a package that may no
 * longer run: tampered, its key revoked, allow-untrusted off), prerm and postrm are not run, and the
 * log says so. Returns whether it is out.
 */
export async function deactivate(
  state: BootState,
  active: ActiveRecord,
  why: string,
  options: { readonly scripts: boolean },
): Promise<boolean> {
  const { layout } = state;
  const paths = txnPaths(layout, active.name);
  await cleanTxn(layout, undefined);
  const self = { name: active.name, version: active.version };
  const scripts = options.scripts ? active.scripts : {};
  if (!options.scripts && (active.scripts.prerm || active.scripts.postrm)) {
    state.events.push(`deactivate ${active.name} ${active.version}: prerm and postrm not run (${why})`);
  }
  await script(state, self, 'prerm', decode(scripts.prerm), ['remove']);
  const steps = planDeactivation(active);
  await writePlan(paths, { kind: 'deactivate', name: active.name, installId: active.installId, steps });
  try {
    applySteps(paths, steps);
  } catch (error) {
    revertSteps(paths, steps);
    await syncFileSystem(layout.rootfs);
    await cleanTxn(layout, active.name);
    state.events.push(
      `deactivate ${active.name} ${active.version} failed: ${(error as Error).message}; still active`,
    );
    return false;
  }
  faultPoint('boot:deactivated-files');
  await script(state, self, 'postrm', decode(scripts.postrm), ['remove']);
  await commitDeactivation(layout, active.name);
  await rm(paths.backup, { recursive: true, force: true });
  await cleanTxn(layout, undefined);
  for (const file of active.files) state.owners.delete(file);
  state.dirs.delete(active.name);
  state.events.push(`deactivate ${active.name} ${active.version}: ${why}`);
  return true;
}
