// Secrets on the command line: `-c 'package install … password X'` must not show in the process list.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, testEnv } from '../helpers/run-edgesh.js';

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
