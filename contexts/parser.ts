// The one parser of every front-end: a line → a command and its arguments, plus `?` help, TAB candidates, redaction.

import { printable, shown } from '../common/text.js';
import type { CompletionEnv } from './env.js';
import { CliError } from './errors.js';
import type {
  Args,
  Command,
  Context,
  OptionDecl,
  OptionsParam,
  ParamType,
  Registry,
  ValueOption,
} from './grammar.js';
import { optionWords } from './grammar.js';
import { type SecretWords, secretWordsOf } from './secret-words.js';
import { renderPairs } from './table.js';
import { quoteWord, type Token, tokenize } from './tokenize.js';

export { quoteWord };

/** What a line asks for. */
export type Invocation =
  | { readonly kind: 'empty' }
  | { readonly kind: 'enter'; readonly context: string }
  | { readonly kind: 'run'; readonly context: Context; readonly command: Command; readonly args: Args };

/** One output filter after `|`. */
export interface FilterCall {
  readonly command: Command;
  readonly args: Args;
}

/** A parsed line: the invocation and its output filters in order. */
export interface ParsedLine {
  readonly invocation: Invocation;
  readonly filters: readonly FilterCall[];
}

/** One thing that may come next, for `?`. */
export interface HelpItem {
  /** A keyword, `|`, `<cr>`, or a value's name such as `PKGNAME.wmopkg`. */
  readonly label: string;
  readonly help: string;
  /** Whether `label` is a literal word to type (a keyword) rather than a placeholder. */
  readonly literal: boolean;
}

/** TAB candidates for the word under the cursor. */
export interface Completion {
  /** Offset in the line where the word being completed starts. */
  readonly start: number;
  /** The word as typed so far (unquoted). */
  readonly partial: string;
  /** Full words that may replace it, sorted, without duplicates. */
  readonly candidates: readonly string[];
}

interface Entry {
  readonly words: readonly string[];
  readonly command: Command;
}

interface Expect {
  readonly word?: string;
  readonly type?: ParamType;
  readonly help: string;
  readonly cr?: boolean;
  /** With `cr`: output filters may follow (not after a context name). */
  readonly pipe?: boolean;
}

const PIPE_HELP = 'Output modifiers (include, exclude, begin, count)';

type State =
  | { phase: 'words'; entries: Entry[]; depth: number }
  | {
      phase: 'params';
      command: Command;
      index: number;
      used: Set<OptionDecl>;
      args: Record<string, unknown>;
      pending: ValueOption | undefined;
      rest: boolean;
    }
  | { phase: 'nested'; command: Command; target: Context; walker: Walker | undefined };

/**
 * Walks the words of one segment (the part before `|`, or one filter) through a context's
 * declarations. `feed` takes complete words; `finish` gives the invocation; `expect` says what may
 * come next. Errors are `CliError`s whose quoted text never shows a secret.
 */
