// Applying a plan to the store all at once: stage every package, write a journal (the commit point), then finish.
//
// A run killed before the journal is written leaves the store as it was (recovery deletes what was
// staged); killed after it, recovery finishes the journal's steps. Either way the store holds the old
// set of packages or the new one, never a mix: a plan is applied together or not at all, as a boot
// activates it together.
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { renameDurably, syncDirectory, tempPathFor, writeFileAtomic } from '../../common/atomic.js';
import type { DeviceFile } from '../config/device-file.js';
import { DeviceError } from '../errors.js';
import type { FeedEntry } from '../feeds/index.js';
import type { TrustStore } from '../format/index.js';
import { faultPoint } from '../state/fault.js';
import type { Layout } from '../state/layout.js';
import { RECORD_FILE, removeFromStore } from '../store/packages.js';
import { checkReceived, type Received, receivePackage, recordOf } from '../store/receive.js';
import { formatRecord, type StoreRecord } from '../store/records.js';
import type { UpdaterPaths } from './paths.js';

/** `var/lib/updater/apply.json`: the store changes of one plan, finished by recovery if interrupted. */
export interface ApplyJournal {
  readonly format: 1;
  readonly planId: string;
  /** Names to remove from the store, then names whose staged directory replaces or joins the store's. */
  readonly remove: readonly string[];
  readonly install: readonly string[];
}

/** A package downloaded, checked and staged: its record, as the store will hold it. */
export interface Staged {
  readonly record: StoreRecord;
  /** The verdict of its own signature (`Signed`, or why not). */
  readonly received: Received;
}

/**
 * Downloads one feed package into the staging area: the bytes are checked against the index (size
 * and SHA-256 of the whole file) while the store's reader hashes every member and checks the
 * signature, in one pass; an Invalid package, one for another architecture or firmware, or one
 * that differs from the index is refused (`DEVICE_*`) and nothing is left staged.
 */
