// Loads vorpal 1.12 for the TTY front-end, lean and fast, and describes the parts of it the shell drives.
import { existsSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireCached } from '../tuning/cached-script.js';

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

/** Where the build puts vorpal bundled with its stand-ins (scripts/bundle.ts), beside the shell's bundle. */
export const VORPAL_BUNDLE = fileURLToPath(new URL('../bundle/vorpal.cjs', import.meta.url));

/**
 * Loads vorpal for a fast first prompt (it is most of the startup time):
 * - without the parts of vorpal the shell does not use, and without babel-polyfill (Node 20 has
 *   every ES2015 feature it adds, about 60 ms), nor lodash 4 (inquirer's lodash 3 serves both, about
 *   15 ms): see `vorpalStandIns`;
 * - from one file compiled from its V8 code cache when the build made it (`VORPAL_BUNDLE`): its
 *   120 modules cost a third of the CPU time from one file and a cache that they cost from
 *   node_modules (module resolution, reads, compiles); else from node_modules with the same
 *   stand-ins.
 * Vorpal also turns SIGTERM into a Ctrl-C; that handler is dropped so that SIGTERM still ends the shell.
 */
export function loadVorpal(): VorpalInstance {
  (globalThis as { _babelPolyfill?: boolean })._babelPolyfill = true;
  const before = new Set(process.listeners('SIGTERM'));
  let Vorpal: new () => VorpalInstance;
  if (existsSync(VORPAL_BUNDLE)) {
    Vorpal = requireCached(VORPAL_BUNDLE) as new () => VorpalInstance;
  } else {
    const { vorpalMain, standIns } = vorpalStandIns();
    for (const [file, source] of standIns) preload(file, source);
    Vorpal = createRequire(import.meta.url)(vorpalMain) as new () => VorpalInstance;
  }
  for (const l of process.listeners('SIGTERM')) if (!before.has(l)) process.removeListener('SIGTERM', l);
  return new Vorpal();
}

/**
 * The files of vorpal's tree that the shell replaces, each with the CommonJS source that stands in
 * for it; the build bundles vorpal with them (scripts/bundle.ts), and `loadVorpal` preloads them
 * when there is no bundle:
 * - vorpal's lodash 4 and inquirer's lodash 3 are the methods they call, from lodash 4's own
 *   files (`lodashStandIn`): loading a whole lodash builds its chaining wrapper and every method,
 *   about a third of the time vorpal takes to load;
 * - vorpal features the shell does not use: help layout (wrap-ansi), argument parsing (minimist),
 *   stored history (node-localstorage: the shell keeps history in memory only, it may hold commands
 *   of other users' sessions), redraw (log-update); babel-polyfill is skipped by vorpal itself
 *   (`global._babelPolyfill`), its file is empty for the bundler;
 * - the inquirer prompt types the shell never shows (list, rawlist, expand, checkbox, bottom bar):
 *   placeholders that fail if ever used.
 */
export function vorpalStandIns(): { vorpalMain: string; standIns: Map<string, string> } {
  const require = createRequire(import.meta.url);
  const vorpalMain = require.resolve('vorpal');
  const fromVorpal = createRequire(vorpalMain);
  const inquirerMain = fromVorpal.resolve('inquirer');
  const fromInquirer = createRequire(inquirerMain);
  const lodash = lodashStandIn(dirname(fromVorpal.resolve('lodash/package.json')));
  const standIns = new Map<string, string>([
    [fromVorpal.resolve('lodash'), lodash],
    [fromInquirer.resolve('lodash'), lodash],
    [fromVorpal.resolve('wrap-ansi'), 'module.exports = (text) => text;'],
    [fromVorpal.resolve('minimist'), 'module.exports = () => ({ _: [] });'],
    [
      fromVorpal.resolve('node-localstorage'),
      'module.exports = { LocalStorage: class { getItem() { return null; } setItem() {} } };',
    ],
    [
      fromVorpal.resolve('log-update'),
      'module.exports = Object.assign(() => {}, { clear() {}, done() {} });',
    ],
  ]);
  try {
    standIns.set(fromVorpal.resolve('babel-polyfill'), '');
  } catch {
    // Not installed (vorpal skips it anyway): nothing to stand in for.
  }
  const lib = dirname(inquirerMain);
  for (const unused of [
    'prompts/list.js',
    'prompts/rawlist.js',
    'prompts/expand.js',
    'prompts/checkbox.js',
    'ui/bottom-bar.js',
  ]) {
    standIns.set(
      join(lib, unused),
      `module.exports = function Unused() { throw new Error(${JSON.stringify(`inquirer ${unused} is not part of edgesh`)}); };`,
    );
  }
  return { vorpalMain, standIns };
}

/**
 * The lodash methods vorpal and inquirer call (test/shell/vorpal-lodash.test.ts reads their sources to
 * hold this list complete), each the same in lodash 3 and 4 for the way they call it: plain objects,
 * shallow `clone` and `flatten`, property and matcher shorthands.
 */
export const LODASH_METHODS = [
  'assign',
  'clone',
  'defaults',
  'filter',
  'find',
  'flatten',
  'includes',
  'indexOf',
  'isArray',
  'isBoolean',
  'isEmpty',
  'isFunction',
  'isNumber',
  'isObject',
  'isPlainObject',
  'isString',
  'last',
  'map',
  'noop',
  'reject',
  'some',
  'toArray',
  'uniq',
] as const;

/**
 * Lodash 3's names for methods of `LODASH_METHODS` that lodash 4 renamed (inquirer's `where`,
 * `pluck`), and `extend`, which lodash 3 (inquirer) and vorpal call with plain objects: `assign`.
 */
export const LODASH_ALIASES: Readonly<Record<string, (typeof LODASH_METHODS)[number]>> = {
  extend: 'assign',
  where: 'filter',
  pluck: 'map',
};

/**
 * The CommonJS source of the lodash that vorpal and inquirer get: `LODASH_METHODS` from the files
 * of lodash 4 in `dir`, with `LODASH_ALIASES`, instead of the whole of lodash. Nothing else is
 * there: vorpal's one call of `chain` parses the arguments of vorpal's own commands, which the
 * shell never runs.
 */
function lodashStandIn(dir: string): string {
  const methods = LODASH_METHODS.map((m) => `${m}: require(${JSON.stringify(join(dir, `${m}.js`))})`);
  const aliases = Object.entries(LODASH_ALIASES).map(([name, to]) => `m.${name} = m.${to};`);
  return [`const m = { ${methods.join(', ')} };`, ...aliases, 'module.exports = m;'].join('\n');
}

/** Puts a module compiled from `source` in the CommonJS cache under `file`, so that `require` of that file returns it. */
function preload(file: string, source: string): void {
  const mod = new Module(file) as Module & { _compile(source: string, file: string): void };
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(
    dirname(file),
  );
  mod._compile(source, file);
  mod.loaded = true;
  createRequire(import.meta.url).cache[file] = mod;
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
