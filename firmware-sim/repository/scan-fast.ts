// What an update keeps of a well-formed index, found by V8's regular-expression engine instead of a byte loop: scan.ts's answer, cheaply.
import { isUtf8 } from 'node:buffer';
import type { IndexSummary } from './catalog-bytes.js';
import { catalogBytes, formatProvided } from './catalog-file.js';

/**
 * Bytes of the index taken as one string at a time. Each piece is a young string (below V8's
 * large-object size, so it is collected at once), and cut before a line that starts with a field
 * name's first byte, so that no pattern below spans two pieces.
 */
const PIECE = 64 * 1024;
const LF = 0x0a;
const TAB = 0x09;
/** The control characters an index may not hold (all but tab and LF), as scan.ts refuses them. */
const CONTROLS = [...Array(0x20).keys(), 0x7f].filter((b) => b !== TAB && b !== LF);

/**
 * What the one pass looks for, each right after an LF (a piece starts with the LF before its first
 * line), in this order: an orphan continuation (a blank line, then a line that starts with a blank
 * and is not blank); a blank line followed by `Package:` with a plain name and `Version:` (groups 1
 * and 2), the way indexes begin their stanzas, in one match; a blank line (its LF looked at, not
 * taken); `Package:` with a plain name (group 3: printable ASCII but `"`, `\` and blanks, the names
 * catalog-bytes.ts writes as bytes); `Version:` and `Provides:` (groups 4 and 5); any other
 * `Package:`; a line that is neither a field, a continuation nor blank (an empty match). A value is
 * the first line of the field without the blanks around it; field names in any case. Every other
 * line is a field or a continuation of no interest, which the engine passes over in its own machine
 * code: the byte loop of scan.ts spent most of its time in JavaScript not yet optimized, which this
 * leaves to the regular-expression compiler, with one match for most stanzas.
 */
const PLAIN = '[ \\t]*([#-\\[\\]-~]+)[ \\t]*(?=\\n|$)';
const VALUE = '[ \\t]*([^\\n]*?)[ \\t]*(?=\\n|$)';
const TOKENS = new RegExp(
  [
    '\\n(?:[ \\t]*\\n[ \\t]+[^ \\t\\n]',
    `[ \\t]*\\n${anyCase('package')}:${PLAIN}\\n${anyCase('version')}:${VALUE}`,
    '[ \\t]*(?=\\n|$)',
    `${anyCase('package')}:${PLAIN}`,
    `${anyCase('version')}:${VALUE}`,
    `${anyCase('provides')}:${VALUE}`,
    `${anyCase('package')}:`,
    '(?![ \\t]|[A-Za-z0-9][!-9;-~]*:))',
  ].join('|'),
  'g',
);

/** `[Pp][Aa]…` for a lower-case word. */
function anyCase(word: string): string {
  return [...word].map((c) => `[${c.toUpperCase()}${c}]`).join('');
}

/**
 * The summary scan.ts makes of an index (names, catalog, count), or `undefined` where this pass
 * cannot vouch for it: bytes that are not UTF-8, a control character, a bad line, a continuation
 * before any field, a stanza longer than `maxLineBytes` (it may hold a line over the limit), a
 * stanza without a plain `Package` or without `Version`, names out of order, a value with a byte
 * beyond ASCII at an edge (JavaScript's `trim` would decide). scan.ts's byte loop then runs, so
 * every refusal, every stanza left out and every odd name is its business, in its words; a property
 * test holds both to the same bytes. Indexes as tools write them (sorted, one blank line between
 * stanzas) take this pass. `piece`: the size of the strings it looks at (tests make them small).
 */
export function scanIndexFast(bytes: Buffer, maxLineBytes: number, piece = PIECE): IndexSummary | undefined {
  // Native passes first: UTF-8, then each control character.
  if (!isUtf8(bytes)) return undefined;
  for (const control of CONTROLS) if (bytes.indexOf(control) >= 0) return undefined;
  const rows = new Rows(maxLineBytes);
  const n = bytes.length;
  const tokens = new RegExp(TOKENS);
  // The first piece starts with an empty line of its own (from -2 to -1), so that the index's first
  // line follows an LF and a blank line, as every stanza's first line does.
  for (let from = 0; from < n; ) {
    const to = pieceEnd(bytes, from + piece);
    const text = from === 0 ? `\n\n${bytes.toString('latin1', 0, to)}` : bytes.toString('latin1', from, to);
    const offset = from === 0 ? -2 : from;
    tokens.lastIndex = 0;
    for (let match = tokens.exec(text); match !== null; match = tokens.exec(text)) {
      const after = tokens.lastIndex;
      const token = match[0];
      let ok: boolean;
      if (match[1] !== undefined) {
        // A blank line, then a stanza's Package and Version.
        const at = offset + match.index;
        ok =
          rows.blank(at, at + token.indexOf('\n', 1)) && rows.field(0, match[1]) && rows.field(1, match[2]!);
      } else if (match[3] !== undefined) ok = rows.field(0, match[3]);
      else if (match[4] !== undefined) ok = rows.field(1, match[4]);
      else if (match[5] !== undefined) ok = rows.field(2, match[5]);
      else if (token.length > 1 && token.charCodeAt(token.length - 1) === 0x3a) ok = false;
      else if (token.indexOf('\n', 1) > 0)
        ok = false; // an orphan continuation
      else if (after === text.length || text.charCodeAt(after) === LF)
        ok = rows.blank(offset + match.index, offset + after);
      else ok = false; // a bad line
      if (!ok) return undefined;
    }
    from = to;
  }
  return rows.end(n);
}

