// Commands declared as data (klish VIEW/COMMAND/PARAM, oclif flags): the types and the small builders.

import { shown } from '../common/text.js';
import type { CompletionEnv, Navigation, Output, Prompter, Services, TerminalSettings } from './env.js';
import { CliError } from './errors.js';

/** A parameter type: `parse` turns a word into a value or says what it expected; `complete` proposes words. */
export interface ParamType<T = unknown> {
  /** How help and errors name a value of this type: `PKGNAME.wmopkg`, `address[:port]`, `<label>`. */
  readonly name: string;
  /** One line of help for `?` when the parameter declares none. */
  readonly help: string;
  /** Throws a `CliError` (`CLI_INVALID_VALUE`) saying what was expected and what was given. */
  parse(text: string): T;
  /** Candidates starting with `prefix` (installed packages, labels, protocols). Never throws. */
  complete?(prefix: string, env: CompletionEnv): Promise<readonly string[]> | readonly string[];
  /** Takes the rest of the line as typed (a regular expression after `| include`). */
  readonly rest?: boolean;
}

/**
 * Builds the error a `parse` throws: `invalid PKGNAME.wmopkg "x.txt": expected a name ending in
 * .wmopkg`. The value is shown cut to 80 characters; `expected` is kept apart for secret values.
 */
export function invalid(type: { readonly name: string }, got: string, expected: string): CliError {
  return new CliError('CLI_INVALID_VALUE', `invalid ${type.name} "${shown(got)}": ${expected}`, {
    expected,
  });
}

/** A positional parameter. */
export interface ArgParam {
  readonly kind: 'arg';
  /** Key in the parsed arguments. */
  readonly key: string;
  readonly type: ParamType;
  /** Help for `?`; defaults to the type's. */
  readonly help?: string;
  /** May be left out (at the end of the line). */
  readonly optional?: boolean;
  /** Not expected at all given what came before (`address` after `media <label>`). */
  readonly skipIf?: (args: Args) => boolean;
}

/** A keyword that stands alone in an options block: `persistent`. */
export interface FlagOption {
  readonly kind: 'flag';
  readonly word: string;
  readonly key: string;
  readonly help: string;
  /** Not accepted (nor offered) given what came before. */
  readonly skipIf?: (args: Args) => boolean;
}

/** A keyword followed by a value: `media <label>`, `password <password>`. */
export interface ValueOption {
  readonly kind: 'value';
  readonly word: string;
  readonly key: string;
  readonly type: ParamType;
  readonly help: string;
  /** Shown in usage after the keyword: `<label>`; defaults to the type's name. */
  readonly display?: string;
  /** A secret: masked as `****` in history, logs and error texts. */
  readonly secret?: boolean;
  /** Not accepted (nor offered) given what came before (`proto` after `media`). */
  readonly skipIf?: (args: Args) => boolean;
  /** The error when `skipIf` holds: `media cannot be combined with proto, user or password`. */
  readonly conflict?: string;
}

/** One keyword out of a set, stored under `key`: `usb|sd|any`. */
export interface OneOfOption {
  readonly kind: 'oneOf';
  readonly key: string;
  readonly words: ReadonlyArray<{ readonly word: string; readonly help: string }>;
  readonly skipIf?: (args: Args) => boolean;
}

/** Any entry of an options block. */
export type OptionDecl = FlagOption | ValueOption | OneOfOption;

/** Optional keywords, each at most once, in any order (`[persistent] [media <label>] …`). */
export interface OptionsParam {
  readonly kind: 'options';
  readonly options: readonly OptionDecl[];
}

/** One parameter of a command: a positional or a block of optional keywords. */
export type Param = ArgParam | OptionsParam;

/** Parsed arguments: keys of the declarations, values from the types' `parse`. */
export type Args = Readonly<Record<string, unknown>>;

/** A command: declaration plus one `run`. */
export interface Command {
  /** One or more words: `install`, `show version`, `no allow-untrusted`. */
  readonly name: string;
  /** Other names for the same command (`list` for `show`). */
  readonly aliases?: readonly string[];
  /** One line for `?` and `help`. */
  readonly help: string;
  readonly params?: readonly Param[];
  /** Entering this command with nothing after it pushes this context; with words after, runs them there. */
  readonly enter?: string;
  /** The rest of the line is a command of this context (`do` → `exec`). */
  readonly delegate?: string;
  /** Not offered by `?`, TAB or `help`, still accepted. */
  readonly hidden?: boolean;
  /** Not offered when the command runs as `CONTEXT COMMAND` from the top level (navigation). */
  readonly navigation?: boolean;
  run?(args: Args, env: CommandEnv): Promise<void>;
  /** Output filters (`| include RE`) build a line filter instead of running. */
  filter?(args: Args): LineFilter;
}

