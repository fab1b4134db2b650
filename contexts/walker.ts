// Walks the words of a line through the declarations of a context: the state machine behind the parser.
import { printable, shown } from '../common/text.js';
import { CliError } from './errors.js';
import type {
  Args,
  Command,
  Context,
  OptionDecl,
  OptionsParam,
  Param,
  ParamType,
  Registry,
  ValueOption,
} from './grammar.js';
import { optionWords } from './grammar.js';
import type { Token } from './tokenize.js';

/** What a line asks for. */
export type Invocation =
  | { readonly kind: 'empty' }
  | { readonly kind: 'enter'; readonly context: string }
  | { readonly kind: 'run'; readonly context: Context; readonly command: Command; readonly args: Args };

/** One output filter after `|`. */
interface Entry {
  readonly words: readonly string[];
  readonly command: Command;
}

export interface Expect {
  readonly word?: string;
  readonly type?: ParamType;
  readonly help: string;
  readonly cr?: boolean;
  /** With `cr`: output filters may follow (not after a context name). */
  readonly pipe?: boolean;
}

export const PIPE_HELP = 'Output modifiers (include, exclude, begin, count)';

type State =
  | { phase: 'words'; entries: Entry[]; depth: number }
  | {
      phase: 'params';
      command: Command;
      index: number;
      used: Set<OptionDecl>;
      args: Record<string, unknown>;
      pending: ValueOption | undefined;
      /** The start of the pending option's value, when its type joins it with the next word. */
      partial: string | undefined;
      rest: boolean;
    }
  | { phase: 'nested'; command: Command; target: Context; walker: Walker | undefined };

/**
 * Walks the words of one segment (the part before `|`, or one filter) through a context's
 * declarations. `feed` takes complete words; `finish` gives the invocation; `expect` says what may
 * come next. Errors are `CliError`s whose quoted text never shows a secret.
 */
export class Walker {
  private state: State;
  /** Secret values seen (their token start offsets), for redaction. */
  readonly secrets: Set<number>;

  constructor(
    private readonly registry: Registry,
    readonly context: Context,
    /** Run as `CONTEXT COMMAND` from the top: navigation commands are not offered. */
    oneShot: boolean,
    /** The words so far as they may be shown (secrets masked), shared with nested walkers. */
    private readonly shown: string[],
    /** The raw text of the line from a token to the end of its segment (for rest-of-line values). */
    private readonly restOf: (token: Token) => string,
    secrets?: Set<number>,
  ) {
    this.secrets = secrets ?? new Set();
    this.state = { phase: 'words', entries: entriesOf(context, oneShot), depth: 0 };
  }

  feed(token: Token): void {
    const s = this.state;
    if (s.phase === 'nested') {
      if (s.walker === undefined) {
        s.walker = new Walker(
          this.registry,
          s.target,
          s.command.enter !== undefined,
          this.shown,
          this.restOf,
          this.secrets,
        );
      }
      s.walker.feed(token);
      return;
    }
    if (s.phase === 'params') {
      this.feedParam(s, token);
      return;
    }
    const next = wordsAt(s.entries, s.depth);
    const match = token.quoted ? [] : matchWord(token.text, [...next.keys()], (w) => isHidden(next.get(w)!));
    if (match.length === 1) {
      this.shown.push(this.display(token));
      s.entries = next.get(match[0]!)!;
      s.depth++;
      const commands = new Set(s.entries.map((e) => e.command));
      if (commands.size === 1 && s.entries.every((e) => e.words.length === s.depth))
        this.begin(s.entries[0]!.command);
      return;
    }
    if (match.length > 1) {
      throw new CliError('CLI_AMBIGUOUS', `ambiguous command "${this.quote(token)}": ${match.join(', ')}`);
    }
    const complete = s.depth > 0 ? s.entries.find((e) => e.words.length === s.depth) : undefined;
    if (complete !== undefined) {
      this.begin(complete.command);
      this.feed(token);
      return;
    }
    const hint = this.topLevelHint(token);
    const first = this.shown[0] ?? this.display(token);
    const more = this.shown.length > 0 || this.restOf(token) !== token.text ? ' …' : '';
    // With the hint, its `do package …` already says that more words followed.
    throw new CliError('CLI_UNKNOWN_COMMAND', `unknown command "${this.quote(token)}"${hint}`, {
      brief: `unknown command "${first}${hint === '' ? more : ''}"${hint}`,
    });
  }

