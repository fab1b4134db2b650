// A boot's changes to rootfs: a staged package moved in and an active one taken out, each a transaction with its maintainer scripts in dpkg's order.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackageReading, Verdict } from '../format/index.js';
import { faultPoint } from '../state/fault.js';
import type { ActiveRecord, StoreRecord } from '../store/records.js';
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
import { syncFileSystem } from './syncer.js';
import type { UnpackResult } from './unpack.js';
import type { BootRules } from './verdict.js';

/** Everything a boot needs, read once at its start. */
export interface BootState extends BootRules {
  /** Files of active packages → package name. */
  readonly owners: Map<string, string>;
  /** Directories each active package created (or shares with the one that did). */
  readonly dirs: Map<string, readonly string[]>;
  readonly events: string[];
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
export async function installStaged(
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
