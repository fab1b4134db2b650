// The `Packages` index of a feed: streaming parse (plain or gzip) into packages the resolver can use.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { type ControlFile, PACKAGE_NAME, parseVersion, printable } from '../format/index.js';
import { FeedError } from './errors.js';
import { parseRelations, type Relations } from './relations.js';
import { type Stanza, type StanzaLimits, StanzaReader } from './stanza-reader.js';

/** One package of a feed index: what the resolver and the download need, and every field as given. */
export interface FeedPackage extends Relations {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** Path of the package file relative to the feed's directory (`./` removed). */
  readonly filename: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the package file (`SHA256sum`, opkg, or `SHA256`, Debian). */
  readonly sha256: string;
  /** `Rollout: N`, percent of devices that may take this version (absent: all). */
  readonly rollout?: number;
  /** The stanza, every field in its order and spelling. */
  readonly control: ControlFile;
}

/** A stanza that was left out, and why (the rest of the index is still used). */
export interface IndexProblem {
  readonly line: number;
  readonly reason: string;
}

/** The packages of an index and the stanzas that could not be used. */
export interface PackagesIndex {
  readonly packages: readonly FeedPackage[];
  readonly problems: readonly IndexProblem[];
}

/** Limits of one index: sizes of lines, stanzas and the whole (uncompressed) text. */
export type IndexLimits = StanzaLimits;

const SHA256 = /^[0-9a-fA-F]{64}$/;
const SIZE = /^[0-9]{1,15}$/;
const ROLLOUT = /^(?:100(?:\.0+)?|[0-9]{1,2}(?:\.[0-9]+)?)$/;
const ARCHITECTURE = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * Turns one stanza into a package, or says why it cannot be used: a missing or malformed
 * `Package`, `Version`, `Architecture`, `Filename`, `Size` or SHA-256, or a relation that does not
 * parse. Such a stanza is left out, not the index: one bad package must not hide a whole feed.
 */
export function packageFromStanza(stanza: Stanza): FeedPackage | IndexProblem {
  const { line } = stanza;
  const control = stanza;
  const problem = (reason: string): IndexProblem => {
    const name = control.get('Package');
    return { line, reason: name === undefined ? reason : `${printable(name)}: ${reason}` };
  };
  const name = control.get('Package');
  if (name === undefined || name === '') return problem('no Package field');
  if (!PACKAGE_NAME.test(name) || name.length > 128) return problem('bad package name');
  const version = control.get('Version');
  if (version === undefined) return problem('no Version field');
  try {
    parseVersion(version);
  } catch (error) {
    return problem((error as Error).message);
  }
  const architecture = control.get('Architecture');
  if (architecture === undefined) return problem('no Architecture field');
  if (!ARCHITECTURE.test(architecture)) return problem(`bad Architecture "${printable(architecture)}"`);
  const rawFilename = control.get('Filename');
  if (rawFilename === undefined) return problem('no Filename field');
  const filename = safeFilename(rawFilename);
  if (filename === undefined) return problem(`unsafe Filename "${printable(rawFilename)}"`);
  const size = control.get('Size');
  if (size === undefined || !SIZE.test(size)) return problem('no Size field, or not a number');
  const sha256 = control.get('SHA256sum') ?? control.get('SHA256');
  if (sha256 === undefined) return problem('no SHA256sum (or SHA256) field');
  if (!SHA256.test(sha256)) return problem('SHA256sum is not 64 hex digits');
  const rollout = control.get('Rollout');
  if (rollout !== undefined && !ROLLOUT.test(rollout)) return problem('Rollout is not a percentage (0-100)');
  let relations: Relations;
  try {
    relations = parseRelations((field) => control.get(field));
  } catch (error) {
    return problem((error as Error).message);
  }
  return {
    name,
    version,
    architecture,
    filename,
    size: Number(size),
    sha256: sha256.toLowerCase(),
    ...(rollout === undefined ? {} : { rollout: Number(rollout) }),
    ...relations,
    // Every field as given, cut out of the stanza's text only when someone asks.
    get control() {
      return stanza.control;
    },
  };
}

/**
 * A `Filename` relative to the feed, or `undefined` if it could leave it: absolute, `..`, empty
 * segments, backslashes, control characters. `./` in front (dpkg-scanpackages writes it) is removed.
 */
export function safeFilename(text: string): string | undefined {
  const path = text.startsWith('./') ? text.slice(2) : text;
  if (path === '' || path.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(path)) return undefined;
  const segments = path.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return undefined;
  return path;
}

/**
 * A push parser of `Packages`: `push` each chunk of the uncompressed text, then `end`. Memory
 * holds the packages read and one stanza, never the whole text.
 */
export class PackagesIndexParser {
  private readonly reader: StanzaReader;
  private readonly packages: FeedPackage[] = [];
  private readonly problems: IndexProblem[] = [];

  constructor(limits: Partial<IndexLimits> = {}, what = 'Packages') {
    this.reader = new StanzaReader(what, limits);
  }

  /** Pushes the next chunk of text. */
  push(chunk: Uint8Array): void {
    this.take(this.reader.push(chunk));
  }

  /** Ends the text and returns the index. */
  end(): PackagesIndex {
    this.take(this.reader.end());
    return { packages: this.packages, problems: this.problems };
  }

  private take(stanzas: readonly Stanza[]): void {
    for (const stanza of stanzas) {
      const result = packageFromStanza(stanza);
      if ('reason' in result) this.problems.push(result);
      else this.packages.push(result);
    }
  }
}

/** Options of `parsePackagesIndex`. */
export interface ParseIndexOptions {
  readonly limits?: Partial<IndexLimits>;
  /** The input is gzip-compressed (`Packages.gz`); the limits apply to the uncompressed text. */
  readonly gzip?: boolean;
  /** How messages name the text (default `Packages`, or `Packages.gz`). */
  readonly what?: string;
}

/** Parses a whole `Packages` (or `Packages.gz`) read from a stream, a chunk at a time. */
export async function parsePackagesIndex(
  input: AsyncIterable<Uint8Array> | Uint8Array,
  options: ParseIndexOptions = {},
): Promise<PackagesIndex> {
  const what = options.what ?? (options.gzip ? 'Packages.gz' : 'Packages');
  const parser = new PackagesIndexParser(options.limits, what);
  const source = input instanceof Uint8Array ? chunksOf(input) : input;
  const chunks = options.gzip ? gunzipChunks(source, what) : source;
  for await (const chunk of chunks) parser.push(chunk);
  return parser.end();
}

/** Splits a buffer into 1 MiB views, so that a whole index in memory parses like a stream. */
export function* chunksOf(bytes: Uint8Array, size = 1024 * 1024): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

/**
 * Inflates gzip chunks as they come; corrupt or truncated data is a `FEED_BAD_INDEX` naming `what`
 * (an error of the source itself passes through). The consumer's limits bound the uncompressed
 * size: a gzip bomb stops there, since nothing is inflated ahead of what is read.
 */
export async function* gunzipChunks(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  what: string,
): AsyncGenerator<Buffer> {
  const gunzip = createGunzip();
  // Its failure reaches the loop below through `gunzip`; this only keeps it from going unhandled.
  const piping = pipeline(Readable.from(input, { objectMode: false }), gunzip).catch(() => {});
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code !== 'string' || !code.startsWith('Z_')) throw error;
    throw new FeedError('FEED_BAD_INDEX', `${what}: not valid gzip data (${(error as Error).message})`);
  } finally {
    gunzip.destroy();
    await piping;
  }
}
