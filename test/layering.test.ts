// The layering of docs/ARCHITECTURE.md, held against the imports of every product file: no import runs
// against it, and no files import each other in a circle (type-only imports count: they tie files too).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../lab/paths.js';

/** The product's folders, top to bottom. */
const PRODUCT_FOLDERS = [
  'bin',
  'shell',
  'wmopkg',
  'contexts',
  'firmware-sim',
  'media',
  'transports',
  'common',
];

/** The device's contract and its error: every room of firmware-sim/ speaks them. */
const DEVICE_WORDS = ['firmware-sim/api.ts', 'firmware-sim/errors.ts'];
/** What the store and everything above it stand on. */
const BELOW_STORE = ['firmware-sim/config', 'firmware-sim/state', 'firmware-sim/format', 'tuning', 'common'];

/**
 * Who may import whom, top to bottom: `shell → contexts → firmware-sim → media/transports → common`.
 * A file belongs to the longest folder of this table that holds it; it may import files of that same
 * folder and what the folder lists (a folder, or one file of a contract). Anything else, a new folder
 * included, is an error here.
 */
const LAYERS: Readonly<Record<string, readonly string[]>> = {
  // The entry points, and for the launchers the code cache (CommonJS, loaded before anything else).
  bin: ['shell/main.ts', 'shell/updater-main.ts', 'wmopkg/main.ts', 'common/code-cache.cts'],
  shell: [
    'contexts',
    'firmware-sim/index.ts',
    'firmware-sim/api.ts',
    'media/index.ts',
    'media/types.ts',
    'transports/index.ts',
    'transports/types.ts',
    'tuning',
    'common',
  ],
  wmopkg: ['firmware-sim', 'common'],
  // A context never opens a socket: it sees the layers below through their contracts only.
  contexts: ['firmware-sim/api.ts', 'media/types.ts', 'transports/types.ts', 'common'],
  // The device: the façade (device.ts, index.ts) over its rooms, each room above the ones it lists;
  // api.ts (the contract) and errors.ts (DeviceError) are the device's words, every room uses them.
  'firmware-sim': [
    'firmware-sim/repository',
    'firmware-sim/feeds',
    'firmware-sim/updater',
    'firmware-sim/lifecycle',
    'firmware-sim/firmware',
    'firmware-sim/boot',
    'firmware-sim/store',
    'firmware-sim/config',
    'firmware-sim/state',
    'firmware-sim/format',
    'media',
    'transports',
    'common',
  ],
  // The updater: requests, plans and runs over the device's feeds API and the store; it never asks anyone.
  // (Its types name the feeds' contract directly: api.ts re-exports them, and importing api.ts would close a circle.)
  'firmware-sim/updater': [
    ...DEVICE_WORDS,
    'firmware-sim/feeds-api.ts',
    'firmware-sim/feeds',
    'firmware-sim/store',
    ...BELOW_STORE,
  ],
  // The device's side of feeds: their configuration, kept indexes, update, plans and their commit.
  'firmware-sim/repository': [...DEVICE_WORDS, 'firmware-sim/store', 'firmware-sim/feeds', ...BELOW_STORE],
  'firmware-sim/lifecycle': [
    ...DEVICE_WORDS,
    'firmware-sim/firmware',
    'firmware-sim/boot',
    'firmware-sim/store',
    ...BELOW_STORE,
  ],
  // The firmware lifecycle: slots switched at boot, above the package pass it hands over to.
  'firmware-sim/firmware': [...DEVICE_WORDS, 'firmware-sim/boot', 'firmware-sim/store', ...BELOW_STORE],
  'firmware-sim/boot': [...DEVICE_WORDS, 'firmware-sim/store', ...BELOW_STORE],
  'firmware-sim/store': [...DEVICE_WORDS, ...BELOW_STORE],
  'firmware-sim/config': [...DEVICE_WORDS, 'firmware-sim/state', 'firmware-sim/format', 'common'],
  'firmware-sim/state': [...DEVICE_WORDS, 'common'],
  // The package format: a leaf library that `wmopkg` and the device share; it imports nothing of the device.
  'firmware-sim/format': ['common'],
  // Feeds as a library (index, Release, signatures, the resolver, the indexer): the format only, so that
  // `wmopkg index` and the device share it.
  'firmware-sim/feeds': ['firmware-sim/format'],
  media: ['transports/types.ts', 'common'],
  transports: ['tuning', 'common'],
  // The performance tricks, one documented module each, each with a test that fails if what it
  // leans on changes (a library, V8): nothing of the project below them but the floor (common).
  tuning: ['common'],
  // The shared vocabulary and the one rule per value: imports nothing of the project.
  common: [],
  // Users of the product beside the tests: what `npm run lab`, the benches and the tests share
  // (servers, packages, a terminal driver), the benches, the scripts. None of them imports test/.
  lab: ['firmware-sim', 'media', 'transports', 'common'],
  bench: [...PRODUCT_FOLDERS, 'lab'],
  scripts: [...PRODUCT_FOLDERS, 'lab'],
};

/** Folders whose files are checked: the product, and what uses it besides the tests. */
const PRODUCT = Object.keys(LAYERS).filter((f) => !f.includes('/'));

