// What the shell says on a real terminal: help that fits a narrow window, a top-level word in a context.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PtyShell } from '../helpers/pty.js';

const temp = mkdtempSync(join(tmpdir(), 'edgesh-wording-'));
const shells: PtyShell[] = [];
let n = 0;

after(() => {
  for (const s of shells) s.kill();
  rmSync(temp, { recursive: true, force: true });
});

function shell(): PtyShell {
  const s = new PtyShell(['--device', join(temp, `device-${n++}`), '--user', 'admin']);
  shells.push(s);
  return s;
}

const TOP = 'example:/>';
const PKG = 'example:/package/#>';

test('? and help install fit a 50-column terminal, words whole', async () => {
  const s = shell();
  await s.waitFor(TOP);
  // Tall enough that help install is not paged.
  s.resize(50, 80);
  s.type('package\r');
  await s.waitFor(PKG);
  let m = s.mark();
  s.type('install ?');
  const help = await s.waitFor(/address\[:port\]\|PKGNAME[\s\S]*with what it needs/, m);
  m = s.mark();
  s.type('\x15help install\r');
  // \x15 (Ctrl-U) clears the line that ? kept.
  const text = await s.waitFor(/Package file[\s\S]*example:\/package\/#>/, m);
  for (const shown of [help, text]) {
    const lines = shown.split('\n').filter((l) => !l.includes('example:/package/#>'));
    // Written within the width, so the terminal never breaks a line itself, in a word or elsewhere.
    for (const l of lines) assert.ok([...l].length <= 50, `${[...l].length}: ${l}`);
  }
  assert.match(text, /^ {2}Install a package from the feeds by name, or a$/m);
  assert.match(help, /^ {2}persistent +Survive a factory reset;$/m);
});

test('a top-level command typed in a context says how to reach it, on a terminal too', async () => {
  const s = shell();
  await s.waitFor(TOP);
  s.type('package\r');
  await s.waitFor(PKG);
  const m = s.mark();
  s.type('package show\r');
  const text = await s.waitFor(/Error: .*\n.*example:\/package\/#>/, m);
  assert.match(
    text,
    /^Error: unknown command "package": a top-level command; use end, or do package … \[unknown-command\]$/m,
  );
  s.type('end\rexit\r');
  assert.equal(await s.exited(), 0);
});
