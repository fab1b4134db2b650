// Text from operators, packages, drives and servers made safe for one line of a terminal: the one escaping rule.

/**
 * Control characters a terminal acts on: C0 (TAB included: it moves the cursor out of a table's
 * cell), DEL and C1 (`\x9b` starts a sequence on some terminals).
 */
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/**
 * Characters that change how the rest of a line is shown without being seen: the bidi controls
 * (U+202E turns `gpj.exe` into `exe.jpg`), the line and paragraph separators, and the invisible
 * marks (zero-width space, word joiner, byte order mark) that make two texts look alike.
 */
const INVISIBLE = /[\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/g;

/**
 * Control characters become `\xNN` and bidi controls and invisible marks `\uNNNN`, so that the text
 * can neither act on the terminal nor disguise itself; nothing else changes.
 */
export function printable(text: string): string {
  return text
    .replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Longest word a message repeats (a value typed, a name read from a package); longer ones are cut. */
const MAX_SHOWN_WORD = 80;

/** Cuts `text` to `max` characters, the last one `…`, so that a message never repeats a huge word. */
export function clip(text: string, max = MAX_SHOWN_WORD): string {
  if (text.length <= max) return text;
  // Characters, not UTF-16 units; only the head is split, a word may be megabytes long.
  const head = [...text.slice(0, 2 * max)];
  if (head.length <= max && text.length <= 2 * max) return text;
  return `${head.slice(0, max - 1).join('')}…`;
}

/** A word as a message repeats it: control characters escaped, cut at `max` characters. */
export function shown(text: string, max = MAX_SHOWN_WORD): string {
  return clip(printable(text), max);
}

/**
 * Text (a message, a server's reply, a reason) as one line: the line breaks and the blanks around them
 * become one space, the ends are trimmed, other control characters are escaped, and the whole is cut
 * at `max` characters.
 */
export function oneLine(text: string, max = Number.POSITIVE_INFINITY): string {
  const flat = printable(text.replace(/\s*[\r\n]+\s*/g, ' ').trim());
  return flat.length > max ? clip(flat, max) : flat;
}
