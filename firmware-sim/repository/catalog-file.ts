// The catalog an update keeps beside a feed's index: where each stanza is, its name, version and what it
// provides, sorted so that a plan finds a name by binary search and reads in full only the stanzas it reaches.
import {
  type FeedEntry,
  type FeedPackage,
  type IndexProblem,
  type PackageSource,
  packageFromStanza,
  StanzaReader,
} from '../feeds/index.js';

/** One stanza of the index: Package, Version, its byte range in `Packages`, and `Provides` as written. */
export type CatalogRow = [name: string, version: string, start: number, end: number, provides: string];

/**
 * The file: a JSON header line `["edgesh-catalog",3,ROWS]`, then ROWS bytes of rows, one a line,
 * `"name" TAB ["name","version",start,end,"provides"]` (JSON; a JSON text holds no raw tab or
 * newline), sorted by the JSON of the name (UTF-8 bytes, the index's order kept among equal names),
 * then the provided names, `"provided" TAB "name"` a line, sorted the same way, each pair once. JSON
 * because V8 writes it natively: the same lines made by concatenation cost an update 30-70 ms for
 * 10,000 packages, mostly in turning numbers into text.
 */
const VERSION = 3;
const MARK = `["edgesh-catalog",${VERSION},`;
const TAB = 0x09;
const LF = 0x0a;
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
 * character outside the BMP: then the keys are compared as bytes. Keys already in order (an index
 * is usually sorted by name) cost one pass.
 */
function sortedLines(keys: readonly string[], lines: readonly string[]): string {
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1]! <= keys[i]!;
  const wide = keys.some((k) => SURROGATE.test(k));
  if (sorted && !wide) return lines.join('');
  const order = keys.map((_, i) => i);
  if (wide) {
    const bytes = keys.map((k) => Buffer.from(k));
    order.sort((a, b) => Buffer.compare(bytes[a]!, bytes[b]!) || a - b);
  } else {
    order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : a - b));
  }
  return order.map((i) => lines[i]!).join('');
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** The catalog file's bytes for the index's rows, in index order. */
export function formatCatalog(rows: readonly CatalogRow[]): Buffer {
  const keys: string[] = [];
  const lines: string[] = [];
  for (const row of rows) {
    const key = JSON.stringify(row[0]);
    keys.push(key);
    lines.push(`${key}\t${JSON.stringify(row)}\n`);
  }
  return catalogBytes(Buffer.from(sortedLines(keys, lines)), formatProvided(rows));
}

/** The catalog file made of its sorted rows (`body`) and its sorted provided pairs (formatProvided). */
export function catalogBytes(body: Buffer, pairs: string): Buffer {
  return Buffer.concat([Buffer.from(`${MARK}${body.length}]\n`), body, Buffer.from(pairs)]);
}

/** The provided names' lines of the catalog, sorted, for rows `[name, …, provides]` in index order. */
export function formatProvided(rows: Iterable<readonly [string, ...unknown[]]>): string {
  const providedKeys: string[] = [];
  const providedLines: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const provides = row[4];
    if (typeof provides !== 'string' || provides === '') continue;
    const key = JSON.stringify(row[0]);
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

/** The value after a line's key, as JSON. */
function lineValue(line: string): unknown {
  return JSON.parse(line.slice(line.indexOf('\t') + 1));
}

function rowOf(line: string): CatalogRow {
  const row = lineValue(line);
  if (
    !Array.isArray(row) ||
    row.length !== 5 ||
    typeof row[0] !== 'string' ||
    typeof row[1] !== 'string' ||
    !Number.isSafeInteger(row[2]) ||
    !Number.isSafeInteger(row[3]) ||
    typeof row[4] !== 'string'
  )
    throw new Error('a damaged catalog line');
  return row as CatalogRow;
}

/** A catalog file read for lookups; throws on anything but the format written here. */
export class CatalogFile {
  private readonly rowsStart: number;
  private readonly rowsEnd: number;

  constructor(private readonly bytes: Buffer) {
    const newline = bytes.indexOf(LF);
    const header = bytes.toString('utf8', 0, newline < 0 ? Math.min(bytes.length, 64) : newline);
    const size =
      header.startsWith(MARK) && header.endsWith(']') ? Number(header.slice(MARK.length, -1)) : Number.NaN;
    if (!Number.isSafeInteger(size) || size < 0 || newline + 1 + size > bytes.length)
      throw new Error('not a catalog of this version');
    this.rowsStart = newline + 1;
    this.rowsEnd = this.rowsStart + size;
  }

  /** The rows of `name`, in index order. */
  rowsOf(name: string): CatalogRow[] {
    return this.lines(this.rowsStart, this.rowsEnd, JSON.stringify(name)).map(rowOf);
  }

  /** The names of the packages whose `Provides` names `provided`, in index order. */
  providersOf(provided: string): string[] {
    return this.lines(this.rowsEnd, this.bytes.length, JSON.stringify(provided)).map((line) => {
      const name = lineValue(line);
      if (typeof name !== 'string') throw new Error('a damaged catalog line');
      return name;
    });
  }

  /** Every row, in the file's order (by name). */
  rows(): CatalogRow[] {
    const text = this.bytes.toString('utf8', this.rowsStart, this.rowsEnd);
    return text === '' ? [] : text.slice(0, -1).split('\n').map(rowOf);
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
        // The first feed wins for the same name and version (as the universe of a full read).
        if (versions.includes(row[1])) continue;
        versions.push(row[1]);
        const pkg = readStanza(feed, row);
        if ('reason' in pkg) this.problems.push(`feed ${feed.name}: a stanza left out: ${pkg.reason}`);
        else if (pkg.name === name) entries.push({ feed: feed.name, package: pkg });
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
  const [, , start, end] = row;
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
