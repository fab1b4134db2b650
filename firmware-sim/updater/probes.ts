// One conditional request per feed: whether a feed changed since the updater last took it (`var/lib/updater/probes.json`).
//
// A feed's `Release` changes whenever the feed is indexed again (its `Date`), and `Packages.sig`
// whenever `Packages` changes; the updater asks for the first (the second when the feed has no
// `Release`) with the validators of its last answer. A 304 means the kept index is current and the
// feed costs nothing more; any other answer sends the feed through the full update (which fetches
// only what changed). The validators are kept only once that update succeeded, so a failed one is
// tried again at the next run.
import { mkdir, readFile } from 'node:fs/promises';
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

/** The result of asking one feed. */
export type ProbeAnswer =
  /** The kept index is current: nothing to update. */
  | { readonly kind: 'unchanged' }
  /** Update the feed; keep `memory` once the update succeeded. */
  | { readonly kind: 'changed'; readonly memory?: ProbeMemory };

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
    answer.stream.resume();
    answer.stream.destroy();
    return answer.validators === undefined
      ? { kind: 'changed' }
      : { kind: 'changed', memory: { url: feed.url, file, validators: answer.validators } };
  }
  return { kind: 'changed' };
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
