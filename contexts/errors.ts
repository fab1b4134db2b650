// The error class of the CLI layer (grammar, confirmations) and the test that tells a known layer error from a bug.
import { clip, oneLine, printable, shown } from '../common/text.js';

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
  | 'CLI_USAGE'
  /** A script line longer than the shell reads (shell/line-reader.ts MAX_LINE); it is skipped. */
  | 'CLI_LINE_TOO_LONG'
  /** Part of the work failed and part succeeded (`update`: a feed not updated, the others are). */
  | 'CLI_PARTIAL'
  /** The command needs a confirmation that script mode gives only with `-y` (removing dependents). */
  | 'CLI_NEEDS_YES';

/** Any failure of the CLI layer; `message` is one line, ready to print after `Error: `. */
export class CliError extends Error {
  readonly code: CliErrorCode;
  /**
   * For `CLI_INVALID_VALUE`: what was expected, without the value given (`expected a word without
   * control characters`), so that the value of a secret parameter can be refused without showing it.
   */
  readonly expected?: string;
  /**
   * The message that repeats no more than the first word of the line (`unknown command "show …"`),
   * for script mode: a line that is no command may be a password meant for a prompt that never came.
   */
  readonly brief?: string;

  constructor(
    code: CliErrorCode,
    message: string,
    options?: ErrorOptions & { expected?: string; brief?: string },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    if (options?.expected !== undefined) this.expected = options.expected;
    if (options?.brief !== undefined) this.brief = options.brief;
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

/**
 * A line on its way to the terminal: control characters, TABs and bidi controls escaped as
 * `printable` does. Text that comes from the device or a server (host name, versions, reasons,
 * drive names) is not trusted to be free of escape sequences; the shell's own output has no TAB.
 */
export function terminalText(line: string): string {
  return printable(line);
}

/** The host name as a prompt shows it: control characters escaped, at most 64 characters. */
export function promptHostname(name: string): string {
  return shown(name, 64) || '?';
}

/** Longest word of another layer's message printed (a path from the command line, a server's text). */
const MAX_ERROR_WORD = 200;
const LONG_WORD = new RegExp(`\\S{${MAX_ERROR_WORD + 1},}`, 'g');

/** The one line the shell prints for a failed command (without a trailing newline). */
export function errorLine(error: unknown): string {
  if (isLayerError(error)) return `Error: ${messageLine(error.message)}`;
  const message = error instanceof Error ? error.message : String(error);
  return `Error: internal error: ${messageLine(message)}`;
}

/** A message of any layer as one line, each word of it cut at 200 characters. */
function messageLine(text: string): string {
  return oneLine(text).replace(LONG_WORD, (w) => clip(w, MAX_ERROR_WORD));
}
