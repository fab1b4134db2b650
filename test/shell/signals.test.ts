// Ctrl-C (SIGINT) in script mode: the running command is aborted, the script goes on; a second one ends it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, testEnv } from '../helpers/run-edgesh.js';

/** Runs edgesh on a pipe; `stdin` is written and closed, or left open when `undefined`. */
function run(stdin: string | undefined): {
  child: ReturnType<typeof spawn>;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
  waitFor: (text: RegExp) => Promise<void>;
} {
  const dir = mkdtempSync(join(tmpdir(), 'edgesh-sig-'));
  const child = spawn(process.execPath, [BIN, '--device', dir, '--user', 'admin', '--echo'], {
    env: testEnv(),
  });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  const poke = (): void => {
    for (const w of waiters) w();
  };
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    poke();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    poke();
  });
  if (stdin !== undefined) child.stdin!.end(stdin);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  const waitFor = (text: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${text}: ${out}${err}`)),
        15_000,
      );
      const check = (): void => {
        if (text.test(out + err)) {
          clearTimeout(timer);
          resolve();
        }
      };
      waiters.push(check);
      check();
    });
  return { child, out: () => out, err: () => err, exited, waitFor };
}

test('SIGINT aborts a stalled transfer, the next lines still run, the status says it was interrupted', async () => {
  const r = run('package\ninstall 192.0.2.1 slow.wmopkg\nshow\ndo whoami\n');
  // --echo prints the command just before it starts; from then on it is the running command.
  await r.waitFor(/#> install 192\.0\.2\.1 slow\.wmopkg\n/);
  r.child.kill('SIGINT');
  assert.equal(await r.exited, 130);
  // One message whichever layer noticed the abort (the transport, the store).
  assert.equal(
    r.err(),
    'Error: line 2: installation of slow cancelled; nothing was installed [interrupted]\n',
  );
  assert.match(r.out(), /NAME +VERSION/);
  assert.match(r.out(), /admin\n$/);
  assert.doesNotMatch(r.out(), /│slow/);
});

test('SIGINT while no command runs ends the script with status 130', async () => {
  const r = run(undefined);
  r.child.stdin!.write('whoami\n');
  await r.waitFor(/admin\n/);
  r.child.kill('SIGINT');
  assert.equal(await r.exited, 130);
});
