// The regular expressions of output filters: RE2 syntax, matched in time linear in the line (re2js).
//
// JavaScript's RegExp backtracks: `^([0-9a-z: -]+)+X` on one line of `show log` ran for hours at
// full CPU, and a command running JavaScript cannot be interrupted, not even by SIGTERM. RE2 (here
// its JavaScript port, re2js) never backtracks: every line costs time proportional to its length.
// Its syntax is Go's and RE2's: no backreferences and no lookaround, `(?i)` for case-insensitive.
// Loaded on first use: most sessions never filter, and the prompt must not wait for it.
import { createRequire } from 'node:module';

/** A compiled filter pattern. */
export interface LinePattern {
  /** Whether the pattern matches anywhere in `line`. */
  test(line: string): boolean;
}

/**
 * Longest pattern accepted. Compiling costs time with the pattern's size (a 64 KiB pattern took
 * half a second, 1 MiB eleven), and the compile cannot be interrupted: this keeps it short.
 */
export const MAX_PATTERN_CHARS = 1024;

/** Why a pattern is refused, without the pattern (the caller names it). */
export class PatternError extends Error {}

let re2js: typeof import('re2js') | undefined;

/** Compiles `text` as an RE2 pattern; throws `PatternError` saying what is wrong with it. */
export function compileLinePattern(text: string): LinePattern {
  if (text.length > MAX_PATTERN_CHARS) {
    throw new PatternError(`longer than ${MAX_PATTERN_CHARS} characters`);
  }
  re2js ??= createRequire(import.meta.url)('re2js') as typeof import('re2js');
  try {
    return re2js.RE2JS.compile(text);
  } catch (e) {
    if (!(e instanceof re2js.RE2JSException)) throw e;
    // `error parsing regexp: missing closing ]: `[``: the reason, without the pattern again.
    const why = e instanceof re2js.RE2JSSyntaxException ? e.getDescription() : e.message;
    throw new PatternError(why.replace(/^error parsing regexp: /, '').replace(/: `[\s\S]*`$/, ''));
  }
}
