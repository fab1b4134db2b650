// A pass over a fetched `Packages` that keeps little of it: whether it reads, its names, and its catalog.
import { isUtf8 } from 'node:buffer';
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
  readonly catalog: string;
}

const LIMITS = DEFAULT_STANZA_LIMITS;
/** A control character other than tab and LF (a CR included): the whole index is refused. */
const BAD_CHARACTER = /[\u0000-\u0008\u000b-\u001f\u007f]/;
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
  // Latin-1 keeps byte offsets as string offsets; every character that matters here is ASCII.
  const text = bytes.toString('latin1');
  const bad = BAD_CHARACTER.exec(text);
  if (bad)
    refuse(
      'FEED_BAD_INDEX',
      bad.index,
      bad[0] === '\r' ? 'carriage return (use LF line ends)' : 'control character',
    );
  const line = BAD_LINE.exec(text);
  if (line) {
    const shown = text.slice(line.index, text.indexOf('\n', line.index) >>> 0 || undefined);
    refuse(
      'FEED_BAD_INDEX',
      line.index,
      `expected "Field: value", got "${printable(Buffer.from(shown, 'latin1').toString('utf8'))}"`,
    );
  }
  const orphan = ORPHAN_CONTINUATION.exec(text);
  if (orphan)
    refuse('FEED_BAD_INDEX', orphan.index + orphan[0].length - 1, 'continuation line before any field');

  // Stanza boundaries, then the kept fields of each.
  const ends: number[] = [];
  for (const m of text.matchAll(STANZA_END)) ends.push(m.index);
  ends.push(text.length);
  const stanzas: Stanza[] = [];
  let start = 0;
  for (const end of ends) {
    // Blank lines between stanzas give ranges of nothing but blanks.
    let first = start;
    while (first < end && BLANKS.includes(text.charCodeAt(first))) first++;
    if (first < end) {
      stanzas.push({ start, end });
      // A line over the limit makes its stanza large: only large stanzas have their lines measured.
      if (end - start > LIMITS.maxLineBytes) checkLines(text, start, end, refuse);
    }
    start = end + 1;
  }
  let s = 0;
  for (const m of text.matchAll(KEPT_FIELD)) {
    while (s < stanzas.length - 1 && m.index >= stanzas[s]!.end) s++;
    const stanza = stanzas[s]!;
    const key = m[1]!.toLowerCase() as 'package' | 'version' | 'provides';
    stanza[key] ??= m[2]!.trim();
  }
  const names = new Set<string>();
  const skipped: string[] = [];
  const rows: string[] = [];
  for (const stanza of stanzas) {
    const size = stanza.end - stanza.start;
    const name = utf8(stanza.package);
    if (size > LIMITS.maxStanzaBytes) {
      refuse(
        'FEED_TOO_LARGE',
        stanza.start,
        `stanza${name ? ` of ${printable(name)}` : ''} larger than ${LIMITS.maxStanzaBytes} bytes`,
      );
    }
    const version = utf8(stanza.version);
    if (!name || version === undefined) {
      skipped.push(`line ${lineAt(bytes, stanza.start)}: no ${name ? 'Version' : 'Package'} field`);
      continue;
    }
    names.add(name);
    const row: CatalogRow = [name, version, stanza.start, stanza.end, utf8(stanza.provides) ?? ''];
    rows.push(JSON.stringify(row));
  }
  return { packages: rows.length, names: [...names].sort(), skipped, catalog: formatCatalog(rows) };
}

/** A stanza's place in the text and the kept fields found in it (first lines of their values). */
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

/** A value found in the Latin-1 view, as the UTF-8 text it is (most are ASCII: no conversion then). */
function utf8(latin1: string | undefined): string | undefined {
  if (latin1 === undefined || !/[^\x00-\x7f]/.test(latin1)) return latin1;
  return Buffer.from(latin1, 'latin1').toString('utf8');
}

/** The line number (from 1) of a byte offset. */
function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let at = bytes.indexOf(0x0a); at >= 0 && at < offset; at = bytes.indexOf(0x0a, at + 1)) line++;
  return line;
}
