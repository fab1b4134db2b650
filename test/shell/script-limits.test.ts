// Script mode against input no script should hold: a line of megabytes is refused in one line, and the script goes on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_LINE } from '../../shell/line-reader.js';
import { runEdgesh } from '../helpers/run-edgesh.js';

test('a 4 MB script line: one Error line without the line, the next line runs, status 2 (usage)', () => {
  const r = runEdgesh({ stdin: `${'x'.repeat(4_000_000)}\nwhoami\n` });
  // Named by its line number, as every error of a script read from stdin is.
  assert.equal(r.stderr, `Error: line 1: line longer than ${MAX_LINE} characters; skipped [usage]\n`);
  assert.equal(r.stdout, 'admin\n');
  assert.equal(r.status, 2);
});

test('--exit-on-error stops at a line too long', () => {
  const r = runEdgesh({ args: ['--exit-on-error'], stdin: `whoami\n${'x'.repeat(MAX_LINE + 1)}\nwhoami\n` });
  assert.equal(r.stdout, 'admin\n');
  assert.match(r.stderr, /^Error: line 2: line longer than/);
  assert.equal(r.status, 2);
});
