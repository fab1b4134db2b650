// The error class of the CLI layer (grammar, confirmations) and the test that tells a known layer error from a bug.

/** Stable codes of `CliError`; golden transcripts and scripts match the messages, the shell maps codes to status. */
export type CliErrorCode =
  /** No command of the context starts with the word. */
  | 'CLI_UNKNOWN_COMMAND'
  /** The word is a prefix of several commands or keywords. */
  | 'CLI_AMBIGUOUS'
  /** The line stops before the command is complete. */
  | 'CLI_INCOMPLETE'
  /** A parameter does not have the expected form. */
  | 'CLI_INVALID_VALUE'
  /** A word is left over after a complete command. */
  | 'CLI_UNEXPECTED'
  /** A quote is not closed. */
  | 'CLI_SYNTAX'
  /** The operator did not confirm (answered no, or end of input). */
  | 'CLI_NOT_CONFIRMED'
  /** What the command names does not exist (a package that is not installed). */
  | 'CLI_NOT_FOUND'
  /** The command was interrupted (Ctrl-C). */
  | 'CLI_ABORTED'
  /** Invalid use of the `edgesh` program itself (its options). */
  | 'CLI_USAGE';

/** Any failure of the CLI layer; `message` is one line, ready to print after `Error: `. */
export class CliError extends Error {
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Prefixes of the stable codes of every layer (SPEC: `FormatError`, `DeviceError`, `TransportError`, `MediaError`, `CliError`). */
const LAYER_CODE = /^(WMOPKG|DEVICE|TRANSPORT|MEDIA|CLI)_[A-Z0-9_]+$/;

/**
 * Whether `error` is an error of one of the project's layers, whose message is written for the
 * operator. Tested by shape (a string `code` with a layer prefix), so the shell does not have to load
 * a lazily loaded layer just to run `instanceof`.
 */
export function isLayerError(error: unknown): error is Error & { readonly code: string } {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && LAYER_CODE.test(code);
}

/** Makes operator text safe for a one-line message: control characters become `\xNN`. */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The one line the shell prints for a failed command (without a trailing newline). */
export function errorLine(error: unknown): string {
  if (isLayerError(error)) return `Error: ${oneLine(error.message)}`;
  const message = error instanceof Error ? error.message : String(error);
  return `Error: internal error: ${oneLine(message)}`;
}

function oneLine(text: string): string {
  return printable(text.replace(/\s*\n\s*/g, ' ').trim());
}
