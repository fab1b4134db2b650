// Loads vorpal 1.12 for the TTY front-end, lean and fast, and describes the parts of it the shell drives.
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';

/** Vorpal's readline (inquirer's), whose line the shell edits for `?`, TAB and Ctrl-D. */
export interface VorpalRl {
  line: string;
  cursor: number;
  emit(event: string, ...args: unknown[]): boolean;
}

/** What `ui.prompt` returns: inquirer's prompt UI with its own readline. */
export interface InquirerUi {
  rl?: { removeAllListeners(event: string): unknown; on(event: string, fn: () => void): unknown };
}

/** Vorpal's UI singleton: inquirer prompts on the TTY. */
export interface VorpalUi {
  prompt(
    options: Record<string, unknown>,
    cb: (result: Record<string, unknown>) => void,
  ): InquirerUi | undefined;
  log(...args: string[]): unknown;
  input(text?: string): unknown;
  imprint(): unknown;
  cancel(): unknown;
  _activePrompt?: { rl: VorpalRl };
}

/** Vorpal's local session: history and the TAB hook. */
export interface VorpalSession {
  history(line: string): void;
  getAutocomplete: (line: string, cb: (err: unknown, data?: string | string[]) => void) => void;
}

/** A vorpal instance, as far as the shell uses it (never `exec`: lines go to our parser). */
export interface VorpalInstance {
  ui: VorpalUi;
  session: VorpalSession;
  _prompt: () => void;
  /** Set while a command runs: vorpal then leaves history and TAB alone (our own y/N and password prompts). */
  _command: unknown;
  show(): unknown;
  sigint(fn: () => void): unknown;
  find(name: string): { remove(): unknown } | undefined;
  on(event: 'keypress', fn: (data: { key?: string; value?: string; e?: KeypressEvent }) => void): unknown;
}

/** A keypress as readline reports it. */
export interface KeypressEvent {
  readonly value?: string;
  readonly key?: { readonly name?: string; readonly ctrl?: boolean };
}

/**
 * Loads vorpal for a fast first prompt (it is most of the startup time):
 * - without the parts of vorpal the shell does not use (see below);
 * - without babel-polyfill: Node 20 has every ES2015 feature it adds (about 60 ms);
 * - with one lodash: vorpal asks for lodash 4 and its inquirer for lodash 3; everything vorpal
 *   calls exists in lodash 3 with the same meaning, so inquirer's copy serves both (about 15 ms);
 * - without the inquirer prompt types the shell never shows (list, rawlist, expand, checkbox,
 *   bottom bar): placeholders that fail if ever used.
 * Vorpal also turns SIGTERM into a Ctrl-C; that handler is dropped so that SIGTERM still ends the shell.
 */
export function loadVorpal(): VorpalInstance {
  (globalThis as { _babelPolyfill?: boolean })._babelPolyfill = true;
  const require = createRequire(import.meta.url);
  const vorpalMain = require.resolve('vorpal');
  const fromVorpal = createRequire(vorpalMain);
  const inquirerMain = fromVorpal.resolve('inquirer');
  const fromInquirer = createRequire(inquirerMain);
  preload(fromVorpal.resolve('lodash'), fromInquirer('lodash'));
  // Vorpal features the shell does not use: help layout, argument parsing, stored history, redraw.
  preload(fromVorpal.resolve('wrap-ansi'), (text: string) => text);
  preload(fromVorpal.resolve('minimist'), () => ({ _: [] }));
  preload(fromVorpal.resolve('node-localstorage'), { LocalStorage: unusedStorage });
  preload(
    fromVorpal.resolve('log-update'),
    Object.assign(() => {}, { clear() {}, done() {} }),
  );
  const lib = dirname(inquirerMain);
  for (const unused of [
    'prompts/list.js',
    'prompts/rawlist.js',
    'prompts/expand.js',
    'prompts/checkbox.js',
    'ui/bottom-bar.js',
  ]) {
    preload(join(lib, unused), function Unused(): never {
      throw new Error(`inquirer ${unused} is not part of edgesh`);
    });
  }
  const before = new Set(process.listeners('SIGTERM'));
  const Vorpal = require(vorpalMain) as new () => VorpalInstance;
  for (const l of process.listeners('SIGTERM')) if (!before.has(l)) process.removeListener('SIGTERM', l);
  return new Vorpal();
}

/** Stands in for node-localstorage: the shell keeps history in memory only (it may hold commands of other users' sessions). */
class unusedStorage {
  getItem(): null {
    return null;
  }
  setItem(): void {}
}

/** Puts `exports` in the CommonJS cache under `file`, so that `require` of that file returns it. */
function preload(file: string, exports: unknown): void {
  const require = createRequire(import.meta.url);
  const mod = new Module(file);
  mod.filename = file;
  mod.loaded = true;
  mod.exports = exports;
  require.cache[file] = mod;
}

/**
 * Inquirer closes its prompt on Ctrl-C (readline's SIGINT event), which would leave the shell
 * without a line editor; Ctrl-C is ours (vorpal's keypress hook calls our handler), so readline
 * gets a listener that does nothing, which also keeps it from signalling the whole process.
 */
export function tame(prompt: InquirerUi | undefined): void {
  prompt?.rl?.removeAllListeners('SIGINT');
  prompt?.rl?.on('SIGINT', () => {});
}