  /**
   * For the first word of a line in a context: when it names a top-level command, how to reach it
   * (`: a top-level command; use end, or do package …`). A context entered by one `-c` stays for
   * the next, as in vtysh, so `-c package -c 'package show'` meets this. Only the word itself is
   * repeated (`…` stands for the rest): the rest may hold anything, a password included.
   */
  private topLevelHint(token: Token): string {
    const s = this.state;
    if (s.phase !== 'words' || s.depth > 0 || this.shown.length > 0 || token.quoted) return '';
    const top = this.registry.contexts.exec;
    if (top === undefined || top === this.context) return '';
    const next = wordsAt(entriesOf(top, false), 0);
    if (matchWord(token.text, [...next.keys()], (w) => isHidden(next.get(w)!)).length !== 1) return '';
    const more = this.restOf(token) !== token.text ? ' …' : '';
    return `: a top-level command; use end, or do ${this.display(token)}${more}`;
  }

  private begin(command: Command): void {
    if (command.enter !== undefined || command.delegate !== undefined) {
      const name = command.enter ?? command.delegate!;
      const target = this.registry.contexts[name];
      if (target === undefined) throw new Error(`command ${command.name} names an unknown context ${name}`);
      this.state = { phase: 'nested', command, target, walker: undefined };
      return;
    }
    this.state = {
      phase: 'params',
      command,
      index: 0,
      used: new Set(),
      args: {},
      pending: undefined,
      partial: undefined,
      rest: false,
    };
  }

  private feedParam(s: Extract<State, { phase: 'params' }>, token: Token): void {
    if (s.rest) return;
    if (s.pending !== undefined) {
      const decl = s.pending;
      if (decl.secret) this.secrets.add(token.start);
      this.shown.push(decl.secret ? '****' : this.display(token));
      if (!decl.secret && !token.quoted && s.partial === undefined && decl.type.joinsNext?.(token.text)) {
        s.partial = token.text;
        return;
      }
      const value = s.partial === undefined ? token : { ...token, text: `${s.partial} ${token.text}` };
      s.pending = undefined;
      s.partial = undefined;
      s.args[decl.key] = parseValue(decl.type, value, decl.secret === true, decl.word);
      return;
    }
    const params = s.command.params ?? [];
    for (; s.index < params.length; s.index++) {
      const param = params[s.index]!;
      if (param.kind === 'options') {
        if (token.quoted) continue;
        if (this.feedOption(s, param, token)) return;
        continue;
      }
      if (param.skipIf?.(s.args)) continue;
      // An optional value gives way to a keyword that may follow it (`upgrade dry-run`); quoted, the
      // word is the value (`upgrade "dry-run"`).
      if (param.optional && !token.quoted && this.keywordLater(params, s.index + 1, s, token.text)) continue;
      if (param.type.rest) {
        s.args[param.key] = param.type.parse(this.restOf(token));
        s.rest = true;
        s.index++;
        return;
      }
      s.args[param.key] = parseValue(param.type, token, false, param.type.name);
      this.shown.push(this.display(token));
      s.index++;
      return;
    }
    throw new CliError(
      'CLI_UNEXPECTED',
      `unexpected word "${this.display(token)}" after "${this.shown.join(' ')}"`,
    );
  }

  /** Whether `word` is exactly a keyword of an options block from `index` on that is still free. */
  private keywordLater(
    params: readonly Param[],
    index: number,
    s: Extract<State, { phase: 'params' }>,
    word: string,
  ): boolean {
    const typed = word.toLowerCase();
    return params
      .slice(index)
      .some(
        (p) =>
          p.kind === 'options' &&
          p.options.some((d) => !s.used.has(d) && !d.skipIf?.(s.args) && optionWords(d).includes(typed)),
      );
  }

