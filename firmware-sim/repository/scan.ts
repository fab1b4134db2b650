// A pass over a fetched `Packages` that keeps little of it: whether it reads, its names, and its catalog.
import { isUtf8 } from 'node:buffer';
import { DEFAULT_STANZA_LIMITS, FeedError } from '../feeds/index.js';
import { printable } from '../format/index.js';
import { blankValue, type FoundStanzas, type IndexSummary, writeCatalog } from './catalog-bytes.js';
import { scanIndexFast } from './scan-fast.js';

export type { IndexSummary } from './catalog-bytes.js';

const LIMITS = DEFAULT_STANZA_LIMITS;
const LF = 0x0a;
const TAB = 0x09;
const SPACE = 0x20;
const COLON = 0x3a;
/** The kept fields' names in lower case, as bytes. */
const PACKAGE = Buffer.from('package');
const VERSION = Buffer.from('version');
const PROVIDES = Buffer.from('provides');

/** Why the scan refuses the index, and where (a byte offset, for the line number). */
type Refuse = (code: 'FEED_BAD_INDEX' | 'FEED_TOO_LARGE', at: number | undefined, why: string) => never;

/**
 * Checks the whole index against the rules that refuse it whole (docs/feeds.md): its size, UTF-8,
 * no control character, no line longer than the limit, every line a field, a continuation or a
 * separator, no continuation before a field, no stanza over its limit. Then finds each stanza's
 * `Package`, `Version` and `Provides` and where it is, and writes the catalog and the names file.
 * Not a parse: the fields of a stanza are parsed, with the index parser and its rules (which also
 * refuse a field given twice), when a plan first reaches it (catalog-file.ts), and a stanza it
 * refuses then is left out, as a full parse would. So an update of a 10,000-package feed neither
 * parses nor holds 10,000 packages. The pass by regular expression (scan-fast.ts) answers for
 * indexes as tools write them; the byte loop below for every other, and says what is wrong.
 */
export function scanIndex(bytes: Buffer): IndexSummary {
  if (bytes.length > LIMITS.maxTotalBytes)
    throw new FeedError('FEED_TOO_LARGE', `Packages: larger than ${LIMITS.maxTotalBytes} bytes`);
  return scanIndexFast(bytes, LIMITS.maxLineBytes) ?? scanIndexChecked(bytes);
}

/**
 * scanIndex by the byte loop: the reference for scanIndexFast (scan-fast.ts), and what runs where
 * that pass cannot vouch for its answer (an index it refuses, odd names, stanzas left out). One
 * pass over the bytes does the checks and finds the stanzas (it made 4 regular-expression passes
 * over Latin-1 slices before, about 3 times as long with the strings they left to collect).
 */
export function scanIndexChecked(bytes: Buffer): IndexSummary {
  const refuse: Refuse = (code, at, why) => {
    const where = at === undefined ? '' : ` line ${lineAt(bytes, at)}`;
    throw new FeedError(code, `Packages${where}: ${why}`);
  };
  if (bytes.length > LIMITS.maxTotalBytes)
    refuse('FEED_TOO_LARGE', undefined, `larger than ${LIMITS.maxTotalBytes} bytes`);
  // The pass checks UTF-8 and control characters as it goes; an index is refused for either (in
  // this order) before any other rule, wherever it is.
  const found = findStanzas(bytes, (code, at, why) => {
    if (!isUtf8(bytes)) refuse('FEED_BAD_INDEX', undefined, 'not valid UTF-8');
    const control = firstControl(bytes, 0);
    if (control >= 0) refuseControl(bytes, control, refuse);
    return refuse(code, at, why);
  });
  const skipped: string[] = [];
  const { fields } = found;
  for (let s = 0; s < found.count * STRIDE; s += STRIDE) {
    const start = fields[s]!;
    const nameStart = fields[s + 2]!;
    const nameEnd = fields[s + 3]!;
    if (fields[s + 1]! - start > LIMITS.maxStanzaBytes) {
      const name = nameStart < 0 ? '' : bytes.toString('utf8', nameStart, nameEnd).trim();
      refuse(
        'FEED_TOO_LARGE',
        start,
        `stanza${name ? ` of ${printable(name)}` : ''} larger than ${LIMITS.maxStanzaBytes} bytes`,
      );
    }
    const named =
      nameStart >= 0 &&
      !(blankValue(bytes, nameStart, nameEnd) ?? bytes.toString('utf8', nameStart, nameEnd).trim() === '');
    if (!named || fields[s + 4]! < 0) {
      skipped.push(`line ${lineAt(bytes, start)}: no ${named ? 'Version' : 'Package'} field`);
      fields[s + 2] = -1;
    }
  }
  const { packages, names, catalog } = writeCatalog(bytes, found);
  return { packages, names, skipped, catalog };
}

