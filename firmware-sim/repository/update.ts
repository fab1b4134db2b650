// `update` of one feed: fetch what changed, verify signatures and freshness, keep the index atomically or keep the old one.
import { createHash } from 'node:crypto';
import type { PreparedFile } from '../../common/atomic.js';
import { collectYoungGarbage } from '../../tuning/young-gc.js';
import type { FeedConfig, FeedFetcher, FeedUpdateResult, FetchValidators } from '../api.js';
import { deviceErrorOf } from '../errors.js';
import {
  DEFAULT_STANZA_LIMITS,
  FeedError,
  type FeedIndexFiles,
  parseRelease,
  verifyFeedIndex,
} from '../feeds/index.js';
import type { TrustStore } from '../format/index.js';
import { faultPoint } from '../state/fault.js';
import { CATALOG_FORMAT } from './catalog-file.js';
import { inflateIndex, readAll } from './fetch.js';
import type { RepositoryHost } from './host.js';
import {
  type KeptFile,
  type KeptIndex,
  type KeptName,
  type KeptState,
  newKeptName,
  prepareKept,
  readKept,
  readKeptFile,
  writeKept,
} from './kept.js';
import { type IndexSummary, scanIndex } from './scan.js';

/** Largest `Packages` (also inflated from `Packages.gz`), as the index reader allows. */
const MAX_INDEX = DEFAULT_STANZA_LIMITS.maxTotalBytes;
const MAX_RELEASE = 1024 * 1024;
const MAX_SIGNATURE = 4096;

/** A file as this update has it: fetched, or the kept one the server says is unchanged. */
interface Got {
  readonly bytes: Buffer;
  readonly validators?: FetchValidators;
}

/** What one update needs besides the feed. */
export interface UpdateContext {
  readonly host: RepositoryHost;
  readonly fetcher: FeedFetcher;
  readonly trust: TrustStore;
  readonly signal?: AbortSignal;
}

/**
 * Updates one feed. Any failure (the fetch, a signature, freshness, the index itself) leaves the
 * kept index as it was and is recorded, so that `show feeds` says it; the result says what happened.
 * Only an abort (Ctrl-C) is thrown.
 */
export async function updateFeed(ctx: UpdateContext, feed: FeedConfig): Promise<FeedUpdateResult> {
  const { host } = ctx;
  let kept: KeptState | undefined;
  try {
    kept = await readKept(host.paths, feed.name, feed.url);
    return await fetchAndKeep(ctx, feed, kept);
  } catch (error) {
    if (ctx.signal?.aborted) throw error;
    const failure = failureOf(error, feed.name, host.paths.root);
    await host
      .locked(async () => {
        const now = await readKept(host.paths, feed.name, feed.url).catch(() => undefined);
        const state: KeptState = {
          format: 1,
          url: feed.url,
          ...(now?.index ? { index: now.index } : {}),
          failure: { at: new Date().toISOString(), ...failure },
        };
        await writeKept(host.paths, feed.name, state);
        await host.log([
          `update feed ${feed.name} failed: ${failure.message}; ${now?.index ? 'the previous index is kept' : 'no index kept'}`,
        ]);
      })
      .catch(() => {});
    return { name: feed.name, outcome: 'failed', ...failure, kept: kept?.index !== undefined };
  }
}

