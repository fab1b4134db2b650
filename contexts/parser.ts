// The one parser of every front-end: a line → a command and its arguments, plus `?` help, TAB candidates, redaction.
import { printable } from '../common/text.js';
import type { CompletionEnv } from './env.js';
import { CliError } from './errors.js';
import type { Args, Command, Context, ParamType, Registry } from './grammar.js';
import { type SecretWords, secretWordsOf } from './secret-words.js';
import { renderPairs } from './table.js';
import { quoteWord, type Token, tokenize } from './tokenize.js';
import { type Invocation, PIPE_HELP, Walker } from './walker.js';

export type { Invocation };
export { quoteWord };

export interface FilterCall {
  readonly command: Command;
  readonly args: Args;
}

/** A parsed line: the invocation, whether `| json` asks for its document, and its line filters in order. */
export interface ParsedLine {
  readonly invocation: Invocation;
  /** `| json`: print the command's document (`data`) instead of its text; the filters act on its lines. */
  readonly json: boolean;
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
  let json = false;
  for (const [i, seg] of filters.entries()) {
    const fw = new Walker(registry, registry.filters, true, ['|'], rest);
    for (const t of seg) fw.feed(t);
    const inv = fw.finish();
    if (inv.kind === 'empty')
      throw new CliError('CLI_INCOMPLETE', 'incomplete command "|": expected a filter');
    if (inv.kind !== 'run') throw new Error('a filter cannot enter a context');
    if (invocation.kind !== 'run')
      throw new CliError('CLI_UNEXPECTED', 'output filters apply to commands only');
    if (inv.command.json === true) {
      if (invocation.command.data === undefined)
        throw new CliError('CLI_UNEXPECTED', `${commandName(invocation)} has no JSON output`);
      if (i > 0)
        throw new CliError('CLI_UNEXPECTED', 'json comes right after the command, before the other filters');
      json = true;
      continue;
    }
    calls.push({ command: inv.command, args: inv.args });
  }
  return { invocation, json, filters: calls };
}

/** A command as an error names it: `show version`, `package show` (in the context it belongs to). */
function commandName(invocation: Extract<Invocation, { kind: 'run' }>): string {
  const where = invocation.context.name === 'exec' ? '' : `${invocation.context.name} `;
  return `${where}${invocation.command.name}`;
}

/**
 * The output modifiers that may follow the `index`-th `|` of a line whose command is `command`:
 * `json` only first, and only after a command that has a document; the line filters always.
 */
function filtersAfter(registry: Registry, command: Command | undefined, index: number): Context {
  const json = index === 0 && command?.data !== undefined;
  return json
    ? registry.filters
    : { ...registry.filters, commands: registry.filters.commands.filter((c) => c.json !== true) };
}

/** What `|` offers after `command`, for `?`. */
function pipeHelp(command: Command | undefined): string {
  return command?.data === undefined ? PIPE_HELP : PIPE_HELP.replace('(', '(json, ');
}

/** The walker positioned before the last (partial) word, and that word. */
function position(
  registry: Registry,
  contextName: string,
  line: string,
): { walker: Walker; command: Command | undefined; partial: string; start: number } | undefined {
  const { tokens, open } = tokenize(line, secretsOf(registry), true);
  const endsInBlank = !open && (line === '' || /\s$/.test(line));
  const last = tokens[tokens.length - 1];
  const partialToken = !endsInBlank && last !== undefined && !last.pipe ? last : undefined;
  const done = partialToken === undefined ? tokens : tokens.slice(0, -1);
  const rest = restFn(line, tokens);
  const pipes = done.filter((t) => t.pipe).length;
  const firstPipe = done.findIndex((t) => t.pipe);
  const lastPipe = done.map((t) => t.pipe).lastIndexOf(true);
  const main = new Walker(registry, contextOf(registry, contextName), false, [], rest);
  let command: Command | undefined;
  try {
    for (const t of done.slice(0, firstPipe < 0 ? done.length : firstPipe)) main.feed(t);
    command = main.named()?.command;
  } catch {
    // After a `|` the filters are still offered; `json` only after a command understood.
    if (lastPipe < 0) return undefined;
  }
  const walker =
    lastPipe < 0 ? main : new Walker(registry, filtersAfter(registry, command, pipes - 1), true, ['|'], rest);
  try {
    if (lastPipe >= 0) for (const t of done.slice(lastPipe + 1)) walker.feed(t);
  } catch {
    return undefined;
  }
  return { walker, command, partial: partialToken?.text ?? '', start: partialToken?.start ?? line.length };
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
      if (e.pipe) add({ label: '|', help: pipeHelp(at.command), literal: true });
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
    const masked =
      t.secret || walker.secrets.has(t.start)
        ? '****'
        : t.secretFrom !== undefined
          ? `${raw.slice(0, t.secretFrom)}****`
          : maskUserinfo(raw);
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
  const context = contextOf(registry, contextName);
  // A command of several words whose first word is a command too (`show whatdepends` beside `show`):
  // its words written out in full name it.
  const typed = tokens.map((t) => t.text.toLowerCase());
  let longest: Command | undefined;
  for (const command of context.commands) {
    const parts = command.name.split(' ');
    if (parts.length > 1 && parts.every((p, i) => typed[i] === p)) {
      if (longest === undefined || parts.length > longest.name.split(' ').length) longest = command;
    }
  }
  if (longest !== undefined) return { command: longest, context };
  const walker = new Walker(registry, context, false, [], restFn(words, tokens));
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
