// How many terminal columns text takes: East Asian wide characters two, combining marks none.
//
// Tables and help are laid out in columns, not in characters: 60 CJK characters take 120 columns,
// and counting them as 60 made a row 115 columns wide in an 80-column table. The widths are
// Unicode's East Asian Width property (get-east-asian-width); marks that combine with the
// character before them (Mn, Me) and format characters (Cf) take none. Text reaching these
// functions is printable already (common/text.ts): no control characters, no bidi controls.
import { eastAsianWidth } from 'get-east-asian-width';

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

/** Columns one character (a code point) takes: 0, 1 or 2. */
export function charWidth(char: string): number {
  const cp = char.codePointAt(0) ?? 0;
  if (cp < 0x300) return 1; // Latin, the common case, without a lookup
  return ZERO_WIDTH.test(char) ? 0 : eastAsianWidth(cp);
}

/** Columns `text` takes on a terminal. */
export function textWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char);
  return width;
}

/** `text` and blanks up to `width` columns. */
export function padTo(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - textWidth(text)));
}

/** The longest start of `chars` that fits `width` columns: how many characters it has. */
function fitting(chars: readonly string[], width: number): number {
  let used = 0;
  for (let i = 0; i < chars.length; i++) {
    used += charWidth(chars[i]!);
    if (used > width) return i;
  }
  return chars.length;
}

/** `text` cut to `width` columns, the last one `more` (`…`) when something was cut. */
export function cutTo(text: string, width: number, more: string): string {
  if (textWidth(text) <= width) return text;
  if (width <= 0) return '';
  const chars = [...text];
  return chars.slice(0, fitting(chars, width - textWidth(more))).join('') + more;
}

/** Splits text into pieces of at most `width` columns, at spaces where it can. */
export function wrapTo(text: string, width: number): string[] {
  const chars = [...text];
  const widths = chars.map(charWidth);
  const pieces: string[] = [];
  let start = 0;
  for (;;) {
    let used = 0;
    let end = start;
    while (end < chars.length && used + widths[end]! <= width) used += widths[end++]!;
    if (end === chars.length) {
      pieces.push(chars.slice(start).join(''));
      return pieces;
    }
    // A character wider than the whole width still goes somewhere.
    if (end === start) end = start + 1;
    let space = -1;
    for (let k = end; k > start; k--) {
      if (chars[k] === ' ') {
        space = k;
        break;
      }
    }
    const at = space > 0 ? space : end;
    pieces.push(chars.slice(start, at).join('').trimEnd());
    start = space > 0 ? at + 1 : at;
  }
}