/**
 * Where the piece that reaches `at` ends: at the first LF from there that a field name's first byte
 * follows (the next piece starts with that LF), or at the end of the index.
 */
function pieceEnd(bytes: Buffer, at: number): number {
  for (let lf = at < bytes.length ? bytes.indexOf(LF, at) : -1; lf >= 0; lf = bytes.indexOf(LF, lf + 1)) {
    const next = lf + 1 < bytes.length ? bytes[lf + 1]! : 0;
    if ((next >= 0x30 && next <= 0x39) || ((next | 0x20) >= 0x61 && (next | 0x20) <= 0x7a)) return lf;
  }
  return bytes.length;
}

/**
 * The catalog's table and names (catalog-file.ts) as the tokens come, a row written when its stanza
 * ends. Names are strings of the index's bytes as Latin-1 (one character a byte); plain names are
 * ASCII, the same either way.
 */
class Rows {
  private table = new Int32Array(4 * 1024);
  private count = 0;
  private names = Buffer.allocUnsafe(64 * 1024);
  private namesAt = 0;
  private readonly provided: Array<{ name: string; provides: string }> = [];
  /** The open stanza's start (-1: none open) and its kept values (Package, Version, Provides). */
  private start = -1;
  private readonly values: (string | undefined)[] = [undefined, undefined, undefined];
  /** Where the line after the last blank line starts: a stanza that starts later starts there. */
  private next = 0;
  private last = '';
  private lastAt = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** A kept value of the open stanza (0 Package, 1 Version, 2 Provides); the first of each counts. */
  field(kind: number, value: string): boolean {
    if (this.start < 0) this.start = this.next;
    if (this.values[kind] !== undefined) return true;
    // JavaScript's `trim` decides what a blank is beyond ASCII: scan.ts's business.
    if (value !== '' && (value.charCodeAt(0) >= 0x80 || value.charCodeAt(value.length - 1) >= 0x80))
      return false;
    this.values[kind] = value;
    return true;
  }

  /** A blank line after the LF at `lf` (the open stanza's end), ending at `end` (its LF or the end). */
  blank(lf: number, end: number): boolean {
    // Lines since the last blank line without a kept field are a stanza too (left out: scan.ts's).
    if (this.start < 0 && lf >= this.next) return false;
    const ok = this.start < 0 || this.close(lf);
    this.next = end + 1;
    return ok;
  }

  /** The summary at the end of the index (`n` bytes), or `undefined`. */
  end(n: number): IndexSummary | undefined {
    if (this.start < 0 && this.next < n) return undefined;
    if (this.start >= 0 && !this.close(n)) return undefined;
    const names = Buffer.from(this.names.subarray(0, this.namesAt));
    return {
      packages: this.count,
      names,
      skipped: [],
      catalog: catalogBytes(this.table, this.count, names, formatProvided(this.provided)),
    };
  }

  private close(end: number): boolean {
    const [name, , provides] = this.values;
    const start = this.start;
    const versioned = this.values[1] !== undefined;
    this.start = -1;
    this.values[0] = this.values[1] = this.values[2] = undefined;
    if (name === undefined || !versioned || end - start > this.maxLineBytes || name < this.last) return false;
    if (name !== this.last) {
      if (this.namesAt + name.length + 1 > this.names.length) {
        const larger = Buffer.allocUnsafe(2 * this.names.length + name.length);
        this.names.copy(larger, 0, 0, this.namesAt);
        this.names = larger;
      }
      this.lastAt = this.namesAt;
      this.namesAt += this.names.write(name, this.namesAt, 'latin1');
      this.names[this.namesAt++] = LF;
      this.last = name;
    }
    if ((this.count + 1) * 4 > this.table.length) {
      const larger = new Int32Array(this.table.length * 2);
      larger.set(this.table);
      this.table = larger;
    }
    const row = this.count++ * 4;
    this.table[row] = start;
    this.table[row + 1] = end;
    this.table[row + 2] = this.lastAt;
    this.table[row + 3] = name.length;
    if (provides !== undefined && provides !== '') {
      this.provided.push({ name, provides: Buffer.from(provides, 'latin1').toString('utf8') });
    }
    return true;
  }
}