export async function stagePackage(
  layout: Layout,
  up: UpdaterPaths,
  device: DeviceFile,
  trust: TrustStore,
  entry: FeedEntry,
  stream: Readable,
  previous: StoreRecord | undefined,
  signal?: AbortSignal,
): Promise<Staged> {
  const pkg = entry.package;
  const name = pkg.name;
  const check = indexCheck(entry);
  stream.on('error', (error) => check.destroy(error));
  const received = await receivePackage(layout, device, trust, {
    name,
    stream: stream.pipe(check),
    ...(signal ? { signal } : {}),
  });
  try {
    check.verify();
    checkReceived(received, device, name);
    if (received.reading.control.package !== name || received.reading.control.version !== pkg.version) {
      throw new DeviceError(
        'DEVICE_BAD_PACKAGE',
        `package ${name} ${pkg.version} from feed ${entry.feed}: the file is ${received.reading.control.package} ${received.reading.control.version}; nothing was changed`,
      );
    }
    const record = recordOf(received, {
      name,
      // Persistence belongs to the package until `remove`, as for an install by hand.
      persistent: previous?.persistent === true,
      origin: { kind: 'feed', feed: entry.feed, path: pkg.filename },
    });
    const dir = join(up.stagedDir, name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await rename(received.tmp, join(dir, record.file));
    await writeFileAtomic(join(dir, RECORD_FILE), formatRecord(record));
    faultPoint('updater:staged');
    return { record, received };
  } finally {
    await rm(received.tmp, { force: true });
  }
}

/** A pass-through that counts and hashes the bytes and refuses more than the index announced. */
function indexCheck(entry: FeedEntry): Transform & { verify(): void } {
  const { name, version, size, sha256 } = entry.package;
  const hash = createHash('sha256');
  let bytes = 0;
  const where = `package ${name} ${version} from feed ${entry.feed}`;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > size) {
        done(
          new DeviceError(
            'DEVICE_BAD_PACKAGE',
            `${where}: larger than the ${size} bytes the index gives; nothing was changed`,
          ),
        );
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  return Object.assign(check, {
    verify() {
      if (bytes !== size) {
        throw new DeviceError(
          'DEVICE_BAD_PACKAGE',
          `${where}: ${bytes} bytes, the index gives ${size}; nothing was changed`,
        );
      }
      if (hash.digest('hex') !== sha256.toLowerCase()) {
        throw new DeviceError(
          'DEVICE_BAD_PACKAGE',
          `${where}: its SHA-256 differs from the index (changed after indexing?); nothing was changed`,
        );
      }
    },
  });
}

/**
 * Commits a plan to the store: writes the journal (from here on the plan is applied, whatever
 * happens), then its steps, then removes the journal. The caller holds the device lock and staged
 * every package of `journal.install` before.
 */
export async function commitPlan(layout: Layout, up: UpdaterPaths, journal: ApplyJournal): Promise<void> {
  await mkdir(up.libDir, { recursive: true });
  await writeFileAtomic(up.journalFile, `${JSON.stringify(journal)}\n`);
  faultPoint('updater:journal');
  await finishJournal(layout, up, journal);
}

/** Does the journal's steps that are not done yet (each step can be done again), then drops it. */
async function finishJournal(layout: Layout, up: UpdaterPaths, journal: ApplyJournal): Promise<void> {
  for (const name of journal.remove) {
    if (await exists(join(layout.storeDir, name))) await removeFromStore(layout, name);
    faultPoint('updater:removed');
  }
  const aside: string[] = [];
  for (const name of journal.install) {
    const staged = join(up.stagedDir, name);
    // Done when the staged directory has moved into the store.
    if (!(await exists(staged))) continue;
    const dir = join(layout.storeDir, name);
    await mkdir(layout.storeDir, { recursive: true });
    if (await exists(dir)) {
      // The old directory goes aside first (a temporary name, which recovery deletes): the store
      // never has two directories under one name, and a crash here is finished by the next step.
      const trash = tempPathFor(dir, 'replaced');
      await renameDurably(dir, trash);
      aside.push(trash);
      faultPoint('updater:aside');
    }
    await renameDurably(staged, dir);
    await syncDirectory(up.stagedDir);
    faultPoint('updater:installed');
  }
  await unlink(up.journalFile);
  await syncDirectory(up.libDir);
  await rm(up.stagedDir, { recursive: true, force: true });
  // A directory set aside before a crash is a temporary of the store: the store's recovery deletes it.
  for (const trash of aside) await rm(trash, { recursive: true, force: true });
}

/** Drops what a run staged and did not commit (a failure, or nothing to commit). */
export async function discardStaged(up: UpdaterPaths): Promise<void> {
  await rm(up.stagedDir, { recursive: true, force: true });
}

/** Whether a crash left updater work behind: a journal to finish or packages staged (cheap: two lookups). */
export async function applyInterrupted(up: UpdaterPaths): Promise<boolean> {
  return (await exists(up.journalFile)) || (await exists(up.stagedDir));
}

/**
 * After a crash, under the lock: finishes a journaled plan, or drops what was staged without one.
 * Returns lines for the event log.
 */
export async function recoverApply(layout: Layout, up: UpdaterPaths): Promise<string[]> {
  const text = await readFile(up.journalFile, 'utf8').catch(() => undefined);
  if (text === undefined) {
    if (!(await exists(up.stagedDir))) return [];
    await discardStaged(up);
    return ['recovery: updater run interrupted before its commit; the store was left as it was'];
  }
  let journal: ApplyJournal;
  try {
    journal = JSON.parse(text) as ApplyJournal;
  } catch {
    // Written atomically: a journal that does not parse was not written by the device.
    await unlink(up.journalFile);
    await discardStaged(up);
    return ['recovery: unreadable updater journal removed; the store was left as it was'];
  }
  await finishJournal(layout, up, journal);
  return [
    `recovery: completed the interrupted updater run of plan ${journal.planId} (${journal.remove.length} removed, ${journal.install.length} installed)`,
  ];
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