/** Every TypeScript file under `dir`, relative to the root, with `/` separators. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = `${dir}/${name}`;
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sources(path));
    else if (/\.c?ts$/.test(name)) out.push(path);
  }
  return out;
}

/** One import: the specifier as written and its line. */
interface Import {
  readonly spec: string;
  readonly line: number;
}

/**
 * The imports of a file, read as text: `import … from`, `export … from`, `import '…'`, `import('…')`,
 * `require('…')`. Comment lines are skipped, so a doc comment that shows an import is not one.
 */
export function importsOf(text: string): Import[] {
  const code = text
    .split('\n')
    .map((l) => (/^\s*(\/\/|\*|\/\*)/.test(l) ? '' : l))
    .join('\n');
  const found: Import[] = [];
  const lineAt = (index: number): number => code.slice(0, index).split('\n').length;
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gms,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) {
    for (const m of code.matchAll(re))
      found.push({ spec: m[1]!, line: lineAt(m.index + m[0].indexOf(m[1]!)) });
  }
  return found;
}

/** The file a relative specifier names (`./x.js` → `dir/x.ts`), or `undefined` for a package. */
function target(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(ROOT, dirname(from), spec);
  const candidates = [
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.cjs$/, '.cts'),
    `${base}.ts`,
    join(base, 'index.ts'),
  ];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  assert.ok(hit, `${from}: import "${spec}" names no source file`);
  return relative(ROOT, hit).split(sep).join('/');
}

/** The layer of a file: the longest folder of LAYERS that holds it. */
function layerOf(file: string): string | undefined {
  return Object.keys(LAYERS)
    .filter((folder) => file.startsWith(`${folder}/`))
    .sort((a, b) => b.length - a.length)[0];
}

function allowed(from: string, to: string): boolean {
  const layer = layerOf(from)!;
  if (layerOf(to) === layer) return true;
  return LAYERS[layer]!.some((t) => to === t || to.startsWith(`${t}/`));
}

/** The import graph of the product: file → the files it imports, with the line of each import. */
function graph(): Map<string, Array<{ to: string; line: number }>> {
  const edges = new Map<string, Array<{ to: string; line: number }>>();
  for (const file of PRODUCT.flatMap(sources)) {
    const list: Array<{ to: string; line: number }> = [];
    for (const imp of importsOf(readFileSync(join(ROOT, file), 'utf8'))) {
      const to = target(file, imp.spec);
      if (to !== undefined) list.push({ to, line: imp.line });
      else if (layerOf(file) === 'common') {
        assert.match(
          imp.spec,
          /^node:/,
          `common/ imports no package: ${file}:${imp.line} imports ${imp.spec}`,
        );
      }
    }
    edges.set(file, list);
  }
  return edges;
}

/** The circles of a graph (strongly connected components of two files or more, or a file importing itself). */
function circles(edges: ReadonlyMap<string, ReadonlyArray<{ to: string }>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    on.add(v);
    for (const { to: w } of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      on.delete(w);
      component.push(w);
    } while (w !== v);
    const self = (edges.get(v) ?? []).some((e) => e.to === v);
    if (component.length > 1 || self) found.push(component.sort());
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

const edges = graph();

test('layering: every product file is in a layer of the table', () => {
  const outside = [...edges.keys()].filter((f) => layerOf(f) === undefined);
  assert.deepEqual(
    outside,
    [],
    'add the folder to LAYERS in test/layering.test.ts and to docs/ARCHITECTURE.md',
  );
});

test('layering: no import runs against it', () => {
  const against: string[] = [];
  for (const [from, list] of edges) {
    for (const { to, line } of list) if (!allowed(from, to)) against.push(`${from}:${line} imports ${to}`);
  }
  assert.deepEqual(against, []);
});

test('layering: no circle of imports', () => {
  assert.deepEqual(circles(edges), []);
});

test('layering: the checker sees what it must (imports of every form, circles, a wrong direction)', () => {
  const text = [
    "import { a } from './a.js';",
    "import type {\n  B,\n} from '../b.js';",
    "export * from './c.js';",
    "import './d.js';",
    "const e = await import('./e.js');",
    '// import { x } from "./not-an-import.js";',
    " * await import('./not-either.js')",
  ].join('\n');
  assert.deepEqual(
    importsOf(text).map((i) => i.spec),
    ['./a.js', '../b.js', './c.js', './d.js', './e.js'],
  );
  const ring = new Map([
    ['x', [{ to: 'y' }]],
    ['y', [{ to: 'z' }]],
    ['z', [{ to: 'x' }]],
    ['w', [{ to: 'x' }]],
  ]);
  assert.deepEqual(circles(ring), [['x', 'y', 'z']]);
  assert.equal(allowed('firmware-sim/format/reader.ts', 'firmware-sim/api.ts'), false);
  assert.equal(allowed('firmware-sim/store/packages.ts', 'firmware-sim/format/reader.ts'), true);
  assert.equal(allowed('contexts/source.ts', 'transports/index.ts'), false);
  assert.equal(allowed('common/text.ts', 'contexts/errors.ts'), false);
  assert.equal(allowed('bench/shell.ts', 'test/helpers/pty.ts'), false);
});
