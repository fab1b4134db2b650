// Tables as the vendor manual draws them (box drawing, ASCII fallback), and the few text helpers the contexts share.
import { printable } from '../common/text.js';
import { cutTo, padTo, textWidth, wrapTo } from './text-width.js';

/** A table: a title in the top border, a header row, data rows; the last column takes the slack. */
export interface TableSpec {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
  /**
   * Wrap a long last cell onto continuation lines instead of cutting it with `…`: for columns
   * whose end matters (why a package was not activated, where a media is mounted).
   */
  readonly wrap?: boolean;
}

/** How wide and in which characters to draw. */
export interface DrawOptions {
  /** Columns available (the terminal's width, 80 when unknown). */
  readonly width: number;
  readonly ascii: boolean;
}

/** The vendor layout is 71 columns wide when the content is narrower (the `package show` example). */
const MIN_TABLE_WIDTH = 71;
const GAP = 2;
/**
 * The narrowest last column worth drawing (or its content, when narrower): below it a terminal
 * gets `Key: value` records instead of a table whose last column is cut into slivers.
 */
const MIN_LAST = 12;

const BOX = { tl: '╒', top: '═', tr: '╕', side: '│', bl: '└', bottom: '─', br: '┘', more: '…' };
const ASCII = { tl: '+', top: '-', tr: '+', side: '|', bl: '+', bottom: '-', br: '+', more: '~' };

// Widths are terminal columns (a CJK character takes two), of text made printable first: what a
// package or a server wrote (a description, a reason, a drive name) may hold a TAB, an escape
// sequence or a bidi control, and each is shown as `\x09`, `\x1b`, `\u202e`, and measured so.
const len = textWidth;
const pad = padTo;
const cut = cutTo;
const wrapText = wrapTo;

/**
 * A paragraph (a legend under a table, a hint) in lines of at most `width` characters, broken at
 * spaces; continuation lines are indented by `indent` blanks (`* pending: …` hangs under its text).
 */
export function wrapLine(text: string, width: number, indent = 2): string[] {
  const [first, ...rest] = wrapText(text, Math.max(1, width));
  const more = rest.join(' ');
  if (more === '') return [first!];
  return [first!, ...wrapText(more, Math.max(1, width - indent)).map((l) => ' '.repeat(indent) + l)];
}

/**
 * Draws a table, e.g.
 * ```
 * ╒ Packages ═════════╕
 * │NAME     VERSION   │
 * │pkgname  1.0       │
 * └───────────────────┘
 * ```
 * Width follows the content (at least `MIN_TABLE_WIDTH`) and never exceeds the terminal: the last
 * column is cut with `…` when it must be, or wrapped when the spec says `wrap`. When the terminal
 * is too narrow even for that, each row becomes a block of `COLUMN: value` lines (`renderRecords`).
 */
export function renderTable(spec: TableSpec, draw: DrawOptions): string[] {
  const ch = draw.ascii ? ASCII : BOX;
  const cells = [spec.columns, ...spec.rows].map((r) => r.map((c) => drawn(c, draw)));
  const n = spec.columns.length;
  const widths = spec.columns.map(
    (_, i) => Math.max(...cells.map((r) => len(r[i] ?? ''))) + (i < n - 1 ? GAP : 0),
  );
  const natural = widths.reduce((a, b) => a + b, 0);
  const fixed = natural - widths[n - 1]!;
  const maxInner = draw.width - 2;
  if (fixed + Math.min(widths[n - 1]!, MIN_LAST) > maxInner) return renderRecords(spec, draw);
  let title = ` ${drawn(spec.title, draw)} `;
  let inner = Math.max(natural, MIN_TABLE_WIDTH - 2, len(title) + 1);
  inner = Math.min(inner, maxInner);
  widths[n - 1] = inner - fixed;
  if (len(title) + 1 > inner) title = `${cut(title.trimEnd(), inner - 2, ch.more)} `;
  const lines = [ch.tl + title + ch.top.repeat(Math.max(0, inner - len(title))) + ch.tr];
  const last = widths[n - 1]!;
  for (const row of cells) {
    const tail = row[n - 1] ?? '';
    const parts = spec.wrap ? wrapText(tail, last) : [cut(tail, last, ch.more)];
    for (const [k, part] of parts.entries()) {
      const text = row.map((c, i) => (i < n - 1 ? pad(k === 0 ? c : '', widths[i]!) : pad(part, last)));
      lines.push(ch.side + text.join('') + ch.side);
    }
  }
  lines.push(ch.bl + ch.bottom.repeat(inner) + ch.br);
  return lines;
}

/**
 * A table for a terminal too narrow to draw it: the title, then one block per row, each cell as
 * `COLUMN: value` (wrapped, never cut), blocks apart by an empty line.
 * ```
 * Packages
 *   NAME:         pkgname
 *   VERSION:      5.26.0-rev0
 * ```
 */