async function fetchAndKeep(
  ctx: UpdateContext,
  feed: FeedConfig,
  kept: KeptState | undefined,
): Promise<FeedUpdateResult> {
  const { host } = ctx;
  const index = kept?.index;
  const keptBytes = (name: KeptName) => {
    const file = index?.files[name];
    return file === undefined ? Promise.resolve(undefined) : readKeptFile(host.paths, feed.name, file);
  };
  const get = async (name: string, max: number, keptFile?: KeptFile, keptName?: KeptName) => {
    const file = await ctx.fetcher.open(feed, name, {
      maxBytes: max,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(keptFile?.validators ? { validators: keptFile.validators } : {}),
      label: `${feed.name}: ${name}`,
    });
    if (file.kind === 'absent') return undefined;
    if (file.kind === 'not-modified') {
      const bytes = keptName === undefined ? undefined : await keptBytes(keptName);
      if (bytes === undefined)
        throw new FeedError(
          'FEED_BAD_INDEX',
          `${name}: the server says "not modified" of a file never fetched`,
        );
      return { bytes, ...(keptFile?.validators ? { validators: keptFile.validators } : {}) } satisfies Got;
    }
    const bytes = await readAll(file.stream, max, name);
    return { bytes, ...(file.validators ? { validators: file.validators } : {}) } satisfies Got;
  };

  const release = await get('Release', MAX_RELEASE, index?.files.Release, 'Release');
  const releaseSig =
    release && (await get('Release.sig', MAX_SIGNATURE, index?.files['Release.sig'], 'Release.sig'));
  const packagesSig = await get('Packages.sig', MAX_SIGNATURE, index?.files['Packages.sig'], 'Packages.sig');

  // Packages is fetched only when Release (or, without one, its signature) says it changed.
  let packages: Got | undefined;
  let gz: KeptIndex['gz'];
  if (index !== undefined && stillCurrent(index, release?.bytes, packagesSig?.bytes)) {
    packages = { bytes: (await keptBytes('Packages'))!, ...validatorsOf(index.files.Packages) };
    gz = index.gz;
  } else {
    const gzFile = await ctx.fetcher.open(feed, 'Packages.gz', {
      maxBytes: MAX_INDEX,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(index?.gz?.validators ? { validators: index.gz.validators } : {}),
      label: `${feed.name}: Packages.gz`,
    });
    if (gzFile.kind === 'stream') {
      const compressed = await readAll(gzFile.stream, MAX_INDEX, 'Packages.gz');
      packages = { bytes: await inflateIndex(compressed, MAX_INDEX) };
      gz = {
        sha256: sha256(compressed),
        size: compressed.length,
        ...(gzFile.validators ? { validators: gzFile.validators } : {}),
      };
    } else if (gzFile.kind === 'not-modified' && index !== undefined) {
      packages = { bytes: (await keptBytes('Packages'))!, ...validatorsOf(index.files.Packages) };
      gz = index.gz;
    } else {
      packages = await get('Packages', MAX_INDEX, index?.files.Packages, 'Packages');
      if (packages === undefined)
        throw new FeedError('FEED_BAD_INDEX', 'the feed has neither Packages.gz nor Packages');
    }
  }
  faultPoint('update:fetched');
  // The compressed index and the pieces it was read and inflated in are garbage now: 10-15 MB that V8
  // would keep until its young generation fills (see tuning/young-gc.ts).
  collectYoungGarbage();

  const hash = sha256(packages.bytes);
  const files: FeedIndexFiles = {
    packages: packages.bytes,
    packagesSha256: hash,
    ...(packagesSig ? { packagesSig: packagesSig.bytes } : {}),
    ...(gz ? { packagesGz: { sha256: gz.sha256, size: gz.size } } : {}),
    ...(release ? { release: release.bytes } : {}),
    ...(releaseSig ? { releaseSig: releaseSig.bytes } : {}),
  };
  const verified = verifyFeedIndex(files, {
    trust: ctx.trust,
    now: new Date(),
    ...(index?.accepted === undefined ? {} : { last: { date: new Date(index.accepted) } }),
  });
  const same = index !== undefined && index.files.Packages.sha256 === hash;
  // A new Packages (verified: its signature and Release are checked above) is written and fsynced
  // under a temporary name on the thread pool while this thread scans it: 10 MB took 40-110 ms to
  // write and fsync here, after the scan. It is put in place under the lock, or discarded.
  const early = same ? undefined : await prepareKept(host.paths, feed.name, 'Packages', packages.bytes);
  const discard = async () => {
    await early?.prepared.discard();
  };
  let summary: Summary;
  try {
    summary =
      same && currentCatalog(index)
        ? { packages: index.packages, names: undefined, skipped: index.skipped, catalog: undefined }
        : scanIndex(packages.bytes);
  } catch (error) {
    await discard();
    throw error;
  }

  const result = host.locked(async (): Promise<FeedUpdateResult> => {
    // Another session may have updated the feed meanwhile: its Release counts for the rollback rule.
    const now = await readKept(host.paths, feed.name, feed.url);
    const accepted = now?.index?.accepted;
    if (
      accepted !== undefined &&
      (verified.accepted === undefined || verified.accepted.date < new Date(accepted))
    ) {
      throw new FeedError(
        'FEED_ROLLBACK',
        `another update took a newer index of feed ${feed.name} meanwhile (Release of ${accepted})`,
      );
    }
    const written = new Map<string, Uint8Array | string | PreparedFile>();
    const keep = (name: KeptName, got: Got | undefined): KeptFile | undefined => {
      if (got === undefined) return undefined;
      const hashOf = got === packages ? hash : sha256(got.bytes);
      const old = now?.index?.files[name];
      const ready = got === packages ? early : undefined;
      const file = old !== undefined && old.sha256 === hashOf ? old.file : (ready?.file ?? newKeptName(name));
      if (file !== old?.file) written.set(file, ready?.prepared ?? got.bytes);
      return { file, sha256: hashOf, size: got.bytes.length, ...validatorsOf(got) };
    };
    const packagesFile = keep('Packages', packages)!;
    const fileSet = {
      Packages: packagesFile,
      ...optional('Packages.sig', keep('Packages.sig', packagesSig)),
      ...optional('Release', keep('Release', release)),
      ...optional('Release.sig', keep('Release.sig', releaseSig)),
    };
    let names = now?.index?.names;
    let catalog = currentCatalog(now?.index) ? now?.index?.catalog : undefined;
    if (summary.names !== undefined || names === undefined || catalog === undefined) {
      const full = summary.catalog === undefined ? scanIndex(packages!.bytes) : summary;
      names = newKeptName('names');
      written.set(names, full.names);
      catalog = newKeptName('catalog');
      written.set(catalog, full.catalog!);
    }
    const unchanged = now?.index !== undefined && written.size === 0 && sameFiles(now.index, fileSet);
    const freshness = verified.freshness;
    const state: KeptState = {
      format: 1,
      url: feed.url,
      index: {
        updatedAt: new Date().toISOString(),
        packages: summary.packages,
        skipped: summary.skipped,
        keyNumber: verified.packagesSignedBy.keyNumber,
        freshness:
          freshness.state === 'none'
            ? { state: 'none' }
            : freshness.state === 'no-expiry'
              ? { state: 'no-expiry', date: freshness.date.toISOString() }
              : {
                  state: 'protected',
                  date: freshness.date.toISOString(),
                  validUntil: freshness.validUntil.toISOString(),
                },
        ...(verified.accepted ? { accepted: verified.accepted.date.toISOString() } : {}),
        files: fileSet,
        ...(gz ? { gz } : {}),
        names,
        catalog,
        catalogFormat: CATALOG_FORMAT,
      },
    };
    await writeKept(host.paths, feed.name, state, written);
    faultPoint('update:kept');
    const outcome = unchanged ? 'unchanged' : 'updated';
    if (!unchanged) {
      await host.log([
        `update feed ${feed.name}: ${summary.packages} packages, signed by key ${state.index!.keyNumber}, freshness ${freshness.state}`,
      ]);
    }
    return {
      name: feed.name,
      outcome,
      packages: summary.packages,
      skipped: summary.skipped,
      freshness: state.index!.freshness,
      keyNumber: state.index!.keyNumber,
    };
  });
  return result.finally(discard);
}

