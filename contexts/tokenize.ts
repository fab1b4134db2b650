// Splits a command line into words: blanks separate, quotes group, an unquoted `|` starts an output filter.
import { CliError } from './errors.js';

/** One word of a line, with where it stands in the line (for raw "rest of line" values and redaction). */
export interface Token {
  /** The word with its quotes removed and escapes resolved. */
  readonly text: string;
  /** Offset of the first character (an opening quote included) in the line. */
  readonly start: number;
  /** Offset just past the last character (a closing quote included). */
  readonly end: number;
  /** Written in quotes: always a value, never a keyword. */
  readonly quoted: boolean;
  /** An unquoted `|`: the separator before an output filter. */
  readonly pipe: boolean;
}

/** What `tokenize` returns; `open` is set when the line ends inside a quote (only allowed when `loose`). */
export interface Tokens {
  readonly tokens: Token[];
  readonly open: boolean;
}

const BLANK = /\s/;

/**
 * Splits `line` into tokens. `"…"` groups words and understands `\"` and `\\`; `'…'` is literal.
 * With `loose` (completion, `?`) an unterminated quote ends the last token instead of failing.
 */
export function tokenize(line: string, loose = false): Tokens {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (BLANK.test(c)) {
      i++;
      continue;
    }
    if (c === '|') {
      tokens.push({ text: '|', start: i, end: i + 1, quoted: false, pipe: true });
      i++;
      continue;
    }
    const start = i;
    let text = '';
    let quoted = false;
    while (i < line.length && !BLANK.test(line[i]!) && line[i] !== '|') {
      const q = line[i]!;
      if (q === '"' || q === "'") {
        quoted = true;
        const close = scanQuote(line, i, q);
        if (close.end < 0) {
          if (!loose)
            throw new CliError('CLI_SYNTAX', `unterminated ${q === '"' ? 'double' : 'single'} quote`);
          tokens.push({ text: text + close.text, start, end: line.length, quoted, pipe: false });
          return { tokens, open: true };
        }
        text += close.text;
        i = close.end;
      } else {
        text += q;
        i++;
      }
    }
    tokens.push({ text, start, end: i, quoted, pipe: false });
  }
  return { tokens, open: false };
}

function scanQuote(line: string, at: number, q: string): { text: string; end: number } {
  let text = '';
  let i = at + 1;
  while (i < line.length) {
    const c = line[i]!;
    if (c === q) return { text, end: i + 1 };
    if (q === '"' && c === '\\' && i + 1 < line.length) {
      text += line[i + 1];
      i += 2;
      continue;
    }
    text += c;
    i++;
  }
  return { text, end: -1 };
}

/**
 * Splits a `-c` argument into commands at unquoted `;` (SPEC §3.6). Quotes are kept as written so
 * that each piece tokenizes as it would on its own line.
 */
export function splitCommands(line: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== undefined) {
      current += c;
      if (quote === '"' && c === '\\' && i + 1 < line.length) current += line[++i];
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
      current += c;
    } else if (c === ';') {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** Quotes a word for display or for re-entry on a line when it holds blanks, quotes, `|` or `;`. */
export function quoteWord(word: string): string {
  return word !== '' && !/[\s"'\\|;]/.test(word) ? word : `"${word.replace(/["\\]/g, '\\$&')}"`;
}
