// The catalog and the names file of an index written straight from the byte ranges the scan found (scan.ts).
import { type CatalogRow, catalogBytes, formatCatalog, formatProvided } from './catalog-file.js';

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
 * plain (printable ASCII without `"`, `\` or a blank: its JSON is itself in quotes, and JSON order is
 * byte order) and the index lists them in order, as indexes are written, the rows are written as
 * bytes, with no string made per stanza: this and the one-pass scan took an update of 10,000
 * packages from about 250 ms to about 60 ms of scanning and writing here. Any other index goes
 * through formatCatalog, which sorts, with the same result.
 */
export function writeCatalog(
  bytes: Buffer,
  found: FoundStanzas,
): { packages: number; names: Buffer; catalog: Buffer } {
  const { fields, count } = found;
  let packages = 0;
  let bound = 0;
  let nameBytes = 0;
  let previous = -1;
  for (let s = 0; s < count * STRIDE; s += STRIDE) {
    if (fields[s + 2]! < 0) continue;
    // The name's range, trimmed in place.
    const start = trimStart(bytes, fields[s + 2]!, fields[s + 3]!);
    const end = trimEnd(bytes, start, fields[s + 3]!);
    fields[s + 2] = start;
    fields[s + 3] = end;
    if (!plain(bytes, start, end) || (previous >= 0 && compareNames(bytes, fields, previous, s) > 0))
      return slowCatalog(bytes, found);
    previous = s;
    packages++;
    nameBytes += end - start + 1;
    bound += 2 * (end - start) + 2 * span(fields, s + 4) + 2 * span(fields, s + 6) + 48;
  }
  const out = new Writer(bound);
  const names = new Writer(nameBytes);
  const provided: Array<readonly [string, string, number, number, string]> = [];
  previous = -1;
  for (let s = 0; s < count * STRIDE; s += STRIDE) {
    if (fields[s + 2]! < 0) continue;
    const start = fields[s + 2]!;
    const end = fields[s + 3]!;
    // `"name"\t["name","version",start,end,"provides"]\n`, as JSON.stringify writes them.
    out.byte(QUOTE);
    out.copy(bytes, start, end);
    out.byte(QUOTE);
    out.byte(TAB);
    out.byte(0x5b); // [
    out.byte(QUOTE);
    out.copy(bytes, start, end);
    out.byte(QUOTE);
    out.byte(0x2c); // ,
    out.json(bytes, fields[s + 4]!, fields[s + 5]!);
    out.byte(0x2c);
    out.number(fields[s]!);
    out.byte(0x2c);
    out.number(fields[s + 1]!);
    out.byte(0x2c);
    out.json(bytes, fields[s + 6]!, fields[s + 7]!);
    out.byte(0x5d); // ]
    out.byte(0x0a);
    if (previous < 0 || compareNames(bytes, fields, previous, s) !== 0) {
      names.copy(bytes, start, end);
      names.byte(0x0a);
    }
    previous = s;
    if (fields[s + 6]! >= 0) addProvided(provided, bytes, fields, s);
  }
  return { packages, names: names.bytes(), catalog: catalogBytes(out.bytes(), formatProvided(provided)) };
}

/** A row's provided names for formatProvided (rare: a few in a hundred packages provide a name). */
function addProvided(
  provided: Array<readonly [string, string, number, number, string]>,
  bytes: Buffer,
  fields: Int32Array,
  s: number,
): void {
  const provides = bytes.toString('utf8', fields[s + 6], fields[s + 7]).trim();
  if (provides !== '')
    provided.push([bytes.toString('latin1', fields[s + 2], fields[s + 3]), '', 0, 0, provides]);
}

/** A buffer filled from the start. */
class Writer {
  private readonly buffer: Buffer;
  private at = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  byte(b: number): void {
    this.buffer[this.at++] = b;
  }

  /** Bytes `[start, end)` of `from` (short: a loop costs less than a native call). */
  copy(from: Buffer, start: number, end: number): void {
    for (let k = start; k < end; k++) this.buffer[this.at++] = from[k]!;
  }

  /** A decimal number. */
  number(value: number): void {
    let digits = 1;
    for (let x = value; x >= 10; x = Math.floor(x / 10)) digits++;
    for (let k = this.at + digits - 1, x = value; k >= this.at; k--, x = Math.floor(x / 10))
      this.buffer[k] = 0x30 + (x % 10);
    this.at += digits;
  }

  /** The JSON string of the value at `[start, end)`, trimmed as `trim` does (`""` for -1: absent). */
  json(from: Buffer, start: number, end: number): void {
    const s = start < 0 ? 0 : trimStart(from, start, end);
    const e = start < 0 ? 0 : trimEnd(from, s, end);
    if (s < e && (from[s]! >= 0x80 || from[e - 1]! >= 0x80)) {
      this.at += this.buffer.write(JSON.stringify(from.toString('utf8', start, end).trim()), this.at);
      return;
    }
    this.byte(QUOTE);
    for (let k = s; k < e; k++) {
      const b = from[k]!;
      if (b === QUOTE || b === BACKSLASH) this.byte(BACKSLASH);
      else if (b === TAB) {
        this.byte(BACKSLASH);
        this.byte(0x74); // t
        continue;
      }
      this.byte(b);
    }
    this.byte(QUOTE);
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.at);
  }
}

/** The same result through strings and formatCatalog: names out of order, or not plain. */
function slowCatalog(
  bytes: Buffer,
  found: FoundStanzas,
): { packages: number; names: Buffer; catalog: Buffer } {
  const { fields, count } = found;
  const text = (start: number, end: number) => (start < 0 ? '' : bytes.toString('utf8', start, end).trim());
  const rows: CatalogRow[] = [];
  const names = new Set<string>();
  for (let i = 0; i < count; i++) {
    const s = i * STRIDE;
    if (fields[s + 2]! < 0) continue;
    const name = text(fields[s + 2]!, fields[s + 3]!);
    names.add(name);
    rows.push([
      name,
      text(fields[s + 4]!, fields[s + 5]!),
      fields[s]!,
      fields[s + 1]!,
      text(fields[s + 6]!, fields[s + 7]!),
    ]);
  }
  const sorted = [...names].sort();
  return {
    packages: rows.length,
    names: Buffer.from(sorted.length === 0 ? '' : `${sorted.join('\n')}\n`),
    catalog: formatCatalog(rows),
  };
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

function span(fields: Int32Array, s: number): number {
  return fields[s]! < 0 ? 0 : fields[s + 1]! - fields[s]!;
}