/** What the scan gave, or what the kept index says when it is unchanged (no names nor catalog to write). */
type Summary =
  | IndexSummary
  | {
      readonly packages: number;
      readonly names: undefined;
      readonly skipped: readonly string[];
      readonly catalog: undefined;
    };

/**
 * Whether the kept `Packages` is still the feed's, judged without fetching it: `Release` gives its
 * hash (compared with the kept one; `Release` is verified afterwards like the rest), or, without
 * `Release`, `Packages.sig` is byte for byte the kept one (an Ed25519 signature of another text
 * would differ).
 */
function stillCurrent(
  index: KeptIndex,
  release: Buffer | undefined,
  packagesSig: Buffer | undefined,
): boolean {
  if (release !== undefined) {
    try {
      const files = parseRelease(release).files;
      const plain = files.get('Packages');
      if (plain !== undefined)
        return plain.sha256 === index.files.Packages.sha256 && plain.size === index.files.Packages.size;
      const gz = files.get('Packages.gz');
      return (
        gz !== undefined &&
        index.gz !== undefined &&
        gz.sha256 === index.gz.sha256 &&
        gz.size === index.gz.size
      );
    } catch {
      return false;
    }
  }
  const keptSig = index.files['Packages.sig'];
  return packagesSig !== undefined && keptSig !== undefined && sha256(packagesSig) === keptSig.sha256;
}

/**
 * Whether the kept index has a catalog of the format this version reads: one of an earlier format
 * (or none) is written again even when the index did not change, so that plans do not rebuild it in
 * memory at every run.
 */
function currentCatalog(index: KeptIndex | undefined): boolean {
  return index?.catalog !== undefined && index.catalogFormat === CATALOG_FORMAT;
}

function sameFiles(index: KeptIndex, files: Readonly<Partial<Record<KeptName, KeptFile>>>): boolean {
  const names: KeptName[] = ['Packages', 'Packages.sig', 'Release', 'Release.sig'];
  return names.every((n) => index.files[n]?.sha256 === files[n]?.sha256);
}

function optional(name: KeptName, file: KeptFile | undefined): Partial<Record<KeptName, KeptFile>> {
  return file === undefined ? {} : { [name]: file };
}

function validatorsOf(x: { readonly validators?: FetchValidators }): { validators?: FetchValidators } {
  return x.validators === undefined ? {} : { validators: x.validators };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A failure as `show feeds` and the result say it: a stable code and one line. */
function failureOf(error: unknown, name: string, root: string): { code: string; message: string } {
  if (error instanceof FeedError) return { code: error.code, message: error.message };
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === 'string' && /^(TRANSPORT|MEDIA|DEVICE)_/.test(code)) {
    return { code, message: error.message };
  }
  const device = deviceErrorOf(error, `updating feed ${name}`, root);
  return { code: device.code, message: device.message };
}
