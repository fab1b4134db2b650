// Changes to rootfs/ as transactions: a plan written first, undo copies kept, one record as commit point.
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  type Stats,
  unlinkSync,
} from 'node:fs';
import { mkdir, readFile, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { syncDirectory, writeFileAtomic } from '../../common/atomic.js';
import { faultPoint } from '../state/fault.js';
import type { Layout } from '../state/layout.js';
import { type ActiveRecord, formatRecord, readActiveRecord } from '../store/records.js';
import { syncFileSystem } from './syncer.js';
import type { UnpackEntry } from './unpack.js';

/**
 * One step of a plan, by kind:
 * - `tree`: a directory that did not exist, moved whole from the stage;
 * - `new`: a file that did not exist, moved from the stage;
 * - `own`: replaces the file of the package's previous version (which goes to `undo/`);
 * - `orig`: replaces a file no package owns (the original goes to `backup/NAME/`);
 * - `drop`: a file of the previous version that the new one no longer has (to `undo/`);
 * - `dropd`: the same for a file that had replaced an original: the original comes back;
 * - `rmdir`: a directory the package created, removed when empty.
 */
export type StepKind = 'tree' | 'new' | 'own' | 'orig' | 'drop' | 'dropd' | 'rmdir';
export type Step = readonly [StepKind, string];

/** `txn/plan.json`: written (durably) before the first step, so that a crash can be undone. */
export interface Plan {
  readonly kind: 'activate' | 'deactivate';
  readonly name: string;
  /** The installation being activated, or the active one being taken out. */
  readonly installId: string;
  readonly steps: readonly Step[];
}

/** The paths a transaction works in. */
export interface TxnPaths {
  readonly rootfs: string;
  readonly txn: string;
  readonly stage: string;
  readonly undo: string;
  readonly backup: string;
  readonly planFile: string;
}

/** Paths of the transaction of package `name`. */
export function txnPaths(layout: Layout, name: string): TxnPaths {
  return {
    rootfs: layout.rootfs,
    txn: layout.txnDir,
    stage: join(layout.txnDir, 'stage'),
    undo: join(layout.txnDir, 'undo'),
    backup: join(layout.backupDir, name),
    planFile: join(layout.txnDir, 'plan.json'),
  };
}

/** Why a package cannot go into rootfs as it is now. */
export class ConflictError extends Error {}

function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** What an activation will leave in the record, besides the steps that get it there. */
export interface ActivationPlan {
  readonly steps: Step[];
  readonly files: string[];
  readonly dirs: string[];
  readonly diverted: string[];
}

/**
 * Plans the activation of unpacked `entries` over the current rootfs. `old` is the active previous
 * version, `owners` maps every file of the other active packages to its package, `sharedDirs` holds
 * the directories other active packages created. Checks, parents first, that nothing is written
 * through a symlink of rootfs and that no directory is replaced; throws `ConflictError` saying what
 * is in the way.
 *
 * A directory another package created and this one uses too is recorded as this package's as well:
 * whichever of them goes last removes it when it is empty (a directory that existed before any
 * package is never recorded, so never removed).
 */
export function planActivation(
  rootfs: string,
  entries: readonly UnpackEntry[],
  old: ActiveRecord | undefined,
  owners: ReadonlyMap<string, string>,
  sharedDirs: ReadonlySet<string> = new Set(),
): ActivationPlan {
  const oldFiles = new Set(old?.files);
  const oldDiverted = new Set(old?.diverted);
  const oldDirs = new Set(old?.dirs);
  const moved = new Set<string>();
  const steps: Step[] = [];
  const files: string[] = [];
  const dirs: string[] = [];
  const diverted: string[] = [];
  /** Paths of the previous version already taken out by a step of a change of kind (below). */
  const gone = new Set<string>();
  const own = {
    name: old?.name ?? '',
    files: oldFiles,
    dirs: oldDirs,
    diverted: oldDiverted,
    shared: sharedDirs,
  };
  for (const entry of entries) {
    const { path } = entry;
    const directory = entry.type === 'directory';
    if (moved.has(parentOf(path))) {
      // Inside a directory that is moved whole: nothing of it existed.
      if (directory) {
        moved.add(path);
        dirs.push(path);
      } else files.push(path);
      continue;
    }
    const st = lstatOrUndefined(join(rootfs, path));
    if (directory) {
      if (!st) {
        steps.push(['tree', path]);
        moved.add(path);
        dirs.push(path);
      } else if (st.isDirectory()) {
        if (oldDirs.has(path) || sharedDirs.has(path)) dirs.push(path);
      } else if (oldFiles.has(path) && !oldDiverted.has(path)) {
        // The previous version's own file or symlink becomes a directory (dpkg allows it): the old
        // one goes to undo/ first, then the directory moves in whole.
        steps.push(['drop', path], ['tree', path]);
        gone.add(path);
        moved.add(path);
        dirs.push(path);
      } else {
        throw new ConflictError(nonDirectoryInTheWay(path, st, owners.get(path), oldDiverted.has(path)));
      }
      continue;
    }
    files.push(path);
    if (!st) steps.push(['new', path]);
    else if (st.isDirectory()) {
      // The previous version's own directory becomes a file or symlink: its content (all of the
      // previous version's) goes first, then the directory, then the new entry takes its place.
      const inside = ownTree(rootfs, path, own);
      for (const file of inside.files) steps.push(['drop', file]);
      for (const sub of [...inside.dirs, path]) steps.push(['rmdir', sub]);
      steps.push(['new', path]);
      for (const taken of [...inside.files, ...inside.dirs, path]) gone.add(taken);
    } else if (oldFiles.has(path)) {
      steps.push(['own', path]);
      if (oldDiverted.has(path)) diverted.push(path);
    } else if (owners.has(path)) {
      throw new ConflictError(`/${path} belongs to package ${owners.get(path)}`);
    } else {
      steps.push(['orig', path]);
      diverted.push(path);
    }
  }
  const kept = new Set(files);
  for (const path of old?.files ?? []) {
    if (!kept.has(path) && !gone.has(path)) steps.push([oldDiverted.has(path) ? 'dropd' : 'drop', path]);
  }
  const keptDirs = new Set(dirs);
  for (const path of [...(old?.dirs ?? [])].reverse()) {
    if (!keptDirs.has(path) && !gone.has(path)) steps.push(['rmdir', path]);
  }
  return { steps, files, dirs, diverted };
}

/** What the previous version of a package owns, for a change of kind of one of its paths. */
interface OwnPaths {
  readonly name: string;
  readonly files: ReadonlySet<string>;
  readonly dirs: ReadonlySet<string>;
  readonly diverted: ReadonlySet<string>;
  readonly shared: ReadonlySet<string>;
}

/** Why a non-directory in rootfs may not become a directory of the package. */
function nonDirectoryInTheWay(path: string, st: Stats, owner: string | undefined, replaced: boolean): string {
  const kind = st.isSymbolicLink() ? 'symlink' : 'file';
  if (owner !== undefined)
    return `/${path} is a ${kind} of package ${owner}, the package has a directory there`;
  if (replaced) {
    return `/${path} is a ${kind} of the firmware (the previous version replaced it), the package has a directory there`;
  }
  return st.isSymbolicLink()
    ? `/${path} is a symlink in rootfs: nothing is written through a symlink`
    : `/${path} is a file in rootfs, the package has a directory there`;
}

/**
 * The content of directory `path` of rootfs when all of it belongs to the previous version of the
 * package (files it did not replace, directories it created and no other package uses): its files,
 * and its directories deepest first. Anything else in it (a file of another package or of the
 * firmware, a directory another package shares) keeps the directory: a `ConflictError` says what.
 */
function ownTree(rootfs: string, path: string, own: OwnPaths): { files: string[]; dirs: string[] } {
  const refuse = (why: string): never => {
    throw new ConflictError(`/${path} is a directory in rootfs, the package would replace it: ${why}`);
  };
  if (!own.dirs.has(path))
    refuse(`${own.name ? `${own.name} did not create it` : 'it is not the package’s'}`);
  if (own.shared.has(path)) refuse('another package uses it too');
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = (dir: string): void => {
    const found = readdirSync(join(rootfs, dir), { withFileTypes: true });
    for (const entry of found.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!own.dirs.has(rel) || own.shared.has(rel)) refuse(`/${rel} is not ${own.name}’s alone`);
        walk(rel);
        dirs.push(rel);
      } else {
        if (!own.files.has(rel) || own.diverted.has(rel)) refuse(`/${rel} is not ${own.name}’s`);
        files.push(rel);
      }
    }
  };
  walk(path);
  return { files, dirs };
}

