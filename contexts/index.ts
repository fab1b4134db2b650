// The contexts and the one parser every front-end uses: what `contexts/` exports.
import { bootContext } from './boot.js';
import { execContext } from './exec.js';
import { filters } from './filters.js';
import { packageContext } from './package.js';
import type { Registry } from './parser.js';

export type * from './env.js';
export { CliError, type CliErrorCode, errorLine, isLayerError, printable } from './errors.js';
export type * from './grammar.js';
export { usage } from './grammar.js';
export {
  type Completion,
  completeAt,
  type FilterCall,
  formatHelp,
  type HelpItem,
  helpAt,
  helpRequest,
  type Invocation,
  lookup,
  type ParsedLine,
  parseLine,
  type Registry,
  redact,
} from './parser.js';
export { splitCommands, tokenize } from './tokenize.js';

/** Every context of the shell, by name, and the output filters. */
export const registry: Registry = {
  contexts: { exec: execContext, package: packageContext, boot: bootContext },
  filters,
};
