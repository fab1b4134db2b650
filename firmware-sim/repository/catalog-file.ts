// The catalog an update keeps beside a feed's index: where each stanza is, its name, version and what it
// provides, sorted so that a plan finds a name by binary search and reads in full only the stanzas it reaches.
import { endianness } from 'node:os';
import {
  type FeedEntry,
  type FeedPackage,
  type IndexProblem,
  type PackageSource,
  packageFromStanza,
  StanzaReader,
} from '../feeds/index.js';

/** One stanza of the index as a plan looks it up: its name and its byte range in `Packages`. */
export type CatalogRow = [name: string, start: number, end: number];

/** A stanza for formatCatalog: its name, its byte range, and its `Provides` as written ('' for none). */
export interface CatalogEntry {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly provides: string;
}

/**
 * The file, in four parts:
 * - a JSON header line, `["edgesh-catalog",4,"LE",ROWS,NAMES]` (the byte order of the numbers, the
 *   row count, the size of the names), padded with blanks so that the table starts at a multiple of 4;
 * - the table: 4 signed 32-bit numbers a row, in that byte order: the stanza's start and end in
 *   `Packages`, where its name is among the names and its length; rows sorted by name (UTF-8 bytes),
 *   the index's order kept among equal names;
 * - the names: each once, sorted the same way, an LF after each (the names file's text);
 * - the provided names: `"provided" TAB "name"` (JSON) a line, sorted by the provided name, each pair
 *   once.
 * Numbers rather than text, because an update writes a row for every stanza of the index in
 * JavaScript that runs once, cold: rows of JSON text (format 3) cost it 50-60 ms for 10,000 packages,
 * about as much as finding the stanzas, and the table is the scan's own numbers. A catalog is read
 * only on the device that wrote it (another byte order is refused, and an index without a readable
 * catalog gets one in memory).
 */
const VERSION = 4;
/** The catalog format this version writes and reads: a kept catalog of another is written again by the next update. */
export const CATALOG_FORMAT = VERSION;
const ENDIAN = endianness();
const MARK = '["edgesh-catalog",';
const TAB = 0x09;
const LF = 0x0a;
/** Numbers a row in the table. */
const ROW = 4;
/** Where a provided name ends: a blank or the version in parentheses. */
const PROVIDED_NAME_END = /[\s(]/;

/** The names a `Provides` value gives, cut cheaply: a name the full parse would not give is harmless (providersOf checks). */
function providedNames(provides: string): string[] {
  const out: string[] = [];
  for (const item of provides.split(',')) {
    const provided = item.trim().split(PROVIDED_NAME_END, 1)[0]!;
    if (provided !== '' && !out.includes(provided)) out.push(provided);
  }
  return out;
}

/**
 * Lines sorted by their keys' UTF-8 bytes, keeping the given order among equal keys. That is code
 * point order, which JavaScript's comparison of strings (UTF-16 units) gives unless a key has a
 * character outside the BMP: then the keys are compared as bytes. Keys already in order cost one pass.
 */
function sortedLines(keys: readonly string[], lines: readonly string[]): string {
  return sortedOrder(keys)
    .map((i) => lines[i]!)
    .join('');
}

/** The indexes of `keys` in the order of their UTF-8 bytes, stable. */
function sortedOrder(keys: readonly string[]): number[] {
  const order = keys.map((_, i) => i);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1]! <= keys[i]!;
  const wide = keys.some((k) => SURROGATE.test(k));
  if (sorted && !wide) return order;
  if (wide) {
    const bytes = keys.map((k) => Buffer.from(k));
    return order.sort((a, b) => Buffer.compare(bytes[a]!, bytes[b]!) || a - b);
  }
  return order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : a - b));
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** The catalog file and the names file of the index's stanzas, given in index order. */
export function formatCatalog(entries: readonly CatalogEntry[]): { catalog: Buffer; names: Buffer } {
  const order = sortedOrder(entries.map((e) => e.name));
  const table = new Int32Array(entries.length * ROW);
  const names: Buffer[] = [];
  let size = 0;
  let last: string | undefined;
  for (const [row, i] of order.entries()) {
    const entry = entries[i]!;
    const name = Buffer.from(entry.name);
    if (entry.name !== last) {
      names.push(name, Buffer.of(LF));
      size += name.length + 1;
      last = entry.name;
    }
    table.set([entry.start, entry.end, size - name.length - 1, name.length], row * ROW);
  }
  const text = Buffer.concat(names, size);
  return { catalog: catalogBytes(table, entries.length, text, formatProvided(entries)), names: text };
}