/** Numbers kept per stanza in `FoundStanzas.fields` (see there). */
const STRIDE = 8;

/**
 * The one pass: each line is read once, byte by byte, refusing a control character (other than tab
 * and LF), and told apart by its first bytes: a blank line ends a stanza, a continuation must follow
 * a field, anything else must be `Field:` with a valid field name (`[A-Za-z0-9][!-9;-~]*`). A
 * stanza runs from its first field line to the end of its last line (the LF not included); of its
 * fields, the first `Package`, `Version` and `Provides` (any case) are kept as byte ranges of their
 * values' first lines.
 */
function findStanzas(bytes: Buffer, refuse: Refuse): FoundStanzas {
  const finder = new StanzaFinder(bytes, refuse);
  const n = bytes.length;
  for (let pos = 0, at = 0; pos < n; pos = at + 1) {
    at = lineEnd(bytes, pos);
    // A byte that is neither text nor tab nor LF: the refusal above says which rule it breaks.
    if (at < 0) refuse('FEED_BAD_INDEX', ~at, 'not valid UTF-8');
    finder.line(pos, at);
  }
  return { fields: finder.fields, count: finder.count };
}

/**
 * The stanzas found so far, a line at a time. A method per line rather than one loop: V8 optimizes
 * a small method after a few hundred calls, where one large loop ran unoptimized for most of an
 * index of 10,000 packages while it was compiled.
 */
class StanzaFinder {
  fields: Int32Array = new Int32Array(STRIDE * 1024);
  count = 0;
  private open = false;

  constructor(
    private readonly bytes: Buffer,
    private readonly refuse: Refuse,
  ) {}

  /** The line `[pos, at)`. */
  line(pos: number, at: number): void {
    const { bytes } = this;
    const first = pos < at ? bytes[pos]! : LF;
    if (first === SPACE || first === TAB || first === LF) {
      if (blankUntil(bytes, pos, at)) {
        this.open = false;
        return;
      }
      if (!this.open) this.refuse('FEED_BAD_INDEX', pos, 'continuation line before any field');
    } else {
      const colon = fieldNameEnd(bytes, pos, at);
      if (colon < 0) refuseLine(bytes, pos, at, this.refuse);
      if (!this.open) this.begin(pos);
      const slot = keptSlot(bytes, pos, colon - pos);
      const s = (this.count - 1) * STRIDE + slot;
      if (slot !== 0 && this.fields[s] === -1) {
        this.fields[s] = colon + 1;
        this.fields[s + 1] = at;
      }
    }
    // A field or a continuation line: the stanza runs to its end.
    if (at - pos > LIMITS.maxLineBytes) refuseLong(pos, this.refuse);
    this.fields[(this.count - 1) * STRIDE + 1] = at;
  }

  private begin(pos: number): void {
    this.open = true;
    if (this.count * STRIDE === this.fields.length) {
      const more = new Int32Array(this.fields.length * 2);
      more.set(this.fields);
      this.fields = more;
    }
    const s = this.count++ * STRIDE;
    this.fields.fill(-1, s, s + STRIDE);
    this.fields[s] = pos;
  }
}

/**
 * Where the line at `pos` ends (its LF, or the end of the index), or `~at` for a byte at `at` that is
 * a control character or not valid UTF-8. The loop every byte goes through, kept small so that V8
 * optimizes it early and for good; it checks UTF-8 itself (Node's isUtf8, a pass of its own, cost
 * as much again here), ASCII taking the short way.
 */
