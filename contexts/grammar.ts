// Commands declared as data (klish VIEW/COMMAND/PARAM, oclif flags): the types and the small builders.

import { shown } from '../common/text.js';
import type { CompletionEnv, Navigation, Output, Prompter, Services, TerminalSettings } from './env.js';
import { CliError } from './errors.js';
import type { JsonObject } from './json.js';

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
  /**
   * Whether an option's value typed as `word` is only its start, completed by the next word and
   * joined with a space: a relation before its version (`version >= 2.0`). Quoted words never join.
   */
  joinsNext?(word: string): boolean;
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

/** A positional parameter whose value, of type `T`, is stored under `K`; `Absent` when it may be missing. */
export interface ArgParam<K extends string = string, T = unknown, Absent extends boolean = boolean> {
  readonly kind: 'arg';
  /** Key in the parsed arguments. */
  readonly key: K;
  readonly type: ParamType<T>;
  /** Help for `?`; defaults to the type's. */
  readonly help?: string;
  /** May be left out (at the end of the line). */
  readonly optional?: boolean;
  /** With `optional`: needed after all, given what came before (the file after a server address). */
  readonly requiredIf?: (args: Args) => boolean;
  /** Not expected at all given what came before (`address` after `media <label>`). */
  readonly skipIf?: (args: Args) => boolean;
  /** Type-level only: whether the value may be missing (`optional` or `skipIf`); never set. */
  readonly absent?: Absent;
}

/** A keyword that stands alone in an options block: `persistent`; stored as `true` under `K`. */
export interface FlagOption<K extends string = string> {
  readonly kind: 'flag';
  readonly word: string;
  readonly key: K;
  readonly help: string;
  /** Not accepted (nor offered) given what came before. */
  readonly skipIf?: (args: Args) => boolean;
  /** The error when `skipIf` holds and the word is typed anyway. */
  readonly conflict?: string;
}

/** A keyword followed by a value: `media <label>`, `password <password>`; the value under `K`. */
export interface ValueOption<K extends string = string, T = unknown> {
  readonly kind: 'value';
  readonly word: string;
  readonly key: K;
  readonly type: ParamType<T>;
  readonly help: string;
  /** Shown in usage after the keyword: `<label>`; defaults to the type's name. */
  readonly display?: string;
  /** A secret: masked as `****` in history, logs and error texts; its word is a secret keyword. */
  readonly secret?: boolean;
  /** Not accepted (nor offered) given what came before (`proto` after `media`). */
  readonly skipIf?: (args: Args) => boolean;
  /** The error when `skipIf` holds: `media cannot be combined with proto, user or password`. */
  readonly conflict?: string;
}

/** One keyword out of a set, stored under `K`: `usb|sd|any`. */
export interface OneOfOption<K extends string = string, W extends string = string> {
  readonly kind: 'oneOf';
  readonly key: K;
  readonly words: ReadonlyArray<{ readonly word: W; readonly help: string }>;
  readonly skipIf?: (args: Args) => boolean;
}

/** Any entry of an options block. */
export type OptionDecl = FlagOption | ValueOption | OneOfOption;

/** Optional keywords, each at most once, in any order (`[persistent] [media <label>] …`). */
export interface OptionsParam<D extends readonly OptionDecl[] = readonly OptionDecl[]> {
  readonly kind: 'options';
  readonly options: D;
}

/** One parameter of a command: a positional or a block of optional keywords. */
export type Param = ArgParam | OptionsParam;

/** Parsed arguments as the parser stores them: keys of the declarations, values from the types' `parse`. */
export type Args = Readonly<Record<string, unknown>>;

/** The value an options entry stores when its keyword is given. */
type OptionValue<D> = D extends FlagOption
  ? true
  : D extends ValueOption<string, infer T>
    ? T
    : D extends OneOfOption<string, infer W>
      ? W
      : never;

