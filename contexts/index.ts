// The contexts and the one parser every front-end uses: what `contexts/` exports.
import { bootContext } from './boot.js';
import { execContext } from './exec.js';
import { filters } from './filters.js';
import type { Registry } from './grammar.js';
import { packageContext } from './package.js';
import { helpRequest as requestIn, secretsOf } from './parser.js';
import { mayHoldSecret as mayHoldIn } from './secret-words.js';
import { splitCommands as splitIn } from './tokenize.js';
import { trustContext } from './trust.js';
import { updaterContext } from './updater.js';

export type * from './env.js';
export { CliError, type CliErrorCode, errorLine, isLayerError } from './errors.js';
export type * from './grammar.js';
export { usage } from './grammar.js';
export {
  type Completion,
  completeAt,
  type FilterCall,
  formatHelp,
  type HelpItem,
  helpAt,
  type Invocation,
  lookup,
  type ParsedLine,
  parseLine,
  redact,
} from './parser.js';
export { quoteWord, tokenize } from './tokenize.js';

/** Every context of the shell, by name, and the output filters. */
export const registry: Registry = {
  contexts: {
    exec: execContext,
    package: packageContext,
    boot: bootContext,
    updater: updaterContext,
    trust: trustContext,
  },
  filters,
};

/** The secret keywords of the shell's grammar (`password`), from the parameters declared `secret: true`. */
const secrets = secretsOf(registry);

/**
 * A line that ends in an unquoted `?`: the text before it, else `undefined`. A `?` that ends a
 * password is part of it (`password Hunter2?`); a `?` alone after `password` asks for help.
 */
export function helpRequest(line: string): string | undefined {
  return requestIn(line, secrets);
}

/** Splits a `-c` argument into commands at unquoted `;` that are not part of a password (SPEC §3.6). */
export function splitCommands(line: string): string[] {
  return splitIn(line, secrets);
}

/** Whether a `-c` line may hold a secret (a `password` keyword or an abbreviation, `user:pass@`). */
export function mayHoldSecret(line: string): boolean {
  return mayHoldIn(line, secrets);
}