  /** Consumes `token` as one of the block's keywords; false when it is none of them. */
  private feedOption(s: Extract<State, { phase: 'params' }>, param: OptionsParam, token: Token): boolean {
    const free = param.options.filter((d) => !s.used.has(d) && !d.skipIf?.(s.args));
    const words = free.flatMap(optionWords);
    const match = matchWord(token.text, words, () => false);
    if (match.length > 1) {
      throw new CliError('CLI_AMBIGUOUS', `ambiguous command "${this.quote(token)}": ${match.join(', ')}`);
    }
    if (match.length === 0) {
      const typed = token.text.toLowerCase();
      const barred = param.options.find(
        (d) =>
          d.kind !== 'oneOf' && d.word === typed && d.skipIf?.(s.args) && (d.kind === 'value' || d.conflict),
      );
      if (barred !== undefined && barred.kind !== 'oneOf') {
        throw new CliError(
          'CLI_UNEXPECTED',
          barred.conflict ?? `${barred.word} cannot be combined with what came before`,
        );
      }
      const again = param.options.find((d) => s.used.has(d) && optionWords(d).includes(typed));
      if (again !== undefined) {
        const what = again.kind === 'oneOf' ? again.words.map((w) => w.word).join('|') : again.word;
        throw new CliError('CLI_UNEXPECTED', `"${what}" given twice in "${this.quote(token)}"`);
      }
      return false;
    }
    const word = match[0]!;
    const decl = free.find((d) => optionWords(d).includes(word))!;
    s.used.add(decl);
    this.shown.push(word);
    if (decl.kind === 'flag') s.args[decl.key] = true;
    else if (decl.kind === 'oneOf') s.args[decl.key] = word;
    else s.pending = decl;
    return true;
  }

  /** The invocation of the words fed so far; throws when they do not make a complete command. */
  finish(): Invocation {
    const s = this.state;
    if (s.phase === 'words') {
      if (s.depth === 0) return { kind: 'empty' };
      const complete = s.entries.find((e) => e.words.length === s.depth);
      if (complete === undefined) {
        const next = [...wordsAt(s.entries, s.depth).keys()].filter(
          (w) => !isHidden(wordsAt(s.entries, s.depth).get(w)!),
        );
        throw this.incomplete(next.sort().join(', '));
      }
      this.begin(complete.command);
      return this.finish();
    }
    if (s.phase === 'nested') {
      if (s.walker !== undefined) return s.walker.finish();
      if (s.command.enter !== undefined) return { kind: 'enter', context: s.command.enter };
      throw this.incomplete('a command');
    }
    if (s.pending !== undefined) throw this.incomplete(s.pending.display ?? s.pending.type.name);
    const params = s.command.params ?? [];
    for (let i = s.index; i < params.length; i++) {
      const param = params[i]!;
      if (param.kind === 'options' || param.skipIf?.(s.args)) continue;
      if (param.optional && !param.requiredIf?.(s.args)) continue;
      throw this.incomplete(param.type.name);
    }
    return { kind: 'run', context: this.context, command: s.command, args: s.args };
  }

  /** What may come next after the words fed so far. */
  expect(): Expect[] {
    const s = this.state;
    if (s.phase === 'nested') {
      if (s.walker !== undefined) return s.walker.expect();
      const inner = wordExpectations(entriesOf(s.target, s.command.enter !== undefined), 0, s.target);
      return s.command.enter !== undefined ? [...inner, enterHere(s.target)] : inner;
    }
    if (s.phase === 'words') {
      const out = wordExpectations(s.entries, s.depth, this.context);
      const complete = s.depth > 0 ? s.entries.find((e) => e.words.length === s.depth) : undefined;
      if (complete === undefined) return out;
      if (complete.command.enter !== undefined) {
        const target = this.registry.contexts[complete.command.enter]!;
        return [...out, ...wordExpectations(entriesOf(target, true), 0, target), enterHere(target)];
      }
      if (complete.command.delegate !== undefined) {
        return [
          ...out,
          ...wordExpectations(
            entriesOf(this.registry.contexts[complete.command.delegate]!, false),
            0,
            this.registry.contexts[complete.command.delegate]!,
          ),
        ];
      }
      return [...out, ...paramExpectations(complete.command, 0, new Set(), {}, undefined)];
    }
    if (s.rest) return [{ help: '', cr: true, pipe: true }];
    return paramExpectations(s.command, s.index, s.used, s.args, s.pending);
  }

  /** The command the words fed so far name, if they name one already (for `help COMMAND`). */
  named(): { command: Command; context: Context } | undefined {
    const s = this.state;
    if (s.phase === 'params') return { command: s.command, context: this.context };
    if (s.phase === 'nested') return s.walker?.named() ?? { command: s.command, context: this.context };
    const complete = s.depth > 0 ? s.entries.find((e) => e.words.length === s.depth) : undefined;
    return complete === undefined ? undefined : { command: complete.command, context: this.context };
  }

