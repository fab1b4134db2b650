// The catalog and the names file of an index written straight from the byte ranges the scan found (scan.ts).
import { type CatalogEntry, catalogBytes, formatCatalog, formatProvided } from './catalog-file.js';

/** What an update keeps of an index besides the file itself. */
export interface IndexSummary {
  /** Stanzas with a package name. */
  readonly packages: number;
  /** The names file: each name once, sorted, one a line (empty without packages). */
  readonly names: Buffer;
  /** Stanzas left out: `line N: why`. */
  readonly skipped: readonly string[];
  /** The catalog file (catalog-file.ts): what a plan reads instead of parsing the whole index. */
  readonly catalog: Buffer;
}

/**
 * What the scan found, 8 numbers a stanza in `fields`: its start and end, then the start and end of
 * the first lines of its `Package`, `Version` and `Provides` values (-1 where absent; a `Package`
 * start of -1 also marks a stanza left out).
 */
export interface FoundStanzas {
  readonly fields: Int32Array;
  readonly count: number;
}

const STRIDE = 8;
const TAB = 0x09;
const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The catalog file (catalog-file.ts) and the names file for the stanzas found. When every name is
 * plain (printable ASCII without `"`, `\` or a blank) and the index lists them in order, as indexes
 * are written, the table is the stanzas' own numbers and the names are copied as bytes, with no
 * string made per stanza. Any other index goes through formatCatalog, which sorts, with the same
 * result.
 */
export function writeCatalog(
  bytes: Buffer,
  found: FoundStanzas,
): { packages: number; names: Buffer; catalog: Buffer } {
  const { fields, count } = found;
  let packages = 0;
  let nameBytes = 0;
  let previous = -1;
  for (let s = 0; s < count * STRIDE; s += STRIDE) {
    if (fields[s + 2]! < 0) continue;
    // The name's range, trimmed in place.
    const start = trimStart(bytes, fields[s + 2]!, fields[s + 3]!);
    const end = trimEnd(bytes, start, fields[s + 3]!);
    fields[s + 2] = start;
    fields[s + 3] = end;
    const order = previous < 0 ? -1 : compareNames(bytes, fields, previous, s);
    if (!plain(bytes, start, end) || order > 0) return slowCatalog(bytes, found);
    if (order < 0) nameBytes += end - start + 1;
    previous = s;
    packages++;
  }
  const table = new Int32Array(packages * 4);
  const names = Buffer.allocUnsafe(nameBytes);
  const provided: Array<{ name: string; provides: string }> = [];
  let row = 0;
  let at = 0;
  previous = -1;
  for (let s = 0; s < count * STRIDE; s += STRIDE) {
    if (fields[s + 2]! < 0) continue;
    const start = fields[s + 2]!;
    const end = fields[s + 3]!;
    if (previous < 0 || compareNames(bytes, fields, previous, s) !== 0) {
      bytes.copy(names, at, start, end);
      at += end - start;
      names[at++] = 0x0a;
    }
    table[row * 4] = fields[s]!;
    table[row * 4 + 1] = fields[s + 1]!;
    table[row * 4 + 2] = at - (end - start) - 1;
    table[row * 4 + 3] = end - start;
    row++;
    previous = s;
    if (fields[s + 6]! >= 0) addProvided(provided, bytes, fields, s);
  }
  return { packages, names, catalog: catalogBytes(table, packages, names, formatProvided(provided)) };
}

/** A row's provided names for formatProvided (rare: a few in a hundred packages provide a name). */
function addProvided(
  provided: Array<{ name: string; provides: string }>,
  bytes: Buffer,
  fields: Int32Array,
  s: number,
): void {
  const provides = bytes.toString('utf8', fields[s + 6], fields[s + 7]).trim();
  if (provides !== '')
    provided.push({ name: bytes.toString('latin1', fields[s + 2], fields[s + 3]), provides });
}

/** The same result through strings and formatCatalog: names out of order, or not plain. */
function slowCatalog(
  bytes: Buffer,
  found: FoundStanzas,
): { packages: number; names: Buffer; catalog: Buffer } {
  const { fields, count } = found;
  const text = (start: number, end: number) => (start < 0 ? '' : bytes.toString('utf8', start, end).trim());
  const entries: CatalogEntry[] = [];
  for (let i = 0; i < count; i++) {
    const s = i * STRIDE;
    if (fields[s + 2]! < 0) continue;
    entries.push({
      name: text(fields[s + 2]!, fields[s + 3]!),
      start: fields[s]!,
      end: fields[s + 1]!,
      provides: text(fields[s + 6]!, fields[s + 7]!),
    });
  }
  return { packages: entries.length, ...formatCatalog(entries) };
}

/**
 * Whether the value `[start, end)` is empty once trimmed as JavaScript's `trim` would (`undefined`:
 * it cannot tell without decoding, a byte beyond ASCII at an edge).
 */
export function blankValue(bytes: Buffer, start: number, end: number): boolean | undefined {
  const range = trimmed(bytes, start, end);
  return range === undefined ? undefined : range[0] === range[1];
}

function trimStart(bytes: Buffer, start: number, end: number): number {
  while (start < end && (bytes[start] === SPACE || bytes[start] === TAB)) start++;
  return start;
}

function trimEnd(bytes: Buffer, start: number, end: number): number {
  while (end > start && (bytes[end - 1] === SPACE || bytes[end - 1] === TAB)) end--;
  return end;
}

/** `[start, end)` without its blanks at both ends, or `undefined` when an edge is not ASCII (see blankValue). */
function trimmed(bytes: Buffer, start: number, end: number): [number, number] | undefined {
  const s = trimStart(bytes, start, end);
  const e = trimEnd(bytes, s, end);
  return s < e && (bytes[s]! >= 0x80 || bytes[e - 1]! >= 0x80) ? undefined : [s, e];
}

/** Printable ASCII other than `"`, `\` and space, and not empty. */
function plain(bytes: Buffer, start: number, end: number): boolean {
  if (start === end) return false;
  for (let k = start; k < end; k++) {
    const b = bytes[k]!;
    if (b <= QUOTE || b >= 0x7f || b === BACKSLASH) return false;
  }
  return true;
}

/** The order of the names of the stanzas at `a` and `b` in `fields` (byte order: negative, 0, positive). */
function compareNames(bytes: Buffer, fields: Int32Array, a: number, b: number): number {
  const aStart = fields[a + 2]!;
  const bStart = fields[b + 2]!;
  const aLength = fields[a + 3]! - aStart;
  const bLength = fields[b + 3]! - bStart;
  for (let k = 0; k < aLength && k < bLength; k++) {
    const d = bytes[aStart + k]! - bytes[bStart + k]!;
    if (d !== 0) return d;
  }
  return aLength - bLength;
}