/** Plans taking an active package out: its files go, originals come back, its directories go when empty. */
export function planDeactivation(active: ActiveRecord): Step[] {
  const diverted = new Set(active.diverted);
  const steps: Step[] = active.files.map((path) => [diverted.has(path) ? 'dropd' : 'drop', path] as const);
  for (const path of [...active.dirs].reverse()) steps.push(['rmdir', path]);
  return steps;
}

/** Writes the plan durably: from here on a crash is undone from it. */
export async function writePlan(paths: TxnPaths, plan: Plan): Promise<void> {
  await mkdir(paths.txn, { recursive: true });
  await writeFileAtomic(paths.planFile, `${JSON.stringify(plan)}\n`);
  faultPoint('txn:plan-written');
}

/** Creates parent directories of undo/backup copies, remembering which exist. */
class Parents {
  private readonly made = new Set<string>();
  ensure(path: string): void {
    const dir = dirname(path);
    if (this.made.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    this.made.add(dir);
  }
}

/** Performs the steps in order. Synchronous calls: thousands of renames, no reason to yield per file. */
export function applySteps(paths: TxnPaths, steps: readonly Step[]): void {
  const parents = new Parents();
  const root = (p: string) => join(paths.rootfs, p);
  const stage = (p: string) => join(paths.stage, p);
  const undo = (p: string) => join(paths.undo, p);
  const backup = (p: string) => join(paths.backup, p);
  const move = (from: string, to: string) => {
    parents.ensure(to);
    renameSync(from, to);
  };
  for (const [index, [kind, path]] of steps.entries()) {
    if (index % 64 === 0) faultPoint('txn:step');
    switch (kind) {
      case 'tree':
      case 'new':
        renameSync(stage(path), root(path));
        break;
      case 'own':
        move(root(path), undo(path));
        renameSync(stage(path), root(path));
        break;
      case 'orig':
        move(root(path), backup(path));
        renameSync(stage(path), root(path));
        break;
      case 'drop':
        if (lstatOrUndefined(root(path))) move(root(path), undo(path));
        break;
      case 'dropd':
        if (lstatOrUndefined(root(path))) move(root(path), undo(path));
        if (lstatOrUndefined(backup(path))) renameSync(backup(path), root(path));
        break;
      case 'rmdir':
        try {
          rmdirSync(root(path));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw error;
        }
        break;
    }
  }
}

/**
 * Undoes the steps from whatever point they reached: each step is reverted by looking at what exists,
 * in reverse order, so a crash in the middle of a step is undone as well as a complete one.
 */
export function revertSteps(paths: TxnPaths, steps: readonly Step[]): void {
  const exists = (p: string) => lstatOrUndefined(p) !== undefined;
  const root = (p: string) => join(paths.rootfs, p);
  const undo = (p: string) => join(paths.undo, p);
  const backup = (p: string) => join(paths.backup, p);
  for (let i = steps.length - 1; i >= 0; i--) {
    const [kind, path] = steps[i]!;
    switch (kind) {
      // What a `tree` or `new` step put in place is a directory, resp. not one: something of the other
      // kind at that path is what the package had there before (a change of kind), not to be removed.
      case 'tree':
        if (lstatOrUndefined(root(path))?.isDirectory()) rmSync(root(path), { recursive: true, force: true });
        break;
      case 'new': {
        const st = lstatOrUndefined(root(path));
        if (st && !st.isDirectory()) unlinkSync(root(path));
        break;
      }
      case 'own':
      case 'drop':
        if (exists(undo(path))) renameSync(undo(path), root(path));
        break;
      case 'orig':
        if (exists(backup(path))) renameSync(backup(path), root(path));
        break;
      case 'dropd':
        if (!exists(backup(path)) && exists(undo(path)) && exists(root(path))) {
          mkdirSync(dirname(backup(path)), { recursive: true });
          renameSync(root(path), backup(path));
        }
        if (exists(undo(path))) renameSync(undo(path), root(path));
        break;
      case 'rmdir':
        if (!exists(root(path))) mkdirSync(root(path), { recursive: true, mode: 0o755 });
        break;
    }
  }
}

/** Commits an activation: the active record is the commit point. */
export async function commitActivation(layout: Layout, record: ActiveRecord): Promise<void> {
  await syncFileSystem(layout.rootfs);
  faultPoint('txn:before-commit');
  await mkdir(layout.activeDir, { recursive: true });
  await writeFileAtomic(join(layout.activeDir, `${record.name}.json`), formatRecord(record));
  faultPoint('txn:committed');
}

/** Commits a deactivation: removing the active record is the commit point. */
export async function commitDeactivation(layout: Layout, name: string): Promise<void> {
  await syncFileSystem(layout.rootfs);
  faultPoint('txn:before-commit');
  await unlink(join(layout.activeDir, `${name}.json`));
  await syncDirectory(layout.activeDir);
  faultPoint('txn:committed');
}

/** Removes the transaction area and empty directories left in the package's backup directory. */
export async function cleanTxn(layout: Layout, name: string | undefined): Promise<void> {
  await rm(layout.txnDir, { recursive: true, force: true });
  if (name !== undefined) pruneEmpty(join(layout.backupDir, name));
}

/** Removes `dir` and its subdirectories that hold no file; keeps any that hold one. */
function pruneEmpty(dir: string): boolean {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return true;
  }
  let empty = true;
  for (const entry of entries) {
    if (!entry.isDirectory() || !pruneEmpty(join(dir, entry.name))) empty = false;
  }
  if (empty) rmSync(dir, { recursive: true, force: true });
  return empty;
}

