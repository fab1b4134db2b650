// Feeds at a factory reset: only those marked persistent stay, with their kept indexes (and so their rollback protection).
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX, writeFileAtomic } from '../../common/atomic.js';
import { formatFeeds, readFeeds } from '../config/feeds.js';
import type { Layout } from '../state/layout.js';
import { tempOwnerAlive } from '../state/lock.js';

/**
 * Drops the feeds not marked persistent and every kept index that no configured feed owns. A kept
 * persistent feed keeps its index: the date of its last `Release` is what refuses a rollback.
 * Idempotent (recovery runs it again after a crash). Returns the names of the feeds dropped.
 */
export async function resetFeeds(layout: Layout): Promise<string[]> {
  const { feeds } = await readFeeds(layout.feedsFile);
  const kept = feeds.filter((f) => f.persistent);
  if (kept.length !== feeds.length) await writeFileAtomic(layout.feedsFile, formatFeeds(kept));
  const names = new Set(kept.map((f) => f.name));
  for (const dir of await readdir(layout.feedsDir).catch(() => [] as string[])) {
    if (!names.has(dir)) await rm(join(layout.feedsDir, dir), { recursive: true, force: true });
  }
  return feeds.filter((f) => !f.persistent).map((f) => f.name);
}

/**
 * Temporary files an interrupted update left in the kept indexes. Those of a process that still runs
 * stay: an update writes its new Packages before it takes the lock (repository/update.ts).
 */
export async function cleanFeedTemps(layout: Layout): Promise<void> {
  for (const dir of await readdir(layout.feedsDir).catch(() => [] as string[])) {
    const path = join(layout.feedsDir, dir);
    for (const name of await readdir(path).catch(() => [] as string[])) {
      if (name.startsWith(TEMP_PREFIX) && !tempOwnerAlive(name))
        await rm(join(path, name), { recursive: true, force: true });
    }
  }
}
