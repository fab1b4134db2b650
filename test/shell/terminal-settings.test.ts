// `terminal width|length N|auto` in every context: script mode and a real terminal that is resized.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PtyShell } from '../helpers/pty.js';
import { runEdgesh } from '../helpers/run-edgesh.js';

const temp = mkdtempSync(join(tmpdir(), 'edgesh-terminal-'));
const shells: PtyShell[] = [];

after(() => {
  for (const s of shells) s.kill();
  rmSync(temp, { recursive: true, force: true });
});

function widest(text: string): number {
  return Math.max(...text.split('\n').map((l) => [...l].length));
}

test('terminal commands work inside a context, as automation sends them after entering it', () => {
  const r = runEdgesh({
    args: ['--echo'],
    stdin: [
      'package',
      'install 192.0.2.1 pkgname.wmopkg',
      'terminal length 0',
      'terminal width 50',
      'show',
      'terminal width auto',
      'show',
      'do boot',
      'terminal length auto',
      'terminal ascii',
      'terminal width 45',
      'do show media',
    ].join('\n'),
  });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  // What each command printed, after its echoed line.
  const printed = (command: string): string =>
    r.stdout
      .split(/^example:\S*> /m)
      .find((part) => part.startsWith(`${command}\n`))!
      .slice(command.length + 1);
  const [narrow, wide, media] = r.stdout
    .split(/^example:\S*> /m)
    .filter((part) => /^(show|do show media)\n/.test(part));
  assert.ok(narrow !== undefined && wide !== undefined && media !== undefined, r.stdout);
  assert.equal(printed('terminal width 50'), '');
  assert.ok(widest(narrow) <= 50, narrow);
  // auto in script mode: 80 columns; the manual's table is 71 wide.
  assert.equal([...wide.split('\n')[1]!].length, 71, wide);
  assert.ok(widest(wide) > 50 && widest(wide) <= 80, wide);
  assert.ok(widest(media) <= 45, media);
  assert.doesNotMatch(media, /[^\x00-\x7f]/);
});

test('terminal width N|auto is explained by ? and refuses other words', () => {
  const r = runEdgesh({ stdin: 'package\nterminal width ?\nterminal width wide\nterminal length 9999\n' });
  assert.match(r.stdout, /^ {2}N\|auto +Columns, or auto to follow the terminal$/m);
  assert.match(r.stderr, /^Error: .*invalid N "wide": expected a number from 40 to 512, or auto \[usage\]$/m);
  assert.match(r.stderr, /^Error: .*invalid N "9999": expected a number from 0 to 512, or auto \[usage\]$/m);
});

test('on a terminal, width auto follows the window again after terminal width N', async () => {
  const s = new PtyShell(['--device', join(temp, 'device'), '--user', 'admin']);
  shells.push(s);
  await s.waitFor('example:/>');
  let m = s.mark();
  s.type('package\r');
  await s.waitFor('example:/package/#>', m);
  m = s.mark();
  s.type('terminal length 0\rterminal width 40\r');
  await s.waitFor('example:/package/#>', m);
  s.resize(120, 40);
  m = s.mark();
  s.type('help\r');
  let text = await s.waitFor(/for its syntax\.\n.*example:\/package\/#>/s, m);
  // The hint under the list is wrapped at the fixed 40 columns, whatever the window.
  assert.match(text, /^Type \? anywhere on a line to see what$/m);
  m = s.mark();
  s.type('terminal width auto\r');
  await s.waitFor('example:/package/#>', m);
  m = s.mark();
  s.type('help\r');
  text = await s.waitFor(/for its syntax\.\n.*example:\/package\/#>/s, m);
  assert.match(text, /^Type \? anywhere on a line .* for its syntax\.$/m);
  s.type('exit\rexit\r');
  assert.equal(await s.exited(), 0);
});
