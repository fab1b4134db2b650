import assert from 'node:assert/strict';
import { test } from 'node:test';
import { registry } from '../../contexts/index.js';
import { secretsOf } from '../../contexts/parser.js';
import { splitCommands, tokenize as tokenizeWith } from '../../contexts/tokenize.js';

/** The secret keywords of the shell's grammar. */
const SECRETS = secretsOf(registry);
const tokenize = (line: string, loose = false) => tokenizeWith(line, SECRETS, loose);

const cases: ReadonlyArray<{ title: string; input: string; expected: string[] | RegExp }> = [
  {
    title: 'blanks separate words',
    input: '  install  192.0.2.1\tpkg.wmopkg ',
    expected: ['install', '192.0.2.1', 'pkg.wmopkg'],
  },
  { title: 'double quotes group and unescape', input: 'a "b c" "d\\"e"', expected: ['a', 'b c', 'd"e'] },
  { title: 'single quotes are literal', input: "x 'a\\b c'", expected: ['x', 'a\\b c'] },
  { title: 'quotes inside a word', input: 'ab"c d"e', expected: ['abc de'] },
  {
    title: 'an unquoted | is its own token',
    input: 'show|include x',
    expected: ['show', '|', 'include', 'x'],
  },
  { title: 'a quoted | is text', input: 'include "a|b"', expected: ['include', 'a|b'] },
  { title: 'empty quotes are an empty word', input: 'user ""', expected: ['user', ''] },
  { title: 'unterminated quote fails', input: 'install "x', expected: /unterminated double quote/ },
  {
    title: 'the word after password is taken up to the next blank, | included',
    input: 'install password Abc|Def 1.2.3.4 | count',
    expected: ['install', 'password', 'Abc|Def', '1.2.3.4', '|', 'count'],
  },
  {
    title: 'an abbreviation of password, quotes inside the word kept as typed',
    input: 'install pas a"b\'c x',
    expected: ['install', 'pas', 'a"b\'c', 'x'],
  },
  {
    title: 'a quoted password follows the quoting rules',
    input: 'install PASSWORD "a b|c" x',
    expected: ['install', 'PASSWORD', 'a b|c', 'x'],
  },
  {
    title: 'p alone is no abbreviation (proto, persistent)',
    input: 'install p a|b',
    expected: ['install', 'p', 'a', '|', 'b'],
  },
  {
    title: 'pa as a command is the package context',
    input: 'pa show|count',
    expected: ['pa', 'show', '|', 'count'],
  },
  { title: 'pa after do too', input: 'do pa show|count', expected: ['do', 'pa', 'show', '|', 'count'] },
  {
    title: 'after a filter, counting starts again',
    input: 'show log | include password x|y',
    expected: ['show', 'log', '|', 'include', 'password', 'x|y'],
  },
  {
    title: 'a quoted keyword is a value',
    input: 'user "password" a|b',
    expected: ['user', 'password', 'a', '|', 'b'],
  },
];

for (const c of cases) {
  test(`tokenize: ${c.title}`, () => {
    if (c.expected instanceof RegExp) {
      assert.throws(() => tokenize(c.input), c.expected);
      return;
    }
    assert.deepEqual(
      tokenize(c.input).tokens.map((t) => t.text),
      c.expected,
    );
  });
}

test('tokenize: offsets point into the line, quoted words are marked', () => {
  const { tokens } = tokenize('a "b c"');
  assert.deepEqual(
    tokens.map((t) => [t.start, t.end, t.quoted]),
    [
      [0, 1, false],
      [2, 7, true],
    ],
  );
});

test('tokenize: the word after password is marked secret', () => {
  assert.deepEqual(
    tokenize('install password x|y 1.2.3.4').tokens.map((t) => t.secret),
    [false, false, true, false],
  );
  assert.deepEqual(
    tokenize('install pa "x y"').tokens.map((t) => t.secret),
    [false, false, true],
  );
});

test('tokenize: loose mode keeps an open quote as the last word', () => {
  const r = tokenize('include "a b', true);
  assert.equal(r.open, true);
  assert.deepEqual(
    r.tokens.map((t) => t.text),
    ['include', 'a b'],
  );
});

const splits: ReadonlyArray<{ input: string; expected: string[] }> = [
  { input: 'package show', expected: ['package show'] },
  { input: 'package; show ;; exit', expected: ['package', 'show', 'exit'] },
  { input: 'show log | include "a;b"; whoami', expected: ['show log | include "a;b"', 'whoami'] },
  { input: "x 'a;b'", expected: ["x 'a;b'"] },
  {
    input: 'package install password Ghi;Jkl 127.0.0.1 x.wmopkg; history',
    expected: ['package install password Ghi;Jkl 127.0.0.1 x.wmopkg', 'history'],
  },
  { input: 'install pa a|b;c x;whoami', expected: ['install pa a|b;c x', 'whoami'] },
  { input: 'install password "a;b" x', expected: ['install password "a;b" x'] },
  { input: 'x "a;b', expected: ['x "a;b'] },
];

for (const s of splits) {
  test(`splitCommands: ${s.input}`, () => assert.deepEqual(splitCommands(s.input, SECRETS), s.expected));
}

test('secret keywords come from the declarations: password, abbreviated to pa', () => {
  assert.deepEqual(SECRETS, [{ word: 'password', min: 2 }]);
});
