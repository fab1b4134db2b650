// The feed indexer behind `wmopkg index DIR`: Packages, Packages.gz, signatures and Release, written atomically.
import { createHash, randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  type ControlFile,
  compareVersions,
  DEFAULT_LIMITS,
  type FormatLimits,
  formatControl,
  formatSignature,
  PackageReader,
  printable,
  type SecretKey,
  signMessage,
} from '../format/index.js';
import { FeedError } from './errors.js';
import { formatRfc2822 } from './release.js';

/** Options of `indexFeed`, as `wmopkg index` takes them. */
export interface IndexOptions {
  /** Signs `Packages` (and `Release`) into `Packages.sig` (`Release.sig`). */
  readonly sign?: SecretKey;
  /** Writes `Release` valid for this many days (and `Release.sig` when signing). */
  readonly validForDays?: number;
  /** `Rollout: N` on the newest version of each named package (`--rollout PKG=N`). */
  readonly rollout?: ReadonlyMap<string, number>;
  /** Packages read at a time (default: the processors, 2 to 8). */
  readonly concurrency?: number;
  /** The time written into `Release` (default now). */
  readonly now?: Date;
  /** Limits of each package read (the whole file, its control archive). */
  readonly limits?: Partial<FormatLimits>;
}

/** What `indexFeed` did. */
export interface IndexResult {
  /** Packages indexed. */
  readonly packages: number;
  /** Files written, in the order they were put in place. */
  readonly written: readonly string[];
  /** Files of an earlier index that no longer fit and were removed (a stale `Release`, `Packages.sig`). */
  readonly removed: readonly string[];
}

/** The index files, in the order they are put in place. */
const INDEX_FILES = ['Packages', 'Packages.gz', 'Packages.sig', 'Release', 'Release.sig'] as const;
const DAY_MS = 24 * 60 * 60 * 1000;
const READ_CHUNK = 256 * 1024;
const gzipAsync = promisify(gzip);

interface Indexed {
  readonly control: ControlFile;
  readonly filename: string;
  readonly size: number;
  readonly sha256: string;
}

/**
 * Indexes the `.wmopkg` files under `dir` (recursively, hidden entries skipped) as
 * `dpkg-scanpackages -t wmopkg` would, with opkg's `SHA256sum`: each package is read once,
 * streaming, several at a time, and fully checked by the package reader (a package that does
 * not read stops the index, naming it). Writes `Packages`, `Packages.gz`, with `sign`
 * `Packages.sig`, with `validForDays` `Release` (and `Release.sig`): every file is written to a
 * temporary name and fsynced first, then all are renamed into place, and index files of an
 * earlier run that would no longer match are removed.
 */
export async function indexFeed(dir: string, options: IndexOptions = {}): Promise<IndexResult> {
  const files = await findPackages(dir);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const results: Indexed[] = new Array(files.length);
  const concurrency = Math.max(1, options.concurrency ?? Math.min(8, Math.max(2, availableParallelism())));
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      results[i] = await readOne(dir, files[i]!, limits);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  results.sort(
    (a, b) =>
      compare(a.control.package, b.control.package) ||
      compareVersions(a.control.version, b.control.version) ||
      compare(a.filename, b.filename),
  );
  const rollout = rolloutFor(results, options.rollout ?? new Map());
  const packages = Buffer.from(results.map((r, i) => stanza(r, rollout.get(i))).join('\n'));
  const contents = new Map<(typeof INDEX_FILES)[number], Buffer>();
  contents.set('Packages', packages);
  const packagesGz = await gzipAsync(packages, { level: 9 });
  contents.set('Packages.gz', packagesGz);
  if (options.sign) contents.set('Packages.sig', signature(packages, options.sign));
  if (options.validForDays !== undefined) {
    const release = releaseText(packages, packagesGz, options.now ?? new Date(), options.validForDays);
    contents.set('Release', release);
    if (options.sign) contents.set('Release.sig', signature(release, options.sign));
  }
  return { packages: results.length, ...(await putInPlace(dir, contents)) };
}

/** Every `.wmopkg` under `dir`, relative to it with `/`, sorted. */
async function findPackages(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    throw new FeedError('FEED_INDEX_BUILD', `cannot read ${dir}: ${(error as Error).message}`);
  }
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.wmopkg'))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .filter((path) => !path.split('/').some((part) => part.startsWith('.')))
    .sort();
}

