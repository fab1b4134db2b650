// Secrets where the grammar does not expect them: a password for a prompt that never came (the server
// was down), misspelt keywords (`passwd X`, `password=X`), lines that are no command.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PtyShell } from '../helpers/pty.js';
import { runEdgesh } from '../helpers/run-edgesh.js';

const SECRETS = ['Hunter2x', 'Xyz123', 'Xyz456', 'Xyz789', 'Abc111', 'Qwe222', 'Rty333'];

function assertHidden(...texts: string[]): void {
  for (const secret of SECRETS) {
    for (const text of texts) assert.ok(!text.includes(secret), `${secret} shown:\n${text}`);
  }
}

test('a password meant for a prompt that never came is neither run nor shown: not in errors, --echo or history', () => {
  const r = runEdgesh({
    args: ['--echo'],
    stdin: [
      'package',
      // The server is down: the install fails before it asks for the password on the next line.
      'install proto ftp user admin 192.0.2.9 pkgname.wmopkg',
      'Hunter2x',
      'history',
    ].join('\n'),
  });
  assert.equal(r.status, 7, 'transfer: the first failure, the server down');
  assertHidden(r.stdout, r.stderr);
  assert.match(r.stdout, /^example:\/package\/#> \*\*\*\*$/m);
  assert.match(r.stdout, /^3 {2}\*\*\*\*$/m);
  assert.match(
    r.stderr,
    /^Error: line 3: not a command, and not shown: it may be the password for the line before, which failed before asking for it \[unknown-command\]$/m,
  );
});

test('after such a failure, a line that is a command still runs: no line of a script is lost', () => {
  const r = runEdgesh({
    stdin: ['package', 'install proto ftp user admin 192.0.2.9 pkgname.wmopkg', 'do whoami'].join('\n'),
  });
  assert.equal(r.status, 7, 'transfer');
  assert.equal(r.stdout, 'admin\n');
});

test('misspelt password keywords: the word after them is masked in --echo, history and errors', () => {
  const r = runEdgesh({
    args: ['--echo'],
    stdin: [
      'package',
      'install proto ftp passwd Xyz123 192.0.2.1 pkgname.wmopkg',
      'install proto ftp password=Xyz456 192.0.2.1 pkgname.wmopkg',
      'passwd Xyz789',
      'show pkgname Passphrase Abc111',
      'install PASSWD:Qwe222 192.0.2.1 pkgname.wmopkg',
      'history',
    ].join('\n'),
  });
  assert.equal(r.status, 2, 'usage: the first failure');
  assertHidden(r.stdout, r.stderr);
  assert.match(r.stdout, /^2 {2}install proto ftp passwd \*\*\*\* 192\.0\.2\.1 pkgname\.wmopkg$/m);
  assert.match(r.stdout, /^3 {2}install proto ftp password=\*\*\*\* 192\.0\.2\.1 pkgname\.wmopkg$/m);
  assert.match(r.stdout, /^example:\/package\/#> passwd \*\*\*\*$/m);
  assert.equal(r.stderr.trim().split('\n').length, 5, r.stderr);
});

test('in a script an unknown command is repeated no further than its first word', () => {
  const r = runEdgesh({ stdin: 'frobnicate Rty333 and more\nshow frob Rty333\n' });
  assert.equal(r.status, 3, 'unknown-command');
  assertHidden(r.stdout, r.stderr);
  assert.match(r.stderr, /^Error: line 1: unknown command "frobnicate …" \[unknown-command\]$/m);
  assert.match(r.stderr, /^Error: line 2: unknown command "show …" \[unknown-command\]$/m);
});

test('on a terminal, history masks the word after passwd', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgesh-stray-'));
  const s = new PtyShell(['--device', join(dir, 'device'), '--user', 'admin']);
  try {
    await s.waitFor('example:/>');
    let m = s.mark();
    s.type('passwd Hunter2x\r');
    await s.waitFor(/Error: .*\n.*example:\/>/, m);
    m = s.mark();
    s.type('history\r');
    const text = await s.waitFor(/2 {2}history\n.*example:\/>/s, m);
    assert.match(text, /1 {2}passwd \*\*\*\*/);
    // Typed, the password was on the screen; from the error on, it is not shown again.
    assertHidden(s.output.slice(s.output.indexOf('Error:')));
  } finally {
    s.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