function lineEnd(bytes: Buffer, pos: number): number {
  const n = bytes.length;
  for (let at = pos; at < n; at++) {
    const b = bytes[at]!;
    if (b < SPACE ? b !== TAB : b >= 0x7f) {
      if (b === LF) return at;
      const length = b > 0x7f ? utf8Length(bytes, at) : 0;
      if (length === 0) return ~at;
      at += length - 1;
    }
  }
  return n;
}

/** The length of the UTF-8 sequence at `at` (2 to 4), or 0 where none is valid (RFC 3629, as isUtf8). */
function utf8Length(bytes: Buffer, at: number): number {
  const b = bytes[at]!;
  const c1 = at + 1 < bytes.length ? bytes[at + 1]! : 0;
  if (b >= 0xc2 && b <= 0xdf) return c1 >= 0x80 && c1 <= 0xbf ? 2 : 0;
  const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
  const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
  if (b < 0xe0 || b > 0xf4 || c1 < low || c1 > high) return 0;
  const length = b < 0xf0 ? 3 : 4;
  if (at + length > bytes.length) return 0;
  for (let k = at + 2; k < at + length; k++) if (bytes[k]! < 0x80 || bytes[k]! > 0xbf) return 0;
  return length;
}

/** Whether `[pos, end)` holds only blanks. */
function blankUntil(bytes: Buffer, pos: number, end: number): boolean {
  for (let k = pos; k < end; k++) if (bytes[k] !== SPACE && bytes[k] !== TAB) return false;
  return true;
}

/** Where the colon after a valid field name at `pos` is, or -1. */
function fieldNameEnd(bytes: Buffer, pos: number, end: number): number {
  if (!isAlphanumeric(bytes[pos]!)) return -1;
  let k = pos + 1;
  while (k < end && isNameByte(bytes[k]!)) k++;
  return k < end && bytes[k] === COLON ? k : -1;
}

/** Where in a stanza's numbers a field of this name is kept (2, 4, 6), or 0 for a field not kept. */
function keptSlot(bytes: Buffer, pos: number, length: number): number {
  if (length === 7) return named(bytes, pos, PACKAGE) ? 2 : named(bytes, pos, VERSION) ? 4 : 0;
  return length === 8 && named(bytes, pos, PROVIDES) ? 6 : 0;
}

function refuseLine(bytes: Buffer, pos: number, end: number, refuse: Refuse): never {
  return refuse(
    'FEED_BAD_INDEX',
    pos,
    `expected "Field: value", got "${printable(bytes.toString('utf8', pos, end))}"`,
  );
}

function refuseLong(pos: number, refuse: Refuse): never {
  return refuse('FEED_TOO_LARGE', pos, `line longer than ${LIMITS.maxLineBytes} bytes`);
}

/** `[A-Za-z0-9]`, the first byte of a field name. */
function isAlphanumeric(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a);
}

/** `[!-9;-~]`, the other bytes of a field name. */
function isNameByte(b: number): boolean {
  return b >= 0x21 && b <= 0x7e && b !== COLON;
}

/** Whether the field name at `pos` is `lower` in any case (`lower`'s length is the name's). */
function named(bytes: Buffer, pos: number, lower: Buffer): boolean {
  for (let i = 0; i < lower.length; i++) if ((bytes[pos + i]! | 0x20) !== lower[i]) return false;
  return true;
}

function refuseControl(bytes: Buffer, at: number, refuse: Refuse): never {
  return refuse(
    'FEED_BAD_INDEX',
    at,
    bytes[at] === 0x0d ? 'carriage return (use LF line ends)' : 'control character',
  );
}

/** Where the first control character other than tab and LF (a CR included) is from `from`, or -1. */
function firstControl(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < SPACE ? b !== TAB && b !== LF : b === 0x7f) return i;
  }
  return -1;
}

/** The line number (from 1) of a byte offset. */
function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let at = bytes.indexOf(LF); at >= 0 && at < offset; at = bytes.indexOf(LF, at + 1)) line++;
  return line;
}