/** A named list of commands with a prompt (klish VIEW). */
export interface Context {
  /** `exec` for the top level, else the name typed to enter it. */
  readonly name: string;
  /** Shown in the prompt: `/` at the top, `/package/#` inside. */
  readonly path: string;
  readonly commands: readonly Command[];
  /** Help for the first word of multi-word commands (`show`, `no`, `terminal`). */
  readonly groups?: Readonly<Record<string, string>>;
}

/** The contexts by name (`exec`, `package`, `boot`, …) and the output filters that may follow `|`. */
export interface Registry {
  readonly contexts: Readonly<Record<string, Context>>;
  readonly filters: Context;
}

/** The session as a command sees it. */
export interface SessionApi {
  /** The CLI user (`--user`, else the OS or SSH user): the default `user` of transports. */
  readonly user: string;
  readonly id: string;
  readonly terminal: TerminalSettings;
  /** True on an interactive terminal (vorpal); false in script mode. */
  readonly interactive: boolean;
  /**
   * `--accept-new-host-keys` (OpenSSH's `StrictHostKeyChecking=accept-new`): an SSH host key the
   * device does not know is added without asking; a changed one is still refused.
   */
  readonly acceptNewHostKeys: boolean;
  readonly nav: Navigation;
  /** Every context and filter, for `help`. */
  readonly registry: Registry;
  /** Lines entered so far in this session, passwords masked, oldest first. */
  history(): readonly string[];
}

/** The second argument of every `run`. */
export interface CommandEnv {
  readonly services: Services;
  readonly session: SessionApi;
  readonly out: Output;
  readonly ui: Prompter;
  /** The context the command runs in (`do` runs in `exec`). */
  readonly context: Context;
  /** Aborted by Ctrl-C. */
  readonly signal: AbortSignal;
}

/** `persistent` */
export function flag(word: string, help: string, key = word): FlagOption {
  return { kind: 'flag', word, key, help };
}

/** `media <label>` */
export function option(
  word: string,
  type: ParamType,
  help: string,
  extra: {
    key?: string;
    display?: string;
    secret?: boolean;
    skipIf?: (args: Args) => boolean;
    conflict?: string;
  } = {},
): ValueOption {
  return {
    kind: 'value',
    word,
    key: extra.key ?? word,
    type,
    help,
    ...(extra.display === undefined ? {} : { display: extra.display }),
    ...(extra.secret === undefined ? {} : { secret: extra.secret }),
    ...(extra.skipIf === undefined ? {} : { skipIf: extra.skipIf }),
    ...(extra.conflict === undefined ? {} : { conflict: extra.conflict }),
  };
}

/** `[persistent] [media <label>] …` */
export function options(...decls: OptionDecl[]): OptionsParam {
  return { kind: 'options', options: decls };
}

/** A positional parameter. */
export function arg(
  key: string,
  type: ParamType,
  extra: { help?: string; optional?: boolean; skipIf?: (args: Args) => boolean } = {},
): ArgParam {
  return { kind: 'arg', key, type, ...extra };
}

/** The keywords an options entry answers to. */
export function optionWords(decl: OptionDecl): readonly string[] {
  return decl.kind === 'oneOf' ? decl.words.map((w) => w.word) : [decl.word];
}

/** The usage line of a command, derived from its declaration (the manual's notation). */
export function usage(command: Command): string {
  return usagePieces(command).join(' ');
}

/** The usage line in pieces that are not to be broken: `install`, `[media <label>]`, `address[:port]`. */
export function usagePieces(command: Command): string[] {
  const parts = [command.name];
  if (command.enter !== undefined) parts.push(`[COMMAND]`);
  if (command.delegate !== undefined) parts.push('COMMAND');
  for (const param of command.params ?? []) {
    if (param.kind === 'arg') {
      parts.push(param.optional ? `[${param.type.name}]` : param.type.name);
      continue;
    }
    for (const decl of param.options) {
      if (decl.kind === 'flag') parts.push(`[${decl.word}]`);
      else if (decl.kind === 'oneOf') parts.push(`[${decl.words.map((w) => w.word).join('|')}]`);
      else parts.push(`[${decl.word} ${decl.display ?? decl.type.name}]`);
    }
  }
  return parts;
}

/** An output filter at work: takes each line, gives the lines to pass on; `end` flushes (`count`). */
export interface LineFilter {
  line(text: string): readonly string[];
  end(): readonly string[];
}