/**
 * Completes or undoes a transaction found at startup: committed (the record says so) means only the
 * clean-up is left; otherwise every step is reverted. Returns a line for the event log, if there was
 * anything to do.
 */
export async function recoverTxn(layout: Layout): Promise<string | undefined> {
  const planFile = join(layout.txnDir, 'plan.json');
  let plan: Plan | undefined;
  try {
    plan = JSON.parse(await readFile(planFile, 'utf8')) as Plan;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (!plan) {
    const staged = lstatOrUndefined(layout.txnDir) !== undefined;
    await cleanTxn(layout, undefined);
    return staged ? 'recovery: removed an unpacking interrupted before any change to rootfs' : undefined;
  }
  const activePath = join(layout.activeDir, `${plan.name}.json`);
  const active = await readActiveRecord(activePath).catch(() => undefined);
  const committed =
    plan.kind === 'activate' ? active?.installId === plan.installId : active?.installId !== plan.installId;
  if (!committed) revertSteps(txnPaths(layout, plan.name), plan.steps);
  await syncFileSystem(layout.rootfs);
  await cleanTxn(layout, plan.name);
  const what = plan.kind === 'activate' ? 'activation' : 'deactivation';
  return committed
    ? `recovery: completed the interrupted ${what} of ${plan.name}`
    : `recovery: rolled back the interrupted ${what} of ${plan.name}`;
}
