// Reads that never wait for the lock: a boot leaves a consistent view of the state it started from.
import { link, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Layout } from './layout.js';

/**
 * A boot changes the activation records one package at a time and the last report at its end; a
 * read in between (another session's `package show`) would mix the two, or find a record gone
 * between listing and reading it. So a boot, before its first change, leaves a view of what it
 * starts from: `view/active/*.json` and `view/boot.json` are hard links to the records as they are
 * (the boot replaces records by rename and removes them by unlink, so the view's inodes never
 * change), and `view/owner`, written last, names the lock holder the view belongs to. The view goes
 * when the boot ends; recovery removes one that a crash left.
 *
 * A reader looks at a stamp before and after it reads: the lock holder, the owner of the view, and
 * the event log's inode and size (every boot appends to the log before it releases the lock). The
 * same stamp on both sides means that no boot began, made changes or ended in between; otherwise
 * the read is done again.
 */

/** Where the view of a boot lives, in the state directory. */
export function viewDir(layout: Layout): string {
  return join(layout.libDir, 'view');
}

/** The nonce of the lock holder named in the lock file, if any. */
async function holderNonce(layout: Layout): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(layout.lockFile, 'utf8')) as { nonce?: string }).nonce;
  } catch {
    return undefined;
  }
}

/** Leaves the view of the state as it is (the caller holds the lock and has changed nothing yet). */
async function takeView(layout: Layout): Promise<void> {
  const view = viewDir(layout);
  await rm(view, { recursive: true, force: true });
  await mkdir(join(view, 'active'), { recursive: true });
  for (const name of await readdir(layout.activeDir).catch(() => [] as string[])) {
    if (name.endsWith('.json') && !name.startsWith('.')) {
      await link(join(layout.activeDir, name), join(view, 'active', name));
    }
  }
  await link(layout.lastBootFile, join(view, 'boot.json')).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  // Written last: a view without its owner is incomplete, and is not read.
  await writeFile(join(view, 'owner'), `${(await holderNonce(layout)) ?? ''}\n`);
}

/** Removes the view (at the end of a boot, and in recovery). */
export async function dropView(layout: Layout): Promise<void> {
  const view = viewDir(layout);
  await rm(join(view, 'owner'), { force: true });
  await rm(view, { recursive: true, force: true });
}

/**
 * Runs `boot` (under the device lock) with a view of the state it starts from left for readers; the
 * view is removed when it ends, however it ends.
 */
export async function withReadView<T>(layout: Layout, boot: () => Promise<T>): Promise<T> {
  // A convenience for readers must not stop the boot (a full disk): without a view, readers read the
  // state itself and do it again when it changed under them.
  await takeView(layout).catch(() => dropView(layout).catch(() => {}));
  try {
    return await boot();
  } finally {
    await dropView(layout);
  }
}

/** What a reader compares before and after it reads. */
interface Stamp {
  /** The lock holder's nonce, `''` when the lock is free. */
  readonly holder: string;
  /** The owner of the view of a boot, `''` when there is none (or it is not complete). */
  readonly viewOwner: string;
  /** Inode and size of the event log. */
  readonly log: string;
}

async function stampOf(layout: Layout): Promise<Stamp> {
  const [holder, viewOwner, log] = await Promise.all([
    holderNonce(layout),
    readFile(join(viewDir(layout), 'owner'), 'utf8').catch(() => ''),
    stat(layout.logFile).then(
      (st) => `${st.ino}:${st.size}`,
      () => '',
    ),
  ]);
  return { holder: holder ?? '', viewOwner: viewOwner.trim(), log };
}

const sameStamp = (a: Stamp, b: Stamp) =>
  a.holder === b.holder && a.viewOwner === b.viewOwner && a.log === b.log;

/**
 * The layout a read should use: the view of a boot in progress, or the state itself. A view whose
 * owner does not hold the lock (a crash; the lock taken over since) is not read.
 */
function layoutFor(layout: Layout, stamp: Stamp): Layout {
  if (stamp.viewOwner === '' || stamp.viewOwner !== stamp.holder) return layout;
  const view = viewDir(layout);
  return { ...layout, activeDir: join(view, 'active'), lastBootFile: join(view, 'boot.json') };
}

/** Tries of a read before it settles for the state as it finds it. */
const TRIES = 5;

/**
 * Runs `read` over a consistent state without the lock: the view of a boot in progress (the state
 * before it), or the state itself when no boot runs. A read that a boot began, changed or ended
 * under, or that lost a file to a change (ENOENT), is done again, up to a few times.
 */
export async function readConsistently<T>(layout: Layout, read: (layout: Layout) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const before = await stampOf(layout);
    let result: T;
    try {
      result = await read(layoutFor(layout, before));
    } catch (error) {
      if (attempt < TRIES && isMissing(error)) continue;
      throw error;
    }
    if (attempt >= TRIES || sameStamp(before, await stampOf(layout))) return result;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause?.code;
  return code === 'ENOENT' || cause === 'ENOENT';
}
