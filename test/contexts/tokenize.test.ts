import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitCommands, tokenize } from '../../contexts/tokenize.js';

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
];

for (const s of splits) {
  test(`splitCommands: ${s.input}`, () => assert.deepEqual(splitCommands(s.input), s.expected));
}
