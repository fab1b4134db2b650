// A filter never holds the shell: a pattern that backtracking engines take hours over, then SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, runEdgesh, testEnv } from '../helpers/run-edgesh.js';

/** Matches a prefix of every log line in exponentially many ways, then fails: hours for RegExp. */
const CATASTROPHIC = '^([0-9a-z: -]+)+X';

test('SIGTERM while show log is filtered through a catastrophic pattern ends the shell with 143', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgesh-filter-'));
  try {
    const device = join(dir, 'device');
    // A device with a long event log: the filter has much to read when the signal comes.
    assert.equal(runEdgesh({ device, args: ['-c', 'whoami'] }).status, 0);
    const line = '2026-11-21 10:02:41 install pkgname 5 26 0 rev0 ftp 192 0 2 1 signed ok and more words\n';
    appendFileSync(join(device, 'var/log/packages.log'), line.repeat(10_000));
    const child = spawn(process.execPath, [BIN, '--device', device, '--user', 'admin', '--echo'], {
      env: testEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const started = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // --echo prints the command just before it runs.
        if (out.includes(`show log | include ${CATASTROPHIC}\n`)) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // stdin stays open: the script waits for more once the command is done.
    child.stdin.write(`show log | include ${CATASTROPHIC}\n`);
    await started;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    try {
      assert.equal(await exited, 143);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same pattern over the whole log runs to its end, matching nothing', () => {
  const r = runEdgesh({ args: ['-c', `show log | include ${CATASTROPHIC}`, '-c', 'show log | count'] });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\n$/);
});