/** Reads one package once: the whole-file SHA-256 and size, and the package reader's checks. */
async function readOne(dir: string, filename: string, limits: FormatLimits): Promise<Indexed> {
  const hash = createHash('sha256');
  const reader = new PackageReader({ limits });
  const handle = await open(join(dir, filename), 'r').catch((error: Error) => {
    throw new FeedError('FEED_INDEX_BUILD', `${filename}: ${error.message}`);
  });
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, READ_CHUNK, size);
      if (bytesRead === 0) break;
      size += bytesRead;
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      await reader.write(chunk);
    }
    const reading = await reader.end();
    return { control: reading.control, filename, size, sha256: hash.digest('hex') };
  } catch (error) {
    if (error instanceof FeedError) throw error;
    throw new FeedError('FEED_INDEX_BUILD', `${printable(filename)}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await handle.close();
  }
}

/** Which stanza (by index) carries which `Rollout:`: the newest version of each named package. */
function rolloutFor(results: readonly Indexed[], rollout: ReadonlyMap<string, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [name, percent] of rollout) {
    if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
      throw new FeedError(
        'FEED_INDEX_BUILD',
        `--rollout ${name}=${percent}: expected a percentage from 0 to 100`,
      );
    }
    let newest = -1;
    results.forEach((r, i) => {
      if (r.control.package === name) newest = i;
    });
    if (newest < 0)
      throw new FeedError('FEED_INDEX_BUILD', `--rollout ${name}: no package ${name} in the feed`);
    out.set(newest, percent);
  }
  return out;
}

/** A stanza: the control fields as given, with `Filename`, `Size`, `SHA256sum` (and `Rollout`) before `Description`. */
function stanza(indexed: Indexed, rollout: number | undefined): string {
  const added: Array<[string, string]> = [
    ['Filename', indexed.filename],
    ['Size', String(indexed.size)],
    ['SHA256sum', indexed.sha256],
    ...(rollout === undefined ? [] : ([['Rollout', String(rollout)]] as Array<[string, string]>)),
  ];
  const taken = new Set(added.map(([name]) => name.toLowerCase()));
  // A control file's own Filename/Size/… would contradict the index: the index's values win.
  const fields = indexed.control.fields.filter(
    ([name]) => !taken.has(name.toLowerCase()) && name !== 'SHA256',
  );
  const description = fields.findIndex(([name]) => name.toLowerCase() === 'description');
  const at = description < 0 ? fields.length : description;
  return formatControl([...fields.slice(0, at), ...added, ...fields.slice(at)]);
}

function signature(message: Buffer, key: SecretKey): Buffer {
  return Buffer.from(formatSignature(signMessage(message, key)));
}

/** `Release` as apt-ftparchive writes it, with SHA-256 only (what the device checks). */
function releaseText(packages: Buffer, packagesGz: Buffer, now: Date, days: number): Buffer {
  if (!Number.isFinite(days) || days <= 0) {
    throw new FeedError('FEED_INDEX_BUILD', `--valid-for ${days}: expected a number of days above 0`);
  }
  const line = (bytes: Buffer, name: string) =>
    ` ${createHash('sha256').update(bytes).digest('hex')} ${String(bytes.length).padStart(16)} ${name}`;
  const date = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return Buffer.from(
    [
      `Date: ${formatRfc2822(date)}`,
      `Valid-Until: ${formatRfc2822(new Date(date.getTime() + days * DAY_MS))}`,
      'SHA256:',
      line(packages, 'Packages'),
      line(packagesGz, 'Packages.gz'),
      '',
    ].join('\n'),
  );
}

/**
 * Writes every file to a temporary name (fsynced), then renames them into place and removes the
 * index files this run did not write; on failure the temporary files go and nothing changes.
 */
async function putInPlace(
  dir: string,
  contents: ReadonlyMap<string, Buffer>,
): Promise<{ written: string[]; removed: string[] }> {
  const temps = new Map<string, string>();
  try {
    for (const [name, data] of contents) {
      const temp = join(dir, `.tmp-${name}.${process.pid}.${randomBytes(4).toString('hex')}`);
      temps.set(name, temp);
      const handle = await open(temp, 'wx', 0o644);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    const written: string[] = [];
    for (const name of INDEX_FILES) {
      const temp = temps.get(name);
      if (temp === undefined) continue;
      await rename(temp, join(dir, name));
      temps.delete(name);
      written.push(name);
    }
    const removed: string[] = [];
    for (const name of INDEX_FILES) {
      if (contents.has(name)) continue;
      try {
        await rm(join(dir, name));
        removed.push(name);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    return { written, removed };
  } catch (error) {
    if (error instanceof FeedError) throw error;
    throw new FeedError('FEED_INDEX_BUILD', `cannot write the index in ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await Promise.all([...temps.values()].map((temp) => rm(temp, { force: true })));
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