  /** A word as a message may repeat it: a secret as `****`, else escaped and cut at 80 characters. */
  private display(token: Token): string {
    if (token.secret) return '****';
    if (token.secretFrom !== undefined) return `${shown(token.text.slice(0, token.secretFrom))}****`;
    return shown(token.text);
  }

  /** The words so far and `token`, as an error quotes the command. */
  private quote(token: Token): string {
    return [...this.shown, this.display(token)].join(' ');
  }

  private incomplete(expected: string): CliError {
    return new CliError(
      'CLI_INCOMPLETE',
      `incomplete command "${this.shown.join(' ')}": expected ${printable(expected)}`,
    );
  }
}

/**
 * A value through its type's `parse`. A secret (a `password` value, or any word the tokenizer read
 * as one) is never repeated by the error: `invalid password: expected a word without control
 * characters`.
 */
function parseValue(type: ParamType, token: Token, secret: boolean, name: string): unknown {
  if (!secret && !token.secret && token.secretFrom === undefined) return type.parse(token.text);
  try {
    return type.parse(token.text);
  } catch (e) {
    const expected = e instanceof CliError ? e.expected : undefined;
    throw new CliError('CLI_INVALID_VALUE', `invalid ${name}: ${expected ?? 'not accepted'}`);
  }
}

function enterHere(context: Context): Expect {
  return { help: `Enter the ${context.name} context`, cr: true };
}

function entriesOf(context: Context, oneShot: boolean): Entry[] {
  const entries: Entry[] = [];
  for (const command of context.commands) {
    if (oneShot && command.navigation) continue;
    for (const name of [command.name, ...(command.aliases ?? [])])
      entries.push({ words: name.split(' '), command });
  }
  return entries;
}

function wordsAt(entries: readonly Entry[], depth: number): Map<string, Entry[]> {
  const map = new Map<string, Entry[]>();
  for (const e of entries) {
    const w = e.words[depth];
    if (w === undefined) continue;
    const list = map.get(w);
    if (list === undefined) map.set(w, [e]);
    else list.push(e);
  }
  return map;
}

function isHidden(entries: readonly Entry[]): boolean {
  return entries.every((e) => e.command.hidden === true);
}

/**
 * The words `typed` may stand for: an exact match wins, else every word it is a prefix of
 * (case-insensitive). Hidden words match only exactly.
 */
function matchWord(typed: string, words: readonly string[], hidden: (word: string) => boolean): string[] {
  const t = typed.toLowerCase();
  if (t === '') return [];
  if (words.includes(t)) return [t];
  return words.filter((w) => w.startsWith(t) && !hidden(w)).sort();
}

function wordExpectations(entries: readonly Entry[], depth: number, context: Context): Expect[] {
  const out: Expect[] = [];
  for (const [word, list] of wordsAt(entries, depth)) {
    if (isHidden(list)) continue;
    const last = list.find((e) => e.words.length === depth + 1);
    const help = last?.command.help ?? context.groups?.[list[0]!.words.slice(0, depth + 1).join(' ')] ?? '';
    out.push({ word, help });
  }
  return out;
}

function paramExpectations(
  command: Command,
  index: number,
  used: ReadonlySet<OptionDecl>,
  args: Args,
  pending: ValueOption | undefined,
): Expect[] {
  if (pending !== undefined) return [{ type: pending.type, help: pending.help }];
  const out: Expect[] = [];
  const params = command.params ?? [];
  for (let i = index; i < params.length; i++) {
    const param = params[i]!;
    if (param.kind === 'options') {
      for (const decl of param.options) {
        if (used.has(decl) || decl.skipIf?.(args)) continue;
        if (decl.kind === 'oneOf') for (const w of decl.words) out.push({ word: w.word, help: w.help });
        else out.push({ word: decl.word, help: decl.help });
      }
      continue;
    }
    if (param.skipIf?.(args)) continue;
    out.push({ type: param.type, help: param.help ?? param.type.help });
    if (!param.optional || param.requiredIf?.(args)) return out;
  }
  out.push({ help: '', cr: true, pipe: true });
  return out;
}
