// The feed configuration changed under the lock (`feed`, `no feed`) and `update` of every feed.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import type { FeedConfig, FeedUpdateOptions, FeedUpdateResult } from '../api.js';
import { checkFeed, formatFeeds, readFeeds } from '../config/feeds.js';
import { DeviceError } from '../errors.js';
import { loadTrustStore } from '../format/index.js';
import { REVOKED_LIST_NAME } from '../state/layout.js';
import type { RepositoryHost } from './host.js';
import { dropKept } from './kept.js';
import { updateFeed } from './update.js';

/** Adds a feed or changes one of that name; another URL drops the kept index (it was another feed's). */
export function setFeed(
  host: RepositoryHost,
  wanted: FeedConfig,
): Promise<'added' | 'changed' | 'unchanged'> {
  const feed = checkFeed(wanted);
  return host.locked(async () => {
    const { feeds } = await readFeeds(host.paths.feedsFile);
    const old = feeds.find((f) => f.name === feed.name);
    if (old !== undefined && old.url === feed.url && old.persistent === feed.persistent) return 'unchanged';
    const next = old === undefined ? [...feeds, feed] : feeds.map((f) => (f.name === feed.name ? feed : f));
    await mkdir(dirname(host.paths.feedsFile), { recursive: true });
    await writeFileAtomic(host.paths.feedsFile, formatFeeds(next));
    if (old !== undefined && old.url !== feed.url) await dropKept(host.paths, feed.name);
    await host.log([
      `feed ${feed.persistent ? 'persistent ' : ''}${feed.name} ${feed.url} ${old ? 'changed' : 'added'}`,
    ]);
    return old === undefined ? 'added' : 'changed';
  });
}

/** Removes a feed and its kept index. */
export function removeFeed(host: RepositoryHost, name: string): Promise<void> {
  return host.locked(async () => {
    const { feeds } = await readFeeds(host.paths.feedsFile);
    if (!feeds.some((f) => f.name === name)) throw noFeed(name);
    await writeFileAtomic(host.paths.feedsFile, formatFeeds(feeds.filter((f) => f.name !== name)));
    await dropKept(host.paths, name);
    await host.log([`no feed ${name}: removed with its index`]);
  });
}

/** `DEVICE_NO_FEED` for a name that is not configured. */
export function noFeed(name: string): DeviceError {
  return new DeviceError('DEVICE_NO_FEED', `no feed named ${name} (see show feeds)`);
}

/** Updates the feeds one after the other; a failed feed does not stop the others. */
export async function updateFeeds(
  host: RepositoryHost,
  options: FeedUpdateOptions,
): Promise<FeedUpdateResult[]> {
  const { feeds } = await readFeeds(host.paths.feedsFile);
  for (const name of options.names ?? []) if (!feeds.some((f) => f.name === name)) throw noFeed(name);
  const chosen = options.names === undefined ? feeds : feeds.filter((f) => options.names!.includes(f.name));
  const trust = await loadTrustStore(host.paths.keysDir, host.paths.revokedFile, REVOKED_LIST_NAME);
  const results: FeedUpdateResult[] = [];
  for (const feed of chosen) {
    const result = await updateFeed(
      { host, fetcher: options.fetcher, trust, ...(options.signal ? { signal: options.signal } : {}) },
      feed,
    );
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}
