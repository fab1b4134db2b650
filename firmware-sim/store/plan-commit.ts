// The commit of a plan: several packages installed, replaced, removed and re-marked at once, journaled so that a crash completes it.
import { access, mkdir, rename, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { renameDurably, syncDirectory, tempPathFor, writeFileAtomic } from '../../common/atomic.js';
import { DeviceError } from '../errors.js';
import { faultPoint } from '../state/fault.js';
import type { Layout } from '../state/layout.js';
import { RECORD_FILE, readStoreEntry, removeFromStore, removeUnreferenced } from './packages.js';
import { moveAsideBroken } from './receive.js';
import { formatRecord, type StoreRecord } from './records.js';

/** One package a plan puts into the store. */
export interface PlannedInstall {
  /** The verified download, a temporary file in the store directory (its name only). */
  readonly download: string;
  readonly record: StoreRecord;
  /** Another installation of the name is in the store and is replaced. */
  readonly replace: boolean;
  /** For a new name: the directory it is built in before it is renamed into place (its name only). */
  readonly building: string;
}

/** A change of a kept package's record: its mark, its persistence. */
export interface PlannedMark {
  readonly name: string;
  readonly auto?: boolean;
  readonly persistent?: boolean;
}

/**
 * `var/lib/wmopkg/journal.json` of a plan. Written (durably) once every download is complete and
 * verified: from then on the plan is decided, and recovery completes it after a crash.
 */
export interface PlanJournal {
  readonly op: 'plan';
  readonly id: string;
  readonly removes: readonly string[];
  readonly installs: readonly PlannedInstall[];
  readonly marks: readonly PlannedMark[];
}

/** The journal of a plan: where each new package will be built is fixed before anything moves. */
export function planJournal(
  layout: Layout,
  id: string,
  changes: {
    readonly removes: readonly string[];
    readonly installs: ReadonlyArray<{
      readonly download: string;
      readonly record: StoreRecord;
      readonly replace: boolean;
    }>;
    readonly marks: readonly PlannedMark[];
  },
): PlanJournal {
  return {
    op: 'plan',
    id,
    removes: changes.removes,
    installs: changes.installs.map((i) => ({
      download: basename(i.download),
      record: i.record,
      replace: i.replace,
      building: basename(tempPathFor(join(layout.storeDir, i.record.name), 'plan')),
    })),
    marks: changes.marks,
  };
}

/**
 * Commits a plan (the caller holds the lock): the journal first, which is the commit point, then
 * each change, then the journal goes. Every step can be done again, so recovery runs the same
 * `completePlan` after a crash.
 */
export async function commitPlan(layout: Layout, journal: PlanJournal): Promise<void> {
  await mkdir(layout.libDir, { recursive: true });
  await writeFileAtomic(layout.journalFile, `${JSON.stringify(journal)}\n`);
  faultPoint('plan:journal');
  await completePlan(layout, journal);
}

/** Does (or finishes) what a plan's journal says, then removes the journal. Idempotent. */
export async function completePlan(layout: Layout, journal: PlanJournal): Promise<void> {
  for (const name of journal.removes) {
    if ((await readStoreEntry(layout, name)) !== undefined) await removeFromStore(layout, name);
    faultPoint('plan:removed');
  }
  for (const install of journal.installs) {
    await commitOne(layout, install);
    faultPoint('plan:installed');
  }
  for (const mark of journal.marks) await applyMark(layout, mark);
  faultPoint('plan:marked');
  await clearPlanJournal(layout);
}

async function commitOne(layout: Layout, install: PlannedInstall): Promise<void> {
  const { record } = install;
  const dir = join(layout.storeDir, record.name);
  const now = await readStoreEntry(layout, record.name);
  if (now?.kind === 'record' && now.record.installId === record.installId) return;
  const download = join(layout.storeDir, install.download);
  if (install.replace && now !== undefined) {
    if (await exists(download)) await rename(download, join(dir, record.file));
    await mustExist(join(dir, record.file), record);
    faultPoint('plan:moved');
    await writeFileAtomic(join(dir, RECORD_FILE), formatRecord(record));
    await removeUnreferenced(dir, record);
    return;
  }
  // A new name: built beside the store under a name fixed in the journal, then renamed into place, so
  // that no reader ever sees a package directory without its record.
  const building = join(layout.storeDir, install.building);
  await mkdir(building, { recursive: true });
  if (await exists(download)) await rename(download, join(building, record.file));
  await mustExist(join(building, record.file), record);
  faultPoint('plan:moved');
  await writeFileAtomic(join(building, RECORD_FILE), formatRecord(record));
  await moveAsideBroken(layout, record.name);
  await renameDurably(building, dir);
}

async function applyMark(layout: Layout, mark: PlannedMark): Promise<void> {
  const entry = await readStoreEntry(layout, mark.name);
  if (entry?.kind !== 'record') return;
  const record: StoreRecord = {
    ...entry.record,
    ...(mark.auto === undefined ? {} : { auto: mark.auto }),
    ...(mark.persistent === undefined ? {} : { persistent: mark.persistent }),
  };
  if (record.auto === entry.record.auto && record.persistent === entry.record.persistent) return;
  await writeFileAtomic(join(layout.storeDir, mark.name, RECORD_FILE), formatRecord(record));
}

/** Removes the journal once the plan is complete. */
async function clearPlanJournal(layout: Layout): Promise<void> {
  await unlink(layout.journalFile).catch(() => {});
  await syncDirectory(layout.libDir);
}

async function mustExist(path: string, record: StoreRecord): Promise<void> {
  if (!(await exists(path))) {
    throw new DeviceError(
      'DEVICE_CORRUPT_STATE',
      `the plan installing ${record.name} ${record.version} lost its download; install it again`,
    );
  }
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Whether a journal is a plan's. */
export function isPlanJournal(journal: { readonly op: string }): journal is PlanJournal {
  return journal.op === 'plan';
}