/** What one parameter adds to the arguments: an entry of an options block is always optional. */
type ParamArgs<P> =
  P extends ArgParam<infer K, infer T, infer Absent>
    ? [Absent] extends [false]
      ? { readonly [k in K]: T }
      : { readonly [k in K]?: T }
    : P extends OptionsParam<infer D>
      ? { readonly [E in D[number] as E['key']]?: OptionValue<E> }
      : never;

/** Turns a union of objects into one object with every key (`{a} | {b}` → `{a} & {b}`, flattened). */
type Merge<U> = (U extends unknown ? (u: U) => void : never) extends (m: infer M) => void
  ? { [k in keyof M]: M[k] }
  : never;

/**
 * The arguments of a command, inferred from its declared parameters: each key typed by its parameter
 * type's `parse`, optional where the parameter may be missing. A key that is not declared, or a value
 * used as another type, is a compile error in `run`.
 */
export type ArgsOf<P extends readonly Param[]> = [P[number]] extends [never]
  ? Record<never, never>
  : Merge<ParamArgs<P[number]>>;

/**
 * A command as declared with `command()`: its `run`, `data` and `filter` receive arguments typed from
 * `params`, and its `text` the document `data` returns.
 */
export interface CommandDecl<P extends readonly Param[], D extends JsonObject>
  extends Omit<Command, 'params' | 'run' | 'filter' | 'data' | 'text'> {
  readonly params?: P;
  run?(args: ArgsOf<P>, env: CommandEnv): Promise<void>;
  filter?(args: ArgsOf<P>): LineFilter;
  data?(args: ArgsOf<P>, env: CommandEnv): Promise<D>;
  text?(doc: D, env: CommandEnv): void | Promise<void>;
}

/**
 * Declares a command whose `run` (or `data`) gets typed arguments (`args.file` is a `PackageFile`
 * because `arg('file', packageFile)` says so). The parser stores under each declared key what that
 * parameter's type parsed, so the typed view is the stored one.
 */
export function command<const P extends readonly Param[] = readonly [], D extends JsonObject = JsonObject>(
  decl: CommandDecl<P, D>,
): Command {
  // The one place where the typed view meets the parser's record (see above).
  return decl as unknown as Command;
}

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
  /**
   * Instead of `run`: the result as a document (docs/automation.md), which `| json` prints and `text`
   * prints as text. A command that has one gets `| json` without anything else to declare.
   */
  data?(args: Args, env: CommandEnv): Promise<JsonObject>;
  /** With `data`: prints its document as the text form (warnings included, with `env.out.warn`). */
  text?(doc: JsonObject, env: CommandEnv): void | Promise<void>;
  /** Output filters (`| include RE`) build a line filter instead of running. */
  filter?(args: Args): LineFilter;
  /** The `json` output modifier: asks for the command's document (`data`) instead of its text. */
  readonly json?: true;
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
  /**
   * Runs `work`, which Ctrl-C must not stop halfway (a boot): meanwhile Ctrl-C prints `notice`
   * (`boot in progress, cannot be interrupted`) instead of aborting the command.
   */
  shielded<T>(notice: string, work: () => Promise<T>): Promise<T>;
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

/** `persistent`: stored as `true` under `key` (the word by default). */
export function flag<const W extends string, const K extends string = W>(
  word: W,
  help: string,
  key?: K,
  extra: { readonly skipIf?: (args: Args) => boolean; readonly conflict?: string } = {},
): FlagOption<K> {
  return { kind: 'flag', word, key: (key ?? word) as K, help, ...extra };
}

/**
 * `confirm`, the last word of a command that asks (y/N): the operator's answer, given on the line, so
 * that `ssh host 'CMD'` needs no stdin (docs/automation.md). The session answers the command's own
 * questions with yes when the arguments hold it under `confirm`; never whether to trust a host key,
 * never a password.
 */
export const confirmFlag = flag('confirm', 'Do not ask: the command is confirmed on this line');

/**
 * `reboot` after a file install: when the install changed what the next boot runs, reboot at once, in
 * the same command (the word is the confirmation); one command line for install, reboot and its report.
 */
export const rebootFlag = flag(
  'reboot',
  'Reboot at once when the install changed the device, and print the boot report',
);