/**
 * The catalog file made of its table (`rows` rows, sorted), its names and its sorted provided pairs
 * (formatProvided).
 */
export function catalogBytes(table: Int32Array, rows: number, names: Buffer, pairs: string): Buffer {
  let header = `${MARK}${VERSION},"${ENDIAN}",${rows},${names.length}]`;
  header += ' '.repeat(3 - (header.length % 4));
  const numbers = Buffer.from(table.buffer, table.byteOffset, rows * ROW * 4);
  return Buffer.concat([Buffer.from(`${header}\n`), numbers, names, Buffer.from(pairs)]);
}

/** The provided names' lines of the catalog, sorted, for the stanzas' `Provides` in index order. */
export function formatProvided(
  entries: Iterable<{ readonly name: string; readonly provides: string }>,
): string {
  const providedKeys: string[] = [];
  const providedLines: string[] = [];
  const seen = new Set<string>();
  for (const { name, provides } of entries) {
    if (provides === '') continue;
    const key = JSON.stringify(name);
    for (const p of providedNames(provides)) {
      const pKey = JSON.stringify(p);
      const line = `${pKey}\t${key}\n`;
      // Each pair once, the first kept.
      if (seen.has(line)) continue;
      seen.add(line);
      providedKeys.push(pKey);
      providedLines.push(line);
    }
  }
  return sortedLines(providedKeys, providedLines);
}

/** A catalog file read for lookups; throws on anything but the format written here. */
export class CatalogFile {
  private readonly table: Int32Array;
  private readonly count: number;
  private readonly namesStart: number;
  private readonly pairsStart: number;

  constructor(private readonly bytes: Buffer) {
    const newline = bytes.subarray(0, 128).indexOf(LF);
    let header: unknown;
    try {
      header = JSON.parse(bytes.toString('latin1', 0, newline));
    } catch {
      header = undefined;
    }
    const [mark, version, endian, rows, names] = Array.isArray(header) ? header : [];
    const start = newline + 1;
    if (
      mark !== 'edgesh-catalog' ||
      version !== VERSION ||
      endian !== ENDIAN ||
      !Number.isSafeInteger(rows) ||
      !Number.isSafeInteger(names) ||
      rows < 0 ||
      names < 0 ||
      start % 4 !== 0 ||
      start + rows * ROW * 4 + names > bytes.length
    )
      throw new Error('not a catalog of this version');
    const offset = bytes.byteOffset + start;
    // A view where the numbers are aligned (a file read whole is), else a copy.
    this.table =
      offset % 4 === 0
        ? new Int32Array(bytes.buffer, offset, rows * ROW)
        : new Int32Array(Uint8Array.from(bytes.subarray(start, start + rows * ROW * 4)).buffer);
    this.count = rows;
    this.namesStart = start + rows * ROW * 4;
    this.pairsStart = this.namesStart + names;
  }

  /** The rows of `name`, in index order. */
  rowsOf(name: string): CatalogRow[] {
    const target = Buffer.from(name);
    // Binary search for the first row whose name is not below `target`.
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(target, mid) > 0) lo = mid + 1;
      else hi = mid;
    }
    const out: CatalogRow[] = [];
    for (let row = lo; row < this.count && this.compare(target, row) === 0; row++)
      out.push(this.row(row, name));
    return out;
  }

  /** The names of the packages whose `Provides` names `provided`, in index order. */
  providersOf(provided: string): string[] {
    return this.lines(this.pairsStart, this.bytes.length, JSON.stringify(provided)).map((line) => {
      const name = JSON.parse(line.slice(line.indexOf('\t') + 1));
      if (typeof name !== 'string') throw new Error('a damaged catalog line');
      return name;
    });
  }

  /** Every row, in the file's order (by name). */
  rows(): CatalogRow[] {
    const out: CatalogRow[] = [];
    for (let row = 0; row < this.count; row++) out.push(this.row(row, this.nameAt(row).toString()));
    return out;
  }

  /** Row `row` of the table, with its name. */
  private row(row: number, name: string): CatalogRow {
    const start = this.table[row * ROW]!;
    const end = this.table[row * ROW + 1]!;
    if (start < 0 || end < start) throw new Error('a damaged catalog row');
    return [name, start, end];
  }

  /** The name of row `row`, as bytes. */
  private nameAt(row: number): Buffer {
    const at = this.namesStart + this.table[row * ROW + 2]!;
    const end = at + this.table[row * ROW + 3]!;
    if (at < this.namesStart || end < at || end > this.pairsStart) throw new Error('a damaged catalog row');
    return this.bytes.subarray(at, end);
  }

  /** `target` against the name of row `row` (negative, 0, positive). */
  private compare(target: Buffer, row: number): number {
    return Buffer.compare(target, this.nameAt(row));
  }

  /** The lines of the sorted region [from, to) whose first field is `key` (each without its newline). */
  private lines(from: number, to: number, key: string): string[] {
    const target = Buffer.from(key);
    const { bytes } = this;
    // Binary search for the first line whose key is not below `target`; `lo` and `hi` are line starts.
    let lo = from;
    let hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const before = mid > lo ? bytes.lastIndexOf(LF, mid - 1) : -1;
      const start = before < lo ? lo : before + 1;
      const end = bytes.indexOf(LF, start);
      const tab = bytes.indexOf(TAB, start);
      if (bytes.compare(target, 0, target.length, start, tab < 0 || tab > end ? end : tab) < 0) lo = end + 1;
      else hi = start;
    }
    const out: string[] = [];
    for (let at = lo; at < to; ) {
      const end = bytes.indexOf(LF, at);
      const tab = bytes.indexOf(TAB, at);
      if (tab < 0 || tab > end || bytes.compare(target, 0, target.length, at, tab) !== 0) break;
      out.push(bytes.toString('utf8', at, end));
      at = end + 1;
    }
    return out;
  }
}

