// The feeds as the updater reads them: configured feeds, their verified indexes kept on the device, conditional updates.
//
// The configuration is `etc/wmopkg/feeds` (`feed [persistent] NAME URL`, one per line); each feed's
// last verified `Packages` is kept in `var/lib/updater/feeds/` with what the next update needs: the
// validators of `Packages.sig` (the file whose change means the feed changed) and the last `Release`
// accepted (rollback protection). An unchanged feed costs one conditional request for `Packages.sig`.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { writeFileAtomic } from '../../common/atomic.js';
import { oneLine, shown } from '../../common/text.js';
import { DeviceError } from '../errors.js';
import {
  type FeedEntry,
  type FeedIndexFiles,
  gunzipChunks,
  parsePackagesIndex,
  Universe,
  verifyFeedIndex,
} from '../feeds/index.js';
import { loadTrustStore, type TrustStore } from '../format/index.js';
import { type Layout, REVOKED_LIST_NAME } from '../state/layout.js';
import type { FeedProbe, FeedSource } from './host.js';
import type { FeedFetch, FeedUpdate, Validators } from './types.js';

/** A configured feed. */
export interface FeedConfig {
  readonly name: string;
  /** The feed directory's URL, without a trailing `/`. */
  readonly url: string;
  readonly persistent: boolean;
}

/** What is kept of a feed between updates (`NAME.json`, next to the index it names). */
interface Kept {
  readonly url: string;
  /** The kept `Packages`, a file named by its content's hash. */
  readonly packagesFile: string;
  readonly probe: Validators;
  /** `Date` of the last `Release` accepted (ISO 8601), and its `Valid-Until`. */
  readonly releaseDate?: string;
  readonly validUntil?: string;
}

const FEED_LINE = /^feed\s+(?:(persistent)\s+)?([a-z0-9][a-z0-9._-]{0,31})\s+(\S+)$/;

/** Reads `etc/wmopkg/feeds`; a line it cannot read stops the updater (a lost feed would remove its packages). */
export async function readFeedConfig(layout: Layout): Promise<FeedConfig[]> {
  const file = join(layout.wmopkgDir, 'feeds');
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const feeds: FeedConfig[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = FEED_LINE.exec(line);
    if (!match || !URL.canParse(match[3]!)) {
      throw new DeviceError(
        'DEVICE_CORRUPT_STATE',
        `etc/wmopkg/feeds line ${index + 1}: cannot read "${shown(line)}"`,
      );
    }
    feeds.push({ name: match[2]!, url: match[3]!.replace(/\/+$/, ''), persistent: match[1] !== undefined });
  }
  return feeds;
}

/** The feeds of a device, their kept indexes and their updates. */
export class FeedCache implements FeedSource {
  private readonly dir: string;

  constructor(
    private readonly layout: Layout,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.dir = join(layout.root, 'var', 'lib', 'updater', 'feeds');
  }

  async update(fetch: FeedFetch, signal?: AbortSignal): Promise<FeedUpdate[]> {
    const feeds = await readFeedConfig(this.layout);
    const trust = await loadTrustStore(this.layout.keysDir, this.layout.revokedFile, REVOKED_LIST_NAME);
    const results: FeedUpdate[] = [];
    for (const feed of feeds) {
      try {
        results.push({ feed: feed.name, result: await this.updateOne(feed, fetch, trust, signal) });
      } catch (error) {
        if (signal?.aborted) throw error;
        results.push({ feed: feed.name, result: 'failed', message: oneLine((error as Error).message) });
      }
    }
    await this.dropUnused(feeds);
    return results;
  }

  private async updateOne(
    feed: FeedConfig,
    fetch: FeedFetch,
    trust: TrustStore,
    signal: AbortSignal | undefined,
  ): Promise<'updated' | 'unchanged'> {
    const kept = await this.kept(feed);
    const fresh = kept?.validUntil === undefined || Date.parse(kept.validUntil) > this.now().getTime();
    const at = (file: string) => `${feed.url}/${file}`;
    const opts = (validators?: Validators) => ({
      ...(validators ? { validators } : {}),
      ...(signal ? { signal } : {}),
    });
    const probe = await fetch.open(at('Packages.sig'), opts(kept && fresh ? kept.probe : undefined));
    if (probe.status === 'not-modified') return 'unchanged';
    const packagesSig = await bytesOf(probe.stream);
    const gz = await optional(fetch, at('Packages.gz'), signal);
    const packages = gz === undefined ? await required(fetch, at('Packages'), signal) : await inflate(gz);
    const release = await optional(fetch, at('Release'), signal);
    const releaseSig = release === undefined ? undefined : await optional(fetch, at('Release.sig'), signal);
    const files: FeedIndexFiles = {
      packages,
      packagesSig,
      ...(gz ? { packagesGz: { sha256: sha256(gz), size: gz.length } } : {}),
      ...(release ? { release } : {}),
      ...(releaseSig ? { releaseSig } : {}),
    };
    const verified = verifyFeedIndex(files, {
      trust,
      now: this.now(),
      ...(kept?.releaseDate ? { last: { date: new Date(kept.releaseDate) } } : {}),
    });
    // Parsed once now, so that an index the updater cannot read is refused here, not at every plan.
    await parsePackagesIndex(packages);
    await mkdir(this.dir, { recursive: true });
    const packagesFile = `${feed.name}.${sha256(packages).slice(0, 16)}.packages`;
    await writeFileAtomic(join(this.dir, packagesFile), packages);
    const freshness = verified.freshness;
    const next: Kept = {
      url: feed.url,
      packagesFile,
      probe: probe.validators ?? {},
      ...(freshness.state === 'none' ? {} : { releaseDate: freshness.date.toISOString() }),
      ...(freshness.state === 'protected' ? { validUntil: freshness.validUntil.toISOString() } : {}),
    };
    await writeFileAtomic(join(this.dir, `${feed.name}.json`), `${JSON.stringify(next)}\n`);
    if (kept !== undefined && kept.packagesFile !== packagesFile) {
      await rm(join(this.dir, kept.packagesFile), { force: true });
    }
    return 'updated';
  }

