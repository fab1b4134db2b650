// Splits a command line into words: blanks separate, quotes group, an unquoted `|` starts an output filter.
import { CliError } from './errors.js';
import { isSecretWord, looksSecret, type SecretWords, secretValueAt } from './secret-words.js';

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
  /**
   * A secret, never shown: the word after a secret keyword (`password`, see `isSecretKeyword`), or
   * after a word that only looks like one (`passwd`, see `looksSecret`). Only the first is read
   * differently (up to the next blank, `|` and `;` included); the second is masked, nothing more.
   */
  readonly secret: boolean;
  /** In `password=X` (unquoted), where the secret part of the word starts: only what is before is shown. */
  readonly secretFrom?: number;
}

/** What `tokenize` returns; `open` is set when the line ends inside a quote (only allowed when `loose`). */
export interface Tokens {
  readonly tokens: Token[];
  readonly open: boolean;
}

const BLANK = /\s/;

/**
 * Whether `word` (unquoted) is a secret keyword (`password`, SPEC §3.7) or an abbreviation of it, in a
 * place where a keyword may stand: not the first word of a command, where `pa` names the `package`
 * context, and not right after `do` (`do pa show`). The word after it is a secret, read by `tokenize`
 * and `splitCommands` up to the next blank whatever it holds (`|` and `;` are part of a password),
 * unless it starts with a quote.
 */
function isSecretKeyword(
  word: string,
  index: number,
  previous: string | undefined,
  secrets: SecretWords,
): boolean {
  return index > 0 && previous?.toLowerCase() !== 'do' && isSecretWord(word, secrets);
}

/** A token of `lex`; `semicolon` marks the `;` separating commands of a `-c` line. */
interface Lexeme extends Token {
  readonly semicolon: boolean;
}

/**
 * The one scanner of a line. With `semicolons`, an unquoted `;` is a separator token too (`-c`
 * lines). With `loose`, an unterminated quote ends the last token instead of failing.
 */
function lex(
  line: string,
  secrets: SecretWords,
  loose: boolean,
  semicolons: boolean,
): { tokens: Lexeme[]; open: boolean } {
  const tokens: Lexeme[] = [];
  // Words of the current command (reset by `|` and `;`), for `isSecretKeyword`.
  let index = 0;
  let previous: string | undefined;
  let secretNext = false;
  // The word after one that looks like a secret keyword (`passwd X`): masked, read as usual.
  let maskNext = false;
  let i = 0;
  const separator = (c: string): boolean => c === '|' || (semicolons && c === ';');
  while (i < line.length) {
    const c = line[i]!;
    if (BLANK.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (secretNext && c !== '"' && c !== "'") {
      // A password is taken as typed up to the next blank: quotes, `|` and `;` included.
      while (i < line.length && !BLANK.test(line[i]!)) i++;
      const text = line.slice(start, i);
      tokens.push({ text, start, end: i, quoted: false, pipe: false, semicolon: false, secret: true });
      secretNext = false;
      index++;
      previous = text;
      continue;
    }
    if (separator(c)) {
      tokens.push({
        text: c,
        start,
        end: i + 1,
        quoted: false,
        pipe: c === '|',
        semicolon: c === ';',
        secret: false,
      });
      i++;
      index = 0;
      previous = undefined;
      maskNext = false;
      continue;
    }
    let text = '';
    let quoted = false;
    while (i < line.length && !BLANK.test(line[i]!) && (secretNext || !separator(line[i]!))) {
      const q = line[i]!;
      if (q === '"' || q === "'") {
        quoted = true;
        const close = scanQuote(line, i, q);
        if (close.end < 0) {
          if (!loose)
            throw new CliError('CLI_SYNTAX', `unterminated ${q === '"' ? 'double' : 'single'} quote`);
          const last = { text: text + close.text, start, end: line.length, quoted, pipe: false };
          tokens.push({ ...last, semicolon: false, secret: secretNext });
          return { tokens, open: true };
        }
        text += close.text;
        i = close.end;
      } else {
        text += q;
        i++;
      }
    }
    const secret: boolean = secretNext || maskNext;
    const secretFrom: number | undefined = quoted || secret ? undefined : secretValueAt(text, secrets);
    tokens.push({
      text,
      start,
      end: i,
      quoted,
      pipe: false,
      semicolon: false,
      secret,
      ...(secretFrom === undefined ? {} : { secretFrom }),
    });
    secretNext = !quoted && !secret && isSecretKeyword(text, index, previous, secrets);
    maskNext = !quoted && !secret && !secretNext && secretFrom === undefined && looksSecret(text, secrets);
    index++;
    previous = quoted ? undefined : text;
  }
  return { tokens, open: false };
}

/**
 * Splits `line` into tokens. `"…"` groups words and understands `\"` and `\\`; `'…'` is literal.
 * The word after a secret keyword of `secrets` is read up to the next blank as typed (see
 * `isSecretKeyword`). With `loose` (completion, `?`) an unterminated quote ends the last token
 * instead of failing.
 */
export function tokenize(line: string, secrets: SecretWords, loose = false): Tokens {
  const { tokens, open } = lex(line, secrets, loose, false);
  return { tokens: tokens.map(({ semicolon: _, ...t }) => t), open };
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
 * Splits a `-c` argument into commands at unquoted `;` (SPEC §3.6), with the same scanner as
 * `tokenize`: a `;` inside quotes or inside a password is not a separator. Each piece is the
 * text as written, so that it tokenizes as it would on its own line.
 */
export function splitCommands(line: string, secrets: SecretWords): string[] {
  const parts: string[] = [];
  let from = 0;
  for (const t of lex(line, secrets, true, true).tokens) {
    if (!t.semicolon) continue;
    parts.push(line.slice(from, t.start));
    from = t.end;
  }
  parts.push(line.slice(from));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** Quotes a word for display or for re-entry on a line when it holds blanks, quotes, `|` or `;`. */
export function quoteWord(word: string): string {
  return word !== '' && !/[\s"'\\|;]/.test(word) ? word : `"${word.replace(/["\\]/g, '\\$&')}"`;
}
