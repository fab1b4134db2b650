// Secrets: a password never shows in the process list, an error, history or --echo; long words are cut.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, runEdgesh, testEnv } from '../helpers/run-edgesh.js';

test('a password in a -c line does not show in the process list', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgesh-ps-'));
  // The slow transfer keeps the process alive while its command line is read.
  const child = spawn(
    process.execPath,
    [
      BIN,
      '--device',
      dir,
      '--user',
      'admin',
      '-c',
      'package install password Hunter2x 192.0.2.1 slow.wmopkg',
    ],
    { env: testEnv(), stdio: ['pipe', 'pipe', 'pipe'] },
  );
  try {
    for (let i = 0; i < 400; i++) {
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
      if (cmdline.startsWith('edgesh')) {
        assert.doesNotMatch(cmdline, /Hunter2x/);
        assert.match(cmdline, /password \*\*\*\*/);
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail('the process title was never set');
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a password is never echoed: not in errors, history or --echo, whatever it holds', () => {
  const lines = [
    'package install password "Hunter2\u0001" 192.0.2.3 pkgname.wmopkg',
    'package install password Abc|Def 192.0.2.3 pkgname.wmopkg',
    'package install pa Ghi;Jkl 192.0.2.3 pkgname.wmopkg',
    'package install pass Mno"Pqr 192.0.2.3 pkgname.wmopkg',
    'history',
  ];
  const r = runEdgesh({ args: ['--echo'], stdin: `${lines.join('\n')}\n` });
  assert.equal(r.status, 2, 'usage: the first failure, an invalid password');
  for (const secret of ['Hunter2', 'Abc', 'Def', 'Ghi', 'Jkl', 'Mno', 'Pqr']) {
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `${secret}:\n${r.stdout}${r.stderr}`);
  }
  assert.match(
    r.stderr,
    /^Error: line 1: invalid password: expected a word without control characters \[usage\]$/m,
  );
  // Neither | nor ; split the line: no filter or command was made of the rest of the password.
  assert.doesNotMatch(r.stderr, /unknown command|ambiguous/);
});

test('-c: a ; inside a password neither splits the command nor reaches the history', () => {
  const r = runEdgesh({
    args: ['-c', 'package install password Ghi;Jkl 192.0.2.3 pkgname.wmopkg', '-c', 'history'],
  });
  assert.equal(r.stdout, '1  package install password **** 192.0.2.3 pkgname.wmopkg\n2  history\n');
  assert.doesNotMatch(r.stderr, /Jkl|unknown command/);
});

test('a word of 60,000 characters is repeated cut at 80 characters', () => {
  // (A script line may hold up to 65,536 characters: script-limits.test.ts.)
  const r = runEdgesh({
    stdin: `${'w'.repeat(60_000)}\npackage install 192.0.2.1 ${'n'.repeat(60_000)}.wmopkg\n`,
  });
  const errors = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(errors.length, 2);
  assert.equal(errors[0], `Error: line 1: unknown command "${'w'.repeat(79)}…" [unknown-command]`);
  assert.ok(errors[1]!.length < 200, errors[1]);
});

test('an abbreviated password keyword in a -c line is hidden from the process list too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgesh-ps-'));
  const child = spawn(
    process.execPath,
    [BIN, '--device', dir, '--user', 'admin', '-c', 'package install pa Hunter2x;y 192.0.2.1 slow.wmopkg'],
    { env: testEnv(), stdio: ['pipe', 'pipe', 'pipe'] },
  );
  try {
    for (let i = 0; i < 400; i++) {
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
      if (cmdline.startsWith('edgesh')) {
        assert.doesNotMatch(cmdline, /Hunter2x|;y/);
        assert.match(cmdline, /install pa \*\*\*\* 192/);
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail('the process title was never set');
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the password leaves the process list before the entry point loads anything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgesh-ps-'));
  // A module preloaded with --require sees the first require() of the entry point, and reads the
  // process's command line at that moment, as another local user would.
  const probe = join(dir, 'probe.cjs');
  const seen = join(dir, 'seen.txt');
  writeFileSync(
    probe,
    `const Module = require('node:module');
const fs = require('node:fs');
const original = Module.prototype.require;
Module.prototype.require = function (id) {
  if (this.filename === ${JSON.stringify(BIN)} && !fs.existsSync(${JSON.stringify(seen)})) {
    fs.writeFileSync(${JSON.stringify(seen)}, fs.readFileSync('/proc/self/cmdline', 'utf8'));
  }
  return original.apply(this, arguments);
};
`,
  );
  try {
    for (const line of [
      'package install password Hunter2x 192.0.2.1 pkgname.wmopkg',
      'package install pa "Hunter2x and more" 192.0.2.1 pkgname.wmopkg',
      "do package install user admin passw 'Hunter2x' 192.0.2.1 pkgname.wmopkg",
    ]) {
      rmSync(seen, { force: true });
      const r = spawnSync(
        process.execPath,
        ['--require', probe, BIN, '--device', join(dir, 'd'), '-c', line],
        {
          env: testEnv(),
          encoding: 'utf8',
          timeout: 20_000,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      const cmdline = readFileSync(seen, 'utf8');
      assert.doesNotMatch(cmdline, /Hunter2x/, line);
      assert.match(cmdline, /pa\w* \*\*\*\*/, line);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
