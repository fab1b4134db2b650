// One conditional request per feed: whether a feed changed since the updater last took it (`var/lib/updater/probes.json`).
//
// A feed's `Release` changes whenever the feed is indexed again (its `Date`), and `Packages.sig`
// whenever `Packages` changes; the updater asks for the first (the second when the feed has no
// `Release`) with the validators of its last answer. A 304 means the kept index is current and the
// feed costs nothing more; any other answer sends the feed through the full update (which fetches
// only what changed, and takes the probe's answer instead of asking for the same file again). The validators are kept only once that update succeeded, so a failed one is
// tried again at the next run.
import { mkdir, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { writeFileAtomic } from '../../common/atomic.js';
import type { FeedFetcher, FeedStatus, FetchValidators } from '../api.js';
import type { FeedProbe } from './fast-path.js';
import type { UpdaterPaths } from './paths.js';

/** What was asked of a feed, and what its server answered last. */
export interface ProbeMemory {
  /** The feed's URL when it was asked (another URL is another feed). */
  readonly url: string;
  readonly file: 'Release' | 'Packages.sig';
  readonly validators: FetchValidators;
}

/** Reads what the probes remember; nothing when the file is missing or unreadable (every feed is updated). */
export async function readProbes(up: UpdaterPaths): Promise<Record<string, ProbeMemory>> {
  try {
    const value = JSON.parse(await readFile(up.probesFile, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, ProbeMemory>) : {};
  } catch {
    return {};
  }
}

/** Writes what the probes remember. */
export async function writeProbes(up: UpdaterPaths, probes: Record<string, ProbeMemory>): Promise<void> {
  await mkdir(up.libDir, { recursive: true });
  await writeFileAtomic(up.probesFile, `${JSON.stringify(probes, null, 2)}\n`);
}

/** Which file tells whether the feed changed. */
function probeFile(feed: FeedStatus): ProbeMemory['file'] {
  return feed.freshness !== undefined && feed.freshness.state !== 'none' ? 'Release' : 'Packages.sig';
}

/** The file a probe received whole: the update takes it instead of asking for it again. */
export interface ProbeBody {
  readonly file: ProbeMemory['file'];
  readonly bytes: Buffer;
  readonly validators?: FetchValidators;
}

/** The result of asking one feed. */
export type ProbeAnswer =
  /** The kept index is current: nothing to update. */
  | { readonly kind: 'unchanged' }
  /** Update the feed; keep `memory` once the update succeeded. */
  | { readonly kind: 'changed'; readonly memory?: ProbeMemory; readonly body?: ProbeBody };

/**
 * Asks whether `feed` changed: one conditional request, when the feed has a kept, unexpired index
 * from a successful update and the validators of the last answer; otherwise the feed is updated.
 */
export async function probe(
  feed: FeedStatus,
  memory: ProbeMemory | undefined,
  fetcher: FeedFetcher,
  signal: AbortSignal | undefined,
  now: Date,
): Promise<ProbeAnswer> {
  const file = probeFile(feed);
  const usable =
    memory !== undefined &&
    memory.url === feed.url &&
    memory.file === file &&
    feed.updatedAt !== undefined &&
    feed.failure === undefined &&
    feed.expired !== true &&
    !(feed.freshness?.state === 'protected' && Date.parse(feed.freshness.validUntil) <= now.getTime());
  const answer = await fetcher.open(feed, file, {
    maxBytes: 1024 * 1024,
    ...(usable ? { validators: memory.validators } : {}),
    ...(signal ? { signal } : {}),
  });
  if (answer.kind === 'not-modified') return usable ? { kind: 'unchanged' } : { kind: 'changed' };
  if (answer.kind === 'stream') {
    // Read whole (the fetcher holds it to maxBytes): the update's first request would get the same.
    const bytes = await readWhole(answer.stream);
    const validators = answer.validators;
    return {
      kind: 'changed',
      ...(validators === undefined ? {} : { memory: { url: feed.url, file, validators } }),
      ...(bytes === undefined
        ? {}
        : { body: { file, bytes, ...(validators === undefined ? {} : { validators }) } }),
    };
  }
  return { kind: 'changed' };
}

/** The stream's bytes, or nothing when it fails (the update then asks for the file itself). */
async function readWhole(stream: Readable): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } catch {
    stream.destroy();
    return undefined;
  }
}

/**
 * The fetcher of the update after the probes: a feed's first request for the file its probe received
 * whole is answered with those bytes, so that a changed feed's `Release` crosses the network once.
 * The server had it changed since the probe's validators; asked again with the kept index's, it would
 * answer the same bytes (or "not modified", of the same bytes).
 */
export function reusingProbes(fetcher: FeedFetcher, bodies: Map<string, ProbeBody>): FeedFetcher {
  return {
    async open(feed, path, options) {
      const body = bodies.get(feed.name);
      if (body === undefined || body.file !== path) return fetcher.open(feed, path, options);
      bodies.delete(feed.name);
      if (body.bytes.length > options.maxBytes) return fetcher.open(feed, path, options);
      return {
        kind: 'stream',
        stream: Readable.from([body.bytes]),
        size: body.bytes.length,
        ...(body.validators === undefined ? {} : { validators: body.validators }),
      };
    },
  };
}

/** The requests `edgesh-updater` can make itself: every feed over http(s) without a login, with validators. */
export function fastProbes(
  feeds: readonly FeedStatus[],
  memory: Record<string, ProbeMemory>,
): FeedProbe[] | undefined {
  const probes: FeedProbe[] = [];
  for (const feed of feeds) {
    const m = memory[feed.name];
    if (m === undefined || m.url !== feed.url || !/^https?:\/\/[^@/]+(\/|$)/.test(feed.url)) return undefined;
    probes.push({ feed: feed.name, url: `${feed.url.replace(/\/+$/, '')}/${m.file}`, ...m.validators });
  }
  return probes.length === 0 ? undefined : probes;
}