function renderRecords(spec: TableSpec, draw: DrawOptions): string[] {
  const text = (t: string): string => drawn(t, draw);
  const lines = [cut(text(spec.title), draw.width, draw.ascii ? ASCII.more : BOX.more)];
  if (spec.rows.length === 0) return [...lines, '  (none)'];
  const columns = spec.columns.map(text);
  const key = Math.max(...columns.map(len)) + 2;
  // Beside its key while a value has 10 columns; below it, indented, on a very narrow terminal.
  const beside = draw.width - key - 2 >= 10;
  const room = beside ? draw.width - key - 2 : Math.max(1, draw.width - 4);
  for (const [r, row] of spec.rows.entries()) {
    if (r > 0) lines.push('');
    for (const [i, column] of columns.entries()) {
      const pieces = wrapText(text(row[i] ?? ''), room);
      if (!beside) {
        lines.push(`  ${column}:`, ...pieces.map((p) => `    ${p}`.trimEnd()));
        continue;
      }
      lines.push(`  ${pad(`${column}:`, key)}${pieces[0]}`.trimEnd());
      for (const m of pieces.slice(1)) lines.push(`  ${' '.repeat(key)}${m}`);
    }
  }
  return lines;
}

/**
 * Aligned `Key: value` lines (`show version`, `show PKGNAME`), each indented by `indent` blanks;
 * the lines of a value after its first are indented under it, so that only a key starts a line.
 */
export function renderFields(fields: ReadonlyArray<readonly [string, string]>, indent = 0): string[] {
  const lead = ' '.repeat(indent);
  const keys = fields.map(([k]) => printable(k));
  const width = Math.max(0, ...keys.map(len)) + 2;
  const lines: string[] = [];
  for (const [i, [, value]] of fields.entries()) {
    const [first, ...more] = value.split('\n').map(printable);
    lines.push(`${lead}${pad(`${keys[i]}:`, width)}${first ?? ''}`.trimEnd());
    for (const m of more) lines.push(`${lead}${' '.repeat(width)}${m}`.trimEnd());
  }
  return lines;
}

/**
 * Below this many columns for the second column of `renderPairs`, it goes under the first instead
 * of beside it: a help text of a word or two a line is harder to read than one a line lower.
 */
const MIN_PAIR_TEXT = 24;

/**
 * Two aligned columns without a separator (help listings, `?`), each line indented by `indent`
 * blanks. Within `width` columns the second is wrapped at spaces under itself, never cut by the
 * terminal in the middle of a word; when the first column leaves it too little room, it goes on the
 * lines below, indented by four more.
 */
export function renderPairs(
  rows: ReadonlyArray<readonly [string, string]>,
  width = Number.POSITIVE_INFINITY,
  indent = 0,
): string[] {
  const lead = ' '.repeat(indent);
  rows = rows.map(([k, v]) => [printable(k), printable(v)]);
  const key = Math.max(0, ...rows.map(([k]) => len(k))) + 2;
  const room = width - indent - key;
  const lines: string[] = [];
  if (room >= MIN_PAIR_TEXT || room >= Math.max(0, ...rows.map(([, v]) => len(v)))) {
    for (const [k, v] of rows) {
      const [first, ...more] = wrapText(v, Math.max(1, room));
      lines.push(`${lead}${pad(k, key)}${first}`.trimEnd());
      for (const m of more) lines.push(`${lead}${' '.repeat(key)}${m}`.trimEnd());
    }
    return lines;
  }
  const under = Math.max(1, width - indent - 4);
  for (const [k, v] of rows) {
    lines.push(...wrapText(k, Math.max(1, width - indent)).map((p) => `${lead}${p}`));
    if (v !== '') lines.push(...wrapText(v, under).map((p) => `${lead}    ${p}`));
  }
  return lines;
}

/**
 * Words that belong together (`[media <label>]`) in lines of at most `width` columns, broken only
 * between them; continuation lines are indented by `indent`. A piece wider than a line on its own
 * is broken at its spaces.
 */
export function wrapPieces(pieces: readonly string[], width: number, indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const piece of pieces) {
    const lead = lines.length === 0 ? 0 : indent;
    if (line === '' || lead + len(line) + 1 + len(piece) <= width) {
      line = line === '' ? piece : `${line} ${piece}`;
      continue;
    }
    lines.push(line);
    line = piece;
  }
  if (line !== '') lines.push(line);
  return lines.flatMap((l, i) => {
    const lead = i === 0 ? 0 : indent;
    const parts = len(l) + lead <= width ? [l] : wrapText(l, Math.max(1, width - lead));
    return parts.map((p) => ' '.repeat(lead) + p);
  });
}

/** Characters outside ASCII replaced for a terminal that cannot show them (`…` → `...`). */
export function toAscii(text: string): string {
  // One `?` a character, not a UTF-16 unit: an emoji is one character.
  return text.replace(/\u2026/g, '...').replace(/[^\x00-\x7f]/gu, '?');
}

/** A cell or title as drawn: printable, and in ASCII when the terminal wants it. */
function drawn(text: string, draw: DrawOptions): string {
  const safe = printable(text);
  return draw.ascii ? toAscii(safe) : safe;
}

/** `True`/`False` as the manual's table writes them. */
export function pyBool(value: boolean): string {
  return value ? 'True' : 'False';
}

/** An ISO 8601 time as `2026-11-21 10:02:41` in the device's local time. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A duration as `uptime` prints it: `3 days, 04:05:06`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(s / 86400);
  const p = (n: number): string => String(n).padStart(2, '0');
  const hms = `${p(Math.floor((s % 86400) / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
  return days > 0 ? `${days} day${days === 1 ? '' : 's'}, ${hms}` : hms;
}
