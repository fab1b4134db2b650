// The one way a document is written: JSON, indented, every character outside printable ASCII escaped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatJson, type JsonObject } from '../../contexts/json.js';

const cases: ReadonlyArray<{ title: string; input: JsonObject; expected: string }> = [
  {
    title: 'keys kept in order, two-space indent',
    input: { b: 1, a: [true, null] },
    expected: '{\n  "b": 1,\n  "a": [\n    true,\n    null\n  ]\n}',
  },
  {
    title: 'Latin letters beyond ASCII',
    input: { d: 'Grüße' },
    expected: '{\n  "d": "Gr\\u00fc\\u00dfe"\n}',
  },
  {
    title: 'beyond the BMP: the two surrogates',
    input: { d: '😀' },
    expected: '{\n  "d": "\\ud83d\\ude00"\n}',
  },
  {
    title: 'C0 controls, ESC among them',
    input: { d: '\u001b[31m\t' },
    expected: '{\n  "d": "\\u001b[31m\\t"\n}',
  },
  { title: 'DEL and C1 controls', input: { d: '\u007f\u009b' }, expected: '{\n  "d": "\\u007f\\u009b"\n}' },
  {
    title: 'bidi controls and separators',
    input: { d: '\u202e\u2028' },
    expected: '{\n  "d": "\\u202e\\u2028"\n}',
  },
  { title: 'a lone surrogate', input: { d: '\ud800x' }, expected: '{\n  "d": "\\ud800x"\n}' },
];

for (const c of cases) {
  test(`formatJson: ${c.title}`, () => {
    const text = formatJson(c.input);
    assert.equal(text, c.expected);
    assert.match(text, /^[\x20-\x7e\n]*$/, 'printable ASCII and line ends only');
    assert.deepEqual(JSON.parse(text), c.input);
  });
}
