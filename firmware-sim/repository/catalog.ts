// What the feeds offer, as this device keeps it: every kept index parsed into one universe, in configured order.
import { createReadStream, readSync } from 'node:fs';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeedConfig, FeedPackageInfo } from '../api.js';
import { readFeeds } from '../config/feeds.js';
import { DeviceError } from '../errors.js';
import { type FeedContent, type FeedEntry, parsePackagesIndex, Universe } from '../feeds/index.js';
import type { Layout } from '../state/layout.js';
import { type CatalogFeed, CatalogFile, CatalogSource } from './catalog-file.js';
import { feedDir, type KeptIndex, readKept } from './kept.js';
import { scanIndex } from './scan.js';

/** The universe of the kept indexes, the feeds it came from, and what the operator should know about them. */
export interface Catalog {
  readonly universe: Universe;
  readonly feeds: readonly FeedConfig[];
  /** Feeds without an index, with an expired one, or whose index could not be read. */
  readonly warnings: readonly string[];
  /** Feeds with a kept index. */
  readonly indexed: number;
}

/**
 * What the feeds offer, every stanza of every kept index parsed (the feeds in configured order: the
 * first feed wins for the same name and version): for the commands that list or show packages. A
 * feed whose kept index cannot be read is left out with a warning: the others still serve.
 */
export async function loadCatalog(layout: Layout): Promise<Catalog> {
  const { feeds } = await readFeeds(layout.feedsFile);
  const warnings: string[] = [];
  const contents: FeedContent[] = [];
  await eachKeptIndex(layout, feeds, warnings, async (feed, index, dir) => {
    const stream = createReadStream(join(dir, index.files.Packages.file), { highWaterMark: 1024 * 1024 });
    const parsed = await parsePackagesIndex(stream);
    contents.push({ name: feed.name, packages: parsed.packages });
  });
  return { universe: new Universe(contents), feeds, warnings, indexed: contents.length };
}

/**
 * Visits each configured feed that has a kept index, in configured order. A feed without one, or
 * whose index cannot be read (the visit throws), adds its warning and is passed over; an index
 * that expired is visited with a warning too.
 */
async function eachKeptIndex(
  layout: Layout,
  feeds: readonly FeedConfig[],
  warnings: string[],
  visit: (feed: FeedConfig, index: KeptIndex, dir: string) => Promise<void>,
): Promise<void> {
  for (const feed of feeds) {
    try {
      const index = (await readKept(layout, feed.name, feed.url))?.index;
      if (index === undefined) {
        warnings.push(`feed ${feed.name} has no index yet (run update)`);
        continue;
      }
      warnings.push(...expiryWarning(feed.name, index));
      await visit(feed, index, feedDir(layout, feed.name));
    } catch (error) {
      warnings.push(
        `feed ${feed.name}: its kept index cannot be read (${(error as Error).message}); run update`,
      );
    }
  }
}

/** What a plan reads: every feed's catalog, the stanzas parsed only as the resolver reaches them. */
export interface PlanningSource {
  readonly source: CatalogSource;
  readonly feeds: readonly FeedConfig[];
  readonly warnings: readonly string[];
  readonly indexed: number;
  /** Closes the kept indexes the source reads from. */
  readonly close: () => Promise<void>;
}

/**
 * The feeds for a plan: each kept index with its catalog (catalog-file.ts), looked up by binary
 * search, the index itself read only where the resolver looks (positional reads of a descriptor held
 * open, so that an update replacing the files meanwhile does not pull them away). An index kept by an
 * earlier version, without a catalog of this version, is read whole and gets one in memory. The
 * caller closes the source.
 */
export async function loadPlanningSource(layout: Layout): Promise<PlanningSource> {
  const { feeds } = await readFeeds(layout.feedsFile);
  const warnings: string[] = [];
  const parts: CatalogFeed[] = [];
  const handles: FileHandle[] = [];
  const close = async () => {
    for (const handle of handles.splice(0)) await handle.close().catch(() => {});
  };
  try {
    await eachKeptIndex(layout, feeds, warnings, async (feed, index, dir) => {
      const catalog = index.catalog === undefined ? undefined : await readCatalog(join(dir, index.catalog));
      if (catalog === undefined) {
        const packages = await readFile(join(dir, index.files.Packages.file));
        const built = new CatalogFile(scanIndex(packages).catalog);
        parts.push({ name: feed.name, catalog: built, read: (start, end) => packages.subarray(start, end) });
        return;
      }
      const handle = await open(join(dir, index.files.Packages.file), 'r');
      handles.push(handle);
      parts.push({ name: feed.name, catalog, read: (start, end) => readRange(handle.fd, start, end) });
    });
  } catch (error) {
    await close();
    throw error;
  }
  return { source: new CatalogSource(parts), feeds, warnings, indexed: parts.length, close };
}

/** A kept catalog, or `undefined` for one of an earlier version (rebuilt from the index). */
async function readCatalog(file: string): Promise<CatalogFile | undefined> {
  const bytes = await readFile(file);
  try {
    return new CatalogFile(bytes);
  } catch {
    return undefined;
  }
}

/** Bytes `start` to `end` of an open file; a short read (a truncated file) is an error. */
function readRange(fd: number, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  let filled = 0;
  while (filled < out.length) {
    const got = readSync(fd, out, filled, out.length - filled, start + filled);
    if (got === 0) throw new Error(`the kept index ends before byte ${end}`);
    filled += got;
  }
  return out;
}

function expiryWarning(name: string, index: KeptIndex): string[] {
  const fresh = index.freshness;
  if (fresh.state !== 'protected' || Date.parse(fresh.validUntil) >= Date.now()) return [];
  return [
    `feed ${name}: its index expired on ${fresh.validUntil.slice(0, 10)} (a stale or frozen feed; run update)`,
  ];
}

/** Refuses to plan without any index: says what to do first. */
export function requireIndexes(catalog: {
  readonly feeds: readonly FeedConfig[];
  readonly indexed: number;
}): void {
  if (catalog.feeds.length === 0) {
    throw new DeviceError(
      'DEVICE_NO_FEED',
      'no feeds configured: add one with feed NAME URL, then run update',
    );
  }
  if (catalog.indexed === 0) {
    throw new DeviceError('DEVICE_NO_FEED', 'no feed has an index yet: run update');
  }
}

/** A feed package as the contract shows it. */
export function packageInfo(entry: FeedEntry): FeedPackageInfo {
  const p = entry.package;
  return {
    name: p.name,
    version: p.version,
    architecture: p.architecture,
    feed: entry.feed,
    ...(p.rollout === undefined ? {} : { rollout: p.rollout }),
    description: (p.control.get('Description') ?? '').split('\n')[0]!.trim(),
    filename: p.filename,
    size: p.size,
    sha256: p.sha256,
  };
}
