// What the up arrow gives back of a line that held a password: the line without that password.
import { type Registry, tokenize } from '../contexts/index.js';
import { secretsOf } from '../contexts/parser.js';

/**
 * The line for the line editor's history, from the line as typed and its redacted form
 * (`password ****`). A recalled `password ****` would send the four stars as the password, so each
 * masked value is dropped with its keyword (`install user admin 192.0.2.1 x.wmopkg`): run again,
 * the command asks for the password. A `user:****@host` address stays as it is (it is refused with
 * a hint anyway), and a password that really is `****` is kept.
 */
export function recallLine(registry: Registry, typed: string, redacted: string): string {
  if (typed === redacted) return typed;
  const secrets = secretsOf(registry);
  let original: ReturnType<typeof tokenize>['tokens'];
  let masked: ReturnType<typeof tokenize>['tokens'];
  try {
    original = tokenize(typed, secrets, true).tokens;
    masked = tokenize(redacted, secrets, true).tokens;
  } catch {
    return redacted;
  }
  if (original.length !== masked.length) return redacted;
  let out = '';
  let at = 0;
  for (let i = 1; i < masked.length; i++) {
    const value = masked[i]!;
    if (value.text !== '****' || original[i]!.text === '****' || value.quoted) continue;
    const keyword = masked[i - 1]!;
    // The clause and the blanks before it go; a clause at the start of the line takes the blanks after it.
    const from = keyword.start > 0 ? trimBack(redacted, keyword.start) : keyword.start;
    out += redacted.slice(at, from);
    at = keyword.start > 0 ? value.end : skipBlanks(redacted, value.end);
  }
  return at === 0 ? redacted : out + redacted.slice(at);
}

function trimBack(text: string, end: number): number {
  let i = end;
  while (i > 0 && /\s/.test(text[i - 1]!)) i--;
  return i;
}

function skipBlanks(text: string, start: number): number {
  let i = start;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}
