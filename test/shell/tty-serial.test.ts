// A serial console: a terminal of 0×0 (a UART reports no size) and LANG=C is 80 columns of ASCII.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PtyShell } from '../helpers/pty.js';
import { BIN } from '../helpers/run-edgesh.js';

const temp = mkdtempSync(join(tmpdir(), 'edgesh-serial-'));
after(() => rmSync(temp, { recursive: true, force: true }));

/** edgesh on a pty whose window size is set to 0×0 before it starts, in the C locale. */
function serialConsole(): PtyShell {
  const args = ['--device', join(temp, 'device'), '--user', 'admin'].map((a) => `'${a}'`).join(' ');
  return new PtyShell([], { LANG: 'C', TERM: 'vt100' }, [
    '/bin/sh',
    ['-c', `stty rows 0 cols 0 && exec '${process.execPath}' '${BIN}' ${args}`],
  ]);
}

test('0×0 and LANG=C: a long line is edited as 80 columns wide; tables and errors are ASCII within 80', async () => {
  const s = serialConsole();
  try {
    await s.waitFor('example:/>');
    // Once a command has run, the line editor is up (the first prompt is drawn before it loads).
    s.type('whoami\r');
    await s.waitFor(/admin\n.*example:\/>/s);
    let m = s.mark();
    // 105 columns with the prompt: the line editor must place the cursor as an 80-column terminal
    // wraps it (it moved 107 columns right on a row above when it took the line as endless).
    s.type(`package install 192.0.2.1 ${'a'.repeat(60)}.wmopkg`);
    await s.waitFor(`${'a'.repeat(60)}.wmopkg`, m);
    const moves = [...s.output.slice(m).matchAll(/\x1b\[(\d+)C/g)].map((x) => Number(x[1]));
    assert.ok(moves.length > 0 && moves.every((n) => n < 80), `cursor moves: ${moves.join(' ')}`);
    s.type('\x15package show\r');
    m = s.mark();
    const table = await s.waitFor(/\+-+\+\n.*example:\/>/s, m);
    assert.match(table, /^\+ Packages -+\+$/m);
    assert.doesNotMatch(table, /[^\x00-\x7f]/);
    assert.ok(
      table
        .split('\n')
        .filter((l) => /^[+|]/.test(l))
        .every((l) => l.length <= 80),
      table,
    );
    // An error with a cut word: `...`, not `…`.
    m = s.mark();
    s.type(`${'w'.repeat(100)}\r`);
    await s.waitFor(/Error: unknown command "w+\.\.\."/, m);
    assert.doesNotMatch(s.output, /[^\x00-\x7f]/);
  } finally {
    s.kill();
  }
});
