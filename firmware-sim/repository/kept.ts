// The kept index of each feed (`var/lib/wmopkg/feeds/NAME/`): what its last good update took, and what failed since.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type PreparedFile,
  prepareFile,
  syncDirectory,
  TEMP_PREFIX,
  writeFilesAtomic,
} from '../../common/atomic.js';
import { randomBytes } from '../../common/lazy-crypto.js';
import type { FeedFreshness, FetchValidators } from '../api.js';
import { DeviceError } from '../errors.js';
import { faultPoint } from '../state/fault.js';
import type { Layout } from '../state/layout.js';
import { tempOwnerAlive } from '../state/lock.js';

/** The index files a feed's update keeps. */
export const KEPT_FILES = ['Packages', 'Packages.sig', 'Release', 'Release.sig'] as const;
/** One of them. */
export type KeptName = (typeof KEPT_FILES)[number];

/** A kept file: where it is in the feed's directory, what it is, what the server said of it. */
export interface KeptFile {
  readonly file: string;
  readonly sha256: string;
  readonly size: number;
  readonly validators?: FetchValidators;
}

/** The index an update took. */
export interface KeptIndex {
  /** When an update last took or confirmed it (ISO 8601). */
  readonly updatedAt: string;
  readonly packages: number;
  /** Stanzas left out, `line N: why`. */
  readonly skipped: readonly string[];
  readonly keyNumber: string;
  readonly freshness: FeedFreshness;
  /** Date of the last `Release` accepted (ISO 8601): an older one is refused as a rollback. */
  readonly accepted?: string;
  readonly files: Readonly<Partial<Record<KeptName, KeptFile>>> & { readonly Packages: KeptFile };
  /** `Packages.gz` as last fetched (only its hash and the server's validators: the file is not kept). */
  readonly gz?: { readonly sha256: string; readonly size: number; readonly validators?: FetchValidators };
  /** The package names of the index, one per line, sorted (TAB completion reads only this). */
  readonly names: string;
  /** The catalog of the index (catalog-file.ts): what plans read. Absent in states of earlier versions. */
  readonly catalog?: string;
  /** Its format (`CATALOG_FORMAT`); absent: format 3 or earlier. */
  readonly catalogFormat?: number;
}

/** `state.json` of a feed: written atomically, the commit point of an update. */
export interface KeptState {
  readonly format: 1;
  /** The URL the index came from: another URL for the same name starts afresh. */
  readonly url: string;
  readonly index?: KeptIndex;
  /** The last update failed (the index, if any, is the one before). */
  readonly failure?: { readonly at: string; readonly code: string; readonly message: string };
}

const STATE_FILE = 'state.json';

/** The directory of a feed's kept index. */
export function feedDir(layout: Layout, name: string): string {
  return join(layout.feedsDir, name);
}

/**
 * The kept state of a feed, when there is one for this URL (a state kept for another URL belongs to
 * a feed that had this name before). A state that does not parse is refused: its rollback rule
 * cannot be known, so it is not guessed (`no feed NAME` and `feed NAME URL` start afresh).
 */
export async function readKept(layout: Layout, name: string, url: string): Promise<KeptState | undefined> {
  const path = join(feedDir(layout, name), STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let state: KeptState;
  try {
    state = JSON.parse(text) as KeptState;
    if (state.format !== 1 || typeof state.url !== 'string') throw new Error('unknown format');
    if (state.index !== undefined && typeof state.index.files?.Packages?.file !== 'string')
      throw new Error('no Packages');
  } catch (error) {
    throw new DeviceError(
      'DEVICE_CORRUPT_STATE',
      `var/lib/wmopkg/feeds/${name}/${STATE_FILE}: ${(error as Error).message}; remove the feed (no feed ${name}) and add it again`,
    );
  }
  return state.url === url ? state : undefined;
}

/** Reads a kept file of a feed. */
export function readKeptFile(layout: Layout, name: string, file: KeptFile): Promise<Buffer> {
  return readFile(join(feedDir(layout, name), file.file));
}

/** A fresh file name for a kept file: `Packages.m1x2y3-4a5b`. */
export function newKeptName(base: string): string {
  return `${base}.${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Writes a feed's state (the caller holds the lock): every new file first (each atomically, fsynced),
 * then `state.json`, the commit point; then the files it no longer names go. A new file may come
 * already prepared (prepareKept).
 */
export async function writeKept(
  layout: Layout,
  name: string,
  state: KeptState,
  files: ReadonlyMap<string, Uint8Array | string | PreparedFile> = new Map(),
): Promise<void> {
  const dir = feedDir(layout, name);
  await mkdir(dir, { recursive: true });
  // The new files are fresh names that only the new state.json refers to: written at once, each
  // fsynced, and the directory fsynced once, before state.json (the commit point) is renamed into
  // place. Its temporary file is written and fsynced meanwhile: one round of fsyncs less, and
  // nothing is durable earlier than before.
  const stateFile = prepareFile(join(dir, STATE_FILE), `${JSON.stringify(state, null, 1)}\n`);
  try {
    await writeFilesAtomic(dir, files, () => faultPoint('update:file'));
    await stateFile.place();
    await syncDirectory(dir);
  } finally {
    await stateFile.discard();
  }
  faultPoint('update:state');
  const named = new Set<string>([STATE_FILE]);
  for (const file of Object.values(state.index?.files ?? {})) if (file) named.add(file.file);
  if (state.index) named.add(state.index.names);
  if (state.index?.catalog) named.add(state.index.catalog);
  for (const entry of await readdir(dir)) {
    // A temporary file goes only when its process is gone (one that runs may be preparing a file).
    const temporary = entry.startsWith(TEMP_PREFIX);
    if (!named.has(entry) && (!temporary || !tempOwnerAlive(entry)))
      await rm(join(dir, entry), { force: true });
  }
}

/**
 * Starts writing a new kept file of a feed under a fresh name (newKeptName), before the lock is
 * taken: writeKept puts it in place under the lock, or the caller discards it. The feed's directory
 * is made if it is missing.
 */
export async function prepareKept(
  layout: Layout,
  name: string,
  base: KeptName,
  data: Uint8Array,
): Promise<{ file: string; prepared: PreparedFile }> {
  const dir = feedDir(layout, name);
  await mkdir(dir, { recursive: true });
  const file = newKeptName(base);
  return { file, prepared: prepareFile(join(dir, file), data) };
}

/** Removes a feed's kept index (the caller holds the lock). */
export async function dropKept(layout: Layout, name: string): Promise<void> {
  await rm(feedDir(layout, name), { recursive: true, force: true });
}

/** The names file of a kept index, as a list (empty when the feed has none). */
export async function keptNames(
  layout: Layout,
  name: string,
  state: KeptState | undefined,
): Promise<string[]> {
  if (state?.index === undefined) return [];
  const text = await readFile(join(feedDir(layout, name), state.index.names), 'utf8').catch(() => '');
  return text.split('\n').filter((n) => n !== '');
}