class Walker {
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
    throw new CliError(
      'CLI_UNKNOWN_COMMAND',
      `unknown command "${this.quote(token)}"${this.topLevelHint(token)}`,
    );
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
      rest: false,
    };
  }

  private feedParam(s: Extract<State, { phase: 'params' }>, token: Token): void {
    if (s.rest) return;
    if (s.pending !== undefined) {
      const decl = s.pending;
      s.pending = undefined;
      if (decl.secret) this.secrets.add(token.start);
      this.shown.push(decl.secret ? '****' : this.display(token));
      s.args[decl.key] = parseValue(decl.type, token, decl.secret === true, decl.word);
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
      const barred = param.options.find((d) => d.kind === 'value' && d.word === typed && d.skipIf?.(s.args));
      if (barred?.kind === 'value') {
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
      if (param.kind === 'options' || param.optional || param.skipIf?.(s.args)) continue;
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
    return token.secret ? '****' : shown(token.text);
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
  if (!secret && !token.secret) return type.parse(token.text);
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
    if (!param.optional) return out;
  }
  out.push({ help: '', cr: true, pipe: true });
  return out;
}

interface Segments {
  readonly main: Token[];
  readonly filters: Token[][];
}

function segments(tokens: readonly Token[]): Segments {
  const parts: Token[][] = [[]];
  for (const t of tokens) {
    if (t.pipe) parts.push([]);
    else parts[parts.length - 1]!.push(t);
  }
  return { main: parts[0]!, filters: parts.slice(1) };
}

function restFn(line: string, tokens: readonly Token[]): (token: Token) => string {
  return (token) => {
    const pipe = tokens.find((t) => t.pipe && t.start > token.start);
    const end = pipe === undefined ? line.length : pipe.start;
    const words = tokens.filter((t) => t.start >= token.start && t.end <= end);
    // One quoted word is taken without its quotes (`| include "a|b"`); several words as typed.
    return words.length === 1 ? token.text : line.slice(token.start, end).trim();
  };
}

/** The secret keywords of a registry's grammar. */
export function secretsOf(registry: Registry): SecretWords {
  return secretWordsOf(registry.contexts);
}

function contextOf(registry: Registry, name: string): Context {
  const context = registry.contexts[name];
  if (context === undefined) throw new Error(`unknown context ${name}`);
  return context;
}

/** Parses a complete line typed in context `contextName`. Throws `CliError`s of the classes of SPEC §3.3. */
export function parseLine(registry: Registry, contextName: string, line: string): ParsedLine {
  const { tokens } = tokenize(line, secretsOf(registry));
  const { main, filters } = segments(tokens);
  const rest = restFn(line, tokens);
  const walker = new Walker(registry, contextOf(registry, contextName), false, [], rest);
  for (const t of main) walker.feed(t);
  const invocation = walker.finish();
  const calls: FilterCall[] = [];
  for (const seg of filters) {
    const fw = new Walker(registry, registry.filters, true, ['|'], rest);
    for (const t of seg) fw.feed(t);
    const inv = fw.finish();
    if (inv.kind === 'empty')
      throw new CliError('CLI_INCOMPLETE', 'incomplete command "|": expected a filter');
    if (inv.kind !== 'run') throw new Error('a filter cannot enter a context');
    calls.push({ command: inv.command, args: inv.args });
  }
  if (calls.length > 0 && invocation.kind !== 'run') {
    throw new CliError('CLI_UNEXPECTED', 'output filters apply to commands only');
  }
  return { invocation, filters: calls };
}

/** The walker positioned before the last (partial) word, and that word. */
function position(
  registry: Registry,
  contextName: string,
  line: string,
): { walker: Walker; partial: string; start: number } | undefined {
  const { tokens, open } = tokenize(line, secretsOf(registry), true);
  const endsInBlank = !open && (line === '' || /\s$/.test(line));
  const last = tokens[tokens.length - 1];
  const partialToken = !endsInBlank && last !== undefined && !last.pipe ? last : undefined;
  const done = partialToken === undefined ? tokens : tokens.slice(0, -1);
  const rest = restFn(line, tokens);
  const lastPipe = done.map((t) => t.pipe).lastIndexOf(true);
  const walker =
    lastPipe < 0
      ? new Walker(registry, contextOf(registry, contextName), false, [], rest)
      : new Walker(registry, registry.filters, true, ['|'], rest);
  try {
    for (const t of done.slice(lastPipe + 1)) walker.feed(t);
  } catch {
    return undefined;
  }
  return { walker, partial: partialToken?.text ?? '', start: partialToken?.start ?? line.length };
}

/**
 * What may come next on `line` (the `?` key): keywords with their help, value placeholders, `<cr>`
 * when the line can run as it is, `|` when output filters may follow. With a partial word at the
 * end, only the keywords and values it may start. Never throws; an invalid line lists nothing.
 */
export async function helpAt(
  registry: Registry,
  contextName: string,
  line: string,
  env: CompletionEnv,
): Promise<HelpItem[]> {
  const at = position(registry, contextName, line);
  if (at === undefined) return [];
  const items: HelpItem[] = [];
  const seen = new Set<string>();
  const add = (item: HelpItem): void => {
    if (seen.has(item.label)) return;
    seen.add(item.label);
    items.push(item);
  };
  const partial = at.partial.toLowerCase();
  for (const e of at.walker.expect()) {
    if (e.word !== undefined) {
      if (e.word.startsWith(partial)) add({ label: e.word, help: e.help, literal: true });
    } else if (e.type !== undefined) {
      if (partial === '') add({ label: e.type.name, help: e.help, literal: false });
      else
        for (const c of await valueCandidates(e.type, at.partial, env))
          add({ label: c, help: e.help, literal: true });
    } else if (e.cr && partial === '') {
      add({ label: '<cr>', help: e.help || 'Run the command', literal: false });
      if (e.pipe) add({ label: '|', help: PIPE_HELP, literal: true });
    }
  }
  return items;
}

async function valueCandidates(
  type: ParamType,
  prefix: string,
  env: CompletionEnv,
): Promise<readonly string[]> {
  if (type.complete === undefined) return [];
  try {
    return await type.complete(prefix, env);
  } catch {
    return [];
  }
}

/** TAB candidates for the word at the end of `line`. Never throws; an invalid line has none. */
export async function completeAt(
  registry: Registry,
  contextName: string,
  line: string,
  env: CompletionEnv,
): Promise<Completion> {
  const at = position(registry, contextName, line);
  if (at === undefined) return { start: line.length, partial: '', candidates: [] };
  const partial = at.partial.toLowerCase();
  const found = new Set<string>();
  for (const e of at.walker.expect()) {
    if (e.word !== undefined) {
      if (e.word.startsWith(partial)) found.add(e.word);
    } else if (e.type !== undefined) {
      for (const c of await valueCandidates(e.type, at.partial, env)) found.add(c);
    }
  }
  return { start: at.start, partial: at.partial, candidates: [...found].sort() };
}

/**
 * The line as it may be stored or shown (history, `--echo`, the process title): every secret replaced
 * by `****`. Secrets are the values the grammar declares secret (`password X`) and, whatever the
 * grammar makes of the line, every word the tokenizer read after a `password` keyword, so that a
 * mistyped line never leaks its secret either. Credentials written into an address
 * (`user:pass@host`, which `address[:port]` refuses) are masked too: `user:****@host`.
 */
export function redact(registry: Registry, contextName: string, line: string): string {
  const { tokens } = tokenize(line, secretsOf(registry), true);
  const { main } = segments(tokens);
  const walker = new Walker(registry, contextOf(registry, contextName), false, [], restFn(line, tokens));
  for (const t of main) {
    try {
      walker.feed(t);
    } catch {
      break;
    }
  }
  let out = '';
  let at = 0;
  for (const t of tokens) {
    const raw = line.slice(t.start, t.end);
    const masked = t.secret || walker.secrets.has(t.start) ? '****' : maskUserinfo(raw);
    if (masked === raw) continue;
    out += line.slice(at, t.start) + masked;
    at = t.end;
  }
  return at === 0 ? line : out + line.slice(at);
}

/**
 * `user:pass@host`, `ftp://user:pass@host/x` → `user:****@host`, `ftp://user:****@host/x`. The
 * password runs to the last `@` (it may hold one).
 */
function maskUserinfo(word: string): string {
  return word.replace(/^([a-z][a-z0-9+.-]*:\/\/)?([^\s:@/]*):\S*@/i, '$1$2:****@');
}

/** The command that `words` name in a context (`help show version`); throws like `parseLine`. */
export function lookup(
  registry: Registry,
  contextName: string,
  words: string,
): { command: Command; context: Context } {
  const { tokens } = tokenize(words, secretsOf(registry));
  const walker = new Walker(registry, contextOf(registry, contextName), false, [], restFn(words, tokens));
  for (const t of tokens) {
    const before = walker.named();
    if (before !== undefined && before.command.enter === undefined && before.command.delegate === undefined)
      return before;
    walker.feed(t);
  }
  const found = walker.named();
  if (found !== undefined) return found;
  walker.finish();
  throw new CliError('CLI_INCOMPLETE', `incomplete command "${printable(words)}"`);
}

/**
 * The lines `?` prints: one item a line, labels aligned, help texts wrapped at spaces within
 * `width` columns (the terminal's); an invalid line says so.
 */
export function formatHelp(items: readonly HelpItem[], width: number): string[] {
  if (items.length === 0) return ['% Unrecognized command'];
  return renderPairs(
    items.map((i) => [i.label, i.help]),
    width,
    2,
  );
}

/**
 * A line that ends in an unquoted `?`: the text before it, else `undefined`. A `?` that ends a
 * password is part of it (`password Hunter2?`); a `?` alone after `password` asks for help.
 */
export function helpRequest(line: string, secrets: SecretWords): string | undefined {
  if (!line.endsWith('?')) return undefined;
  const last = tokenize(line, secrets, true).tokens.at(-1);
  if (last?.secret && last.end === line.length && last.text !== '?') return undefined;
  const before = line.slice(0, -1);
  return tokenize(before, secrets, true).open ? undefined : before;
}
