// The lodash that vorpal and inquirer get (shell/vorpal.ts): every method they call, meaning what their own lodash meant.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { LODASH_ALIASES, LODASH_METHODS, vorpalStandIns } from '../../shell/vorpal.js';

type Lodash = Record<string, (...args: unknown[]) => unknown>;

const require = createRequire(import.meta.url);
const vorpalMain = require.resolve('vorpal');
const inquirerMain = createRequire(vorpalMain).resolve('inquirer');
const { standIns } = vorpalStandIns();

/** The stand-in for `file`, run as the module it replaces. */
function standIn(file: string): Lodash {
  const source = standIns.get(file);
  assert.ok(source !== undefined, `${file} has a stand-in`);
  const mod = { exports: {} as Lodash };
  new Function('require', 'module', 'exports', source)(createRequire(file), mod, mod.exports);
  return mod.exports;
}

/** The lodash 3 that inquirer 0.11 was written for, and the stand-in it gets. */
const lodash3 = createRequire(inquirerMain)('lodash') as Lodash;
const forInquirer = standIn(createRequire(inquirerMain).resolve('lodash'));
const forVorpal = standIn(createRequire(vorpalMain).resolve('lodash'));

/** Every `.js` file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.js') ? [path] : [];
  });
}

test('every lodash method vorpal and inquirer call is in the stand-in (but chain, for vorpal commands the shell never runs)', () => {
  const files = [...sources(dirname(vorpalMain)), ...sources(dirname(inquirerMain))].filter(
    // The inquirer prompts that are placeholders in the build (shell/vorpal.ts) are never loaded.
    (f) => !standIns.has(f),
  );
  const called = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (!/\b_ = require\(['"]lodash['"]\)/.test(text)) continue;
    for (const m of text.matchAll(/\b_\.([A-Za-z]+)/g)) called.add(m[1]!);
  }
  assert.ok(called.size > 20, `found the calls (${[...called].join(' ')})`);
  const missing = [...called].filter((name) => name !== 'chain' && typeof forInquirer[name] !== 'function');
  assert.deepEqual(missing, []);
  assert.equal(forVorpal, forVorpal);
  for (const name of [...LODASH_METHODS, ...Object.keys(LODASH_ALIASES)])
    assert.equal(typeof forVorpal[name], 'function', name);
});

const plain = fc.dictionary(
  fc.constantFrom('a', 'b', '_name', 'id', 'value'),
  fc.oneof(fc.integer(), fc.string()),
  {
    maxKeys: 4,
    noNullPrototype: true,
  },
);
const plains = fc.array(plain, { maxLength: 8 });
const key = fc.constantFrom('a', 'b', '_name', 'id', 'value');
const scalar = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'b', ''));
const anything = fc.oneof(fc.anything(), fc.func(fc.anything()), plains);

test('each method gives what inquirer’s lodash 3 gives, called as vorpal and inquirer call it', () => {
  const same = (name: string, ...args: unknown[]): void => {
    assert.deepEqual(forInquirer[name]!(...args), lodash3[name]!(...args), name);
  };
  fc.assert(
    fc.property(plains, key, scalar, (objects, k, v) => {
      same('find', objects, { [k]: v });
      same('find', objects, (o: Record<string, unknown>) => o[k] === v);
      same('where', objects, { [k]: v });
      same('filter', objects, { [k]: v });
      same('reject', objects, (o: Record<string, unknown>) => o[k] === v);
      same('some', objects, (o: Record<string, unknown>) => o[k] === v);
      same('map', objects, k);
      same('pluck', objects, k);
      same('map', objects, (o: Record<string, unknown>) => o[k]);
      same('last', objects);
      same('clone', objects);
      same('flatten', [objects, objects.slice(1), [objects]]);
      same(
        'uniq',
        objects.map((o) => o[k]),
      );
      same(
        'includes',
        objects.map((o) => o[k]),
        v,
      );
      same(
        'indexOf',
        objects.map((o) => o[k]),
        v,
      );
      same('toArray', objects);
    }),
  );
  fc.assert(
    fc.property(plain, plain, plain, (a, b, c) => {
      // Both copy into their first argument and return it: compare copies.
      assert.deepEqual(forInquirer.extend!({ ...a }, b, c), lodash3.extend!({ ...a }, b, c));
      assert.deepEqual(forInquirer.assign!({ ...a }, b), lodash3.assign!({ ...a }, b));
      assert.deepEqual(forInquirer.defaults!({ ...a }, b), lodash3.defaults!({ ...a }, b));
      const copy = forInquirer.clone!(a);
      assert.deepEqual(copy, a);
      assert.notEqual(copy, a);
    }),
  );
  fc.assert(
    fc.property(anything, (x) => {
      for (const name of [
        'isArray',
        'isBoolean',
        'isFunction',
        'isNumber',
        'isObject',
        'isString',
        'isPlainObject',
      ])
        same(name, x);
      if (x === null || typeof x !== 'object' || Array.isArray(x)) same('isEmpty', x);
    }),
  );
  assert.equal(forInquirer.noop!(), undefined);
});
