// A pass over a fetched `Packages` that keeps little of it: whether it reads, its names, and its catalog.
import { isUtf8 } from 'node:buffer';
import { collectYoungGarbage } from '../../tuning/young-gc.js';
import { DEFAULT_STANZA_LIMITS, FeedError } from '../feeds/index.js';
import { printable } from '../format/index.js';
import { type CatalogRow, formatCatalog } from './catalog-file.js';

/** What an update keeps of an index besides the file itself. */
export interface IndexSummary {
  /** Stanzas with a package name. */
  readonly packages: number;
  /** Sorted, each once. */
  readonly names: readonly string[];
  /** Stanzas left out: `line N: why`. */
  readonly skipped: readonly string[];
  /** The catalog file (catalog-file.ts): what a plan reads instead of parsing the whole index. */
  readonly catalog: Buffer;
}

const LIMITS = DEFAULT_STANZA_LIMITS;
/** A line that is neither blank, nor a continuation, nor `Field:` with a valid field name. */
const BAD_LINE = /^(?![ \t]|$)(?![A-Za-z0-9][!-9;-~]*:)/m;
/** A continuation line right after the start or a blank line (a line of blanks is blank). */
const ORPHAN_CONTINUATION = /(?:^|\n)[ \t]*\n(?=[ \t]*[^ \t\n])[ \t]|^[ \t]+[^ \t\n]/;
/** The fields the catalog keeps, at the start of a line, with the first line of their value. */
const KEPT_FIELD = /^(package|version|provides):([^\n]*)$/gim;
/** The end of a stanza: a line that is empty or only blanks. */
const STANZA_END = /\n[ \t]*(?=\n|$)/g;

/**
 * Checks the whole index against the rules that refuse it whole (docs/feeds.md): its size, UTF-8,
 * no control character, no line longer than the limit, every line a field, a continuation or a
 * separator, no continuation before a field, no stanza over its limit. Then finds each stanza's
 * `Package`, `Version` and `Provides` and where it is. Both are whole-text scans (native string
 * searches), not a parse: the fields of a stanza are parsed, with the index parser and its rules
 * (which also refuse a field given twice), when a plan first reaches it (catalog-file.ts), and a
 * stanza it refuses then is left out, as a full parse would. So an update of a 10,000-package feed
 * neither parses nor holds 10,000 packages.
 */
export function scanIndex(bytes: Buffer): IndexSummary {
  const refuse = (code: 'FEED_BAD_INDEX' | 'FEED_TOO_LARGE', at: number | undefined, why: string): never => {
    const where = at === undefined ? '' : ` line ${lineAt(bytes, at)}`;
    throw new FeedError(code, `Packages${where}: ${why}`);
  };
  if (bytes.length > LIMITS.maxTotalBytes)
    refuse('FEED_TOO_LARGE', undefined, `larger than ${LIMITS.maxTotalBytes} bytes`);
  if (!isUtf8(bytes)) refuse('FEED_BAD_INDEX', undefined, 'not valid UTF-8');
  const bad = firstControl(bytes);
  if (bad >= 0)
    refuse(
      'FEED_BAD_INDEX',
      bad,
      bytes[bad] === 0x0d ? 'carriage return (use LF line ends)' : 'control character',
    );
  const stanzas: Stanza[] = [];
  // A slice at a time, each cut after an empty line (so whole stanzas): a Latin-1 view of the whole
  // index was a second copy of it (10 MB for 10,000 packages) at the peak of an update; slices of
  // 64 KiB are young strings, freed by a scavenge (about 0.3 ms) every MiB. Peak RSS of an update of
  // 10,000 packages went from 109-112 MiB to 86-88 MiB with this and inflateIndex's one buffer.
  let collected = 0;
  for (let base = 0; base < bytes.length; ) {
    const cut = bytes.indexOf(SEPARATOR, base + SLICE_BYTES);
    const stop = cut < 0 ? bytes.length : cut + SEPARATOR.length;
    scanSlice(bytes, bytes.toString('latin1', base, stop), base, stanzas, refuse);
    if (stop - collected >= COLLECT_EVERY) {
      collectYoungGarbage();
      collected = stop;
    }
    base = stop;
  }
  const names = new Set<string>();
  const skipped: string[] = [];
  const rows: CatalogRow[] = [];
  for (const stanza of stanzas) {
    const size = stanza.end - stanza.start;
    const name = stanza.package;
    if (size > LIMITS.maxStanzaBytes) {
      refuse(
        'FEED_TOO_LARGE',
        stanza.start,
        `stanza${name ? ` of ${printable(name)}` : ''} larger than ${LIMITS.maxStanzaBytes} bytes`,
      );
    }
    const version = stanza.version;
    if (!name || version === undefined) {
      skipped.push(`line ${lineAt(bytes, stanza.start)}: no ${name ? 'Version' : 'Package'} field`);
      continue;
    }
    names.add(name);
    rows.push([name, version, stanza.start, stanza.end, stanza.provides ?? '']);
  }
  return { packages: rows.length, names: [...names].sort(), skipped, catalog: formatCatalog(rows) };
}