/** `dry-run`: do everything but change the device, and say what would have been done. */
export const dryRunFlag = flag(
  'dry-run',
  'Fetch and verify only: say what would be done, change nothing',
  'dryRun',
);

/** What `option` takes besides the word, the type and the help. */
export interface OptionExtra<K extends string = string> {
  /** Key in the parsed arguments (default: the word). */
  readonly key?: K;
  readonly display?: string;
  readonly secret?: boolean;
  readonly skipIf?: (args: Args) => boolean;
  readonly conflict?: string;
}

/** `media <label>`: the value of `type` stored under `extra.key`, or under the word. */
export function option<const W extends string, T, const K extends string = W>(
  word: W,
  type: ParamType<T>,
  help: string,
  extra: OptionExtra<K> = {},
): ValueOption<K, T> {
  return {
    kind: 'value',
    word,
    key: (extra.key ?? word) as K,
    type,
    help,
    ...(extra.display === undefined ? {} : { display: extra.display }),
    ...(extra.secret === undefined ? {} : { secret: extra.secret }),
    ...(extra.skipIf === undefined ? {} : { skipIf: extra.skipIf }),
    ...(extra.conflict === undefined ? {} : { conflict: extra.conflict }),
  };
}

/** `usb|sd|any`: the word given stored under `key`. */
export function oneOf<const K extends string, const W extends string>(
  key: K,
  words: ReadonlyArray<{ readonly word: W; readonly help: string }>,
): OneOfOption<K, W> {
  return { kind: 'oneOf', key, words };
}

/** `[persistent] [media <label>] …` */
export function options<const D extends readonly OptionDecl[]>(...decls: D): OptionsParam<D> {
  return { kind: 'options', options: decls };
}

/** What `arg` takes besides the key and the type. */
export interface ArgExtra {
  readonly help?: string;
  readonly optional?: boolean;
  readonly requiredIf?: (args: Args) => boolean;
  readonly skipIf?: (args: Args) => boolean;
}

/** A positional parameter; with `optional` or `skipIf` its value may be missing. */
export function arg<const K extends string, T, const X extends ArgExtra = Record<never, never>>(
  key: K,
  type: ParamType<T>,
  extra?: X & ArgExtra,
): ArgParam<K, T, X extends { optional: true } | { skipIf: (args: Args) => boolean } ? true : false> {
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

/**
 * The usage line in pieces that are not to be broken: `install`, `[media <label>]`, `address[:port]`.
 * A keyword that two options blocks take (`dry-run` after a name or after a file) is shown once, at
 * its last place, where every form of the command takes it.
 */
export function usagePieces(command: Command): string[] {
  const parts: Array<{ readonly text: string; readonly word?: string }> = [{ text: command.name }];
  if (command.enter !== undefined) parts.push({ text: `[COMMAND]` });
  if (command.delegate !== undefined) parts.push({ text: 'COMMAND' });
  for (const param of command.params ?? []) {
    if (param.kind === 'arg') {
      parts.push({ text: param.optional ? `[${param.type.name}]` : param.type.name });
      continue;
    }
    for (const decl of param.options) {
      if (decl.kind === 'flag') parts.push({ text: `[${decl.word}]`, word: decl.word });
      else if (decl.kind === 'oneOf') parts.push({ text: `[${decl.words.map((w) => w.word).join('|')}]` });
      else parts.push({ text: `[${decl.word} ${decl.display ?? decl.type.name}]`, word: decl.word });
    }
  }
  return lastOfEachWord(parts).map((p) => p.text);
}

/** `entries` without those whose `word` comes again later (`[dry-run] … [dry-run]` → the last one). */
export function lastOfEachWord<T extends { readonly word?: string }>(entries: readonly T[]): T[] {
  return entries.filter(
    (e, i) => e.word === undefined || !entries.slice(i + 1).some((later) => later.word === e.word),
  );
}

/** An output filter at work: takes each line, gives the lines to pass on; `end` flushes (`count`). */
export interface LineFilter {
  line(text: string): readonly string[];
  end(): readonly string[];
}