/** One feed's kept index as a plan reads it: its catalog, and a reader of byte ranges of its `Packages`. */
export interface CatalogFeed {
  readonly name: string;
  readonly catalog: CatalogFile;
  /** The bytes of `Packages` from `start` to `end`. */
  readonly read: (start: number, end: number) => Buffer;
}

/**
 * The feeds' packages for the resolver, read lazily: a name's rows are found in each feed's catalog
 * and its stanzas read and parsed in full (with the index parser's rules) the first time the
 * resolver asks for that name, so that a plan over 10,000 packages reads the few dozen it reaches
 * and nothing is built for the others. A stanza that the parser refuses then is left out, as it
 * would have been at a full read, and named in `problems`.
 */
export class CatalogSource implements PackageSource {
  private readonly parsed = new Map<string, FeedEntry[]>();
  /** Stanzas left out when they were read: `feed main: a stanza left out: b: no Filename field`. */
  readonly problems: string[] = [];

  constructor(private readonly feeds: readonly CatalogFeed[]) {}

  versionsOf(name: string): readonly FeedEntry[] {
    let entries = this.parsed.get(name);
    if (entries !== undefined) return entries;
    entries = [];
    const versions: string[] = [];
    for (const feed of this.feeds) {
      for (const row of this.lookUp(feed, () => feed.catalog.rowsOf(name))) {
        const pkg = readStanza(feed, row);
        if ('reason' in pkg) this.problems.push(`feed ${feed.name}: a stanza left out: ${pkg.reason}`);
        else if (pkg.name === name && !versions.includes(pkg.version)) {
          // The first feed wins for the same name and version (as the universe of a full read).
          versions.push(pkg.version);
          entries.push({ feed: feed.name, package: pkg });
        }
      }
    }
    this.parsed.set(name, entries);
    return entries;
  }

  providersOf(name: string): readonly FeedEntry[] {
    const providers: string[] = [];
    for (const feed of this.feeds)
      for (const who of this.lookUp(feed, () => feed.catalog.providersOf(name)))
        if (!providers.includes(who)) providers.push(who);
    const out: FeedEntry[] = [];
    for (const provider of providers) {
      for (const entry of this.versionsOf(provider)) {
        if (entry.package.provides.some((p) => p.name === name)) out.push(entry);
      }
    }
    return out;
  }

  /** A lookup in a feed's catalog; a damaged catalog gives nothing and is named in `problems`. */
  private lookUp<T>(feed: CatalogFeed, task: () => T[]): T[] {
    try {
      return task();
    } catch (error) {
      const problem = `feed ${feed.name}: its catalog cannot be read (${(error as Error).message}); run update`;
      if (!this.problems.includes(problem)) this.problems.push(problem);
      return [];
    }
  }
}

/** Parses one stanza of a kept index, where the catalog says it is. */
function readStanza(feed: CatalogFeed, row: CatalogRow): FeedPackage | IndexProblem {
  const [, start, end] = row;
  const reader = new StanzaReader('Packages');
  try {
    const stanzas = [...reader.push(feed.read(start, end)), ...reader.end()];
    const stanza = stanzas[0];
    if (stanza === undefined) return { line: 0, reason: `${row[0]}: the catalog points at no stanza` };
    return packageFromStanza(stanza);
  } catch (error) {
    return { line: 0, reason: `${row[0]}: ${(error as Error).message}` };
  }
}