/** Where a slice may end: an empty line, which no stanza spans. */
const SEPARATOR = Buffer.from('\n\n');
/** The least a slice holds (it runs on to the next empty line); under V8's 128 KiB, a small young string. */
const SLICE_BYTES = 64 * 1024;
/** How much of the index between two scavenges. */
const COLLECT_EVERY = 1024 * 1024;

/**
 * The checks and the stanzas of one slice of the index, `text` its Latin-1 view (byte offsets are
 * string offsets; every character that matters here is ASCII) starting at byte `base` of `bytes`. A slice
 * begins the index or follows an empty line, so each rule reads it as it would the whole text.
 */
function scanSlice(
  bytes: Buffer,
  text: string,
  base: number,
  stanzas: Stanza[],
  refuse: (code: 'FEED_BAD_INDEX' | 'FEED_TOO_LARGE', at: number | undefined, why: string) => never,
): void {
  const line = BAD_LINE.exec(text);
  if (line) {
    const shown = text.slice(line.index, text.indexOf('\n', line.index) >>> 0 || undefined);
    refuse(
      'FEED_BAD_INDEX',
      base + line.index,
      `expected "Field: value", got "${printable(Buffer.from(shown, 'latin1').toString('utf8'))}"`,
    );
  }
  const orphan = ORPHAN_CONTINUATION.exec(text);
  if (orphan)
    refuse(
      'FEED_BAD_INDEX',
      base + orphan.index + orphan[0].length - 1,
      'continuation line before any field',
    );

  // Stanza boundaries, then the kept fields of each.
  const ends: number[] = [];
  for (const m of text.matchAll(STANZA_END)) ends.push(m.index);
  ends.push(text.length);
  const found: Stanza[] = [];
  let start = 0;
  for (const end of ends) {
    // Blank lines between stanzas give ranges of nothing but blanks.
    let first = start;
    while (first < end && BLANKS.includes(text.charCodeAt(first))) first++;
    if (first < end) {
      found.push({ start, end });
      // A line over the limit makes its stanza large: only large stanzas have their lines measured.
      if (end - start > LIMITS.maxLineBytes)
        checkLines(text, start, end, (code, at, why) => refuse(code, base + at, why));
    }
    start = end + 1;
  }
  let s = 0;
  for (const m of text.matchAll(KEPT_FIELD)) {
    while (s < found.length - 1 && m.index >= found[s]!.end) s++;
    const stanza = found[s]!;
    const key = m[1]!.toLowerCase() as 'package' | 'version' | 'provides';
    // Decoded from the bytes, not cut from the slice: a substring would keep the whole slice alive.
    const at = base + m.index + m[1]!.length + 1;
    stanza[key] ??= bytes.toString('utf8', at, at + m[2]!.length).trim();
  }
  for (const stanza of found) {
    const { start: from, end: to, ...fields } = stanza;
    stanzas.push({ start: base + from, end: base + to, ...fields });
  }
}

/** A stanza's place in the index and the kept fields found in it (first lines of their values, as UTF-8 text). */
interface Stanza {
  readonly start: number;
  readonly end: number;
  package?: string;
  version?: string;
  provides?: string;
}

/** LF, space, tab. */
const BLANKS = [0x0a, 0x20, 0x09];

/** Refuses a line of `text` between `start` and `end` longer than the limit. */
function checkLines(
  text: string,
  start: number,
  end: number,
  refuse: (code: 'FEED_TOO_LARGE', at: number, why: string) => never,
): void {
  let previous = start - 1;
  for (let at = text.indexOf('\n', start); ; at = text.indexOf('\n', at + 1)) {
    const stop = at < 0 || at > end ? end : at;
    if (stop - previous - 1 > LIMITS.maxLineBytes) {
      refuse('FEED_TOO_LARGE', previous + 1, `line longer than ${LIMITS.maxLineBytes} bytes`);
    }
    if (stop === end) return;
    previous = at;
  }
}

/**
 * Where the first control character other than tab and LF (a CR included) is, or -1: the whole index
 * is refused for one. A loop over the bytes (11-14 ms for 10 MB here): as fast as a regular
 * expression over one Latin-1 text of the whole index, which the scan no longer makes, and several
 * times faster than one over each of its slices.
 */
function firstControl(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x20 ? b !== 0x09 && b !== 0x0a : b === 0x7f) return i;
  }
  return -1;
}

/** The line number (from 1) of a byte offset. */
function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let at = bytes.indexOf(0x0a); at >= 0 && at < offset; at = bytes.indexOf(0x0a, at + 1)) line++;
  return line;
}