  /** What is kept of a feed, if it is the feed configured now (the same URL). */
  private async kept(feed: FeedConfig): Promise<Kept | undefined> {
    try {
      const kept = JSON.parse(await readFile(join(this.dir, `${feed.name}.json`), 'utf8')) as Kept;
      return kept.url === feed.url ? kept : undefined;
    } catch {
      return undefined;
    }
  }

  /** Kept indexes of feeds no longer configured go (their packages are no longer offered). */
  private async dropUnused(feeds: readonly FeedConfig[]): Promise<void> {
    const names = new Set(feeds.map((f) => f.name));
    const keep = new Set<string>();
    for (const feed of feeds) {
      const kept = await this.kept(feed);
      if (kept) keep.add(kept.packagesFile).add(`${feed.name}.json`);
    }
    for (const file of await readdir(this.dir).catch(() => [] as string[])) {
      const name = file.replace(/\.[0-9a-f]{16}\.packages$|\.json$/, '');
      if (!keep.has(file) && (!names.has(name) || file.endsWith('.packages'))) {
        await rm(join(this.dir, file), { force: true });
      }
    }
  }

  async universe(): Promise<Universe> {
    const feeds = await readFeedConfig(this.layout);
    const contents = [];
    for (const feed of feeds) {
      const kept = await this.kept(feed);
      if (kept === undefined) continue;
      const bytes = await readFile(join(this.dir, kept.packagesFile));
      contents.push({ name: feed.name, packages: (await parsePackagesIndex(bytes)).packages });
    }
    return new Universe(contents);
  }

  async open(entry: FeedEntry, fetch: FeedFetch, signal?: AbortSignal): Promise<Readable> {
    const feed = (await readFeedConfig(this.layout)).find((f) => f.name === entry.feed);
    if (feed === undefined)
      throw new DeviceError('DEVICE_FEED', `feed ${entry.feed} is no longer configured`);
    const file = await fetch.open(`${feed.url}/${entry.package.filename}`, signal ? { signal } : {});
    if (file.status !== 'ok') {
      throw new DeviceError(
        'DEVICE_FEED',
        `${feed.url}/${entry.package.filename}: the server sent no content`,
      );
    }
    return file.stream;
  }

  async probes(): Promise<{ probes: FeedProbe[]; staleAt?: number } | undefined> {
    const probes: FeedProbe[] = [];
    let staleAt: number | undefined;
    for (const feed of await readFeedConfig(this.layout)) {
      const kept = await this.kept(feed);
      const url = new URL(`${feed.url}/Packages.sig`);
      if (
        kept === undefined ||
        (url.protocol !== 'http:' && url.protocol !== 'https:') ||
        url.username !== ''
      ) {
        return undefined;
      }
      if (kept.validUntil !== undefined) staleAt = Math.min(staleAt ?? Infinity, Date.parse(kept.validUntil));
      probes.push({ feed: feed.name, url: url.href, ...kept.probe });
    }
    return probes.length === 0 ? undefined : { probes, ...(staleAt === undefined ? {} : { staleAt }) };
  }
}

/** The largest index file taken (the index parser's own limit for an uncompressed `Packages`). */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

/** The bytes of a stream, up to MAX_INDEX_BYTES (a feed file larger than that is refused). */
async function bytesOf(stream: Readable | AsyncIterable<Buffer>, what = 'a feed file'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_INDEX_BYTES) {
      if ('destroy' in stream) stream.destroy();
      throw new DeviceError(
        'DEVICE_FEED',
        `${what} is larger than ${MAX_INDEX_BYTES / 1024 / 1024} MiB: refused`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A file of the feed that may be missing (a 404 says so): its bytes, or `undefined`. */
async function optional(fetch: FeedFetch, url: string, signal?: AbortSignal): Promise<Buffer | undefined> {
  try {
    return await required(fetch, url, signal);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'TRANSPORT_NOT_FOUND') return undefined;
    throw error;
  }
}

async function required(fetch: FeedFetch, url: string, signal?: AbortSignal): Promise<Buffer> {
  const file = await fetch.open(url, signal ? { signal } : {});
  if (file.status !== 'ok') throw new DeviceError('DEVICE_FEED', `${url}: the server sent no content`);
  return bytesOf(file.stream);
}

function inflate(gz: Buffer): Promise<Buffer> {
  return bytesOf(gunzipChunks([gz], 'Packages.gz'), 'Packages.gz (uncompressed)');
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
