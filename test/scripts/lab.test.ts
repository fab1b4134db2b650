// `npm run lab` as an operator uses it: start it, paste its lines into the shell, stop it with Ctrl-C.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ROOT, runEdgesh } from '../helpers/run-edgesh.js';

const temp = mkdtempSync(join(tmpdir(), 'edgesh-lab-'));
const device = join(temp, 'device');
let lab: ChildProcess | undefined;
after(() => {
  lab?.kill('SIGKILL');
  rmSync(temp, { recursive: true, force: true });
});

function edgesh(stdin: string) {
  // The real services, not the test hook: the lab serves the real device.
  return runEdgesh({ device, stdin, env: { EDGESH_SERVICES: '' } });
}

test('the lab serves the samples over every protocol; its lines install; Ctrl-C stops it and removes its CA', async () => {
  lab = spawn(process.execPath, [join(ROOT, 'dist/scripts/lab.js'), '--device', device], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  lab.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  lab.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const deadline = Date.now() + 30_000;
  while (!out.includes('Ctrl-C stops the lab.')) {
    assert.ok(Date.now() < deadline, `lab did not start: ${out}`);
    assert.equal(lab.exitCode, null, `lab exited: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const line = (proto: string) => new RegExp(`^ {2}(install proto ${proto} .*)$`, 'm').exec(out)?.[1];
  const password = /password of user lab: (\S+)/.exec(out)?.[1];
  assert.ok(password);
  for (const proto of ['ftp', 'tftp', 'sftp', 'scp', 'http', 'https'])
    assert.ok(line(proto), `a line for ${proto}`);
  assert.match(
    out,
    /^ {2}install user lab 127\.0\.0\.1:\d+ hello\.wmopkg {3}\(ftp, with tftp as fallback\)$/m,
  );
  const caFile = join(device, 'etc/ssl/certs/edgesh-lab-ca.pem');
  assert.ok(existsSync(caFile));

  const r = edgesh(
    [
      `package ${line('http')}`,
      `package ${line('https')}`,
      `package ${line('tftp')}`,
      `package ${line('ftp')}`,
      password,
      `package ${line('sftp')}`,
      'y',
      password,
    ].join('\n'),
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    // The same package from each server: installed once, then unchanged (docs/automation.md).
    r.stdout.match(
      /^(Installed hello 1\.2\.0 \(Signed, key [0-9a-f]{16}\)|Unchanged hello 1\.2\.0 \(Signed, key [0-9a-f]{16}\): already installed)/gm,
    )?.length,
    5,
    r.stdout,
  );
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(password!), 'the password is never shown');

  const exited = new Promise<number | null>((resolve) => lab!.once('exit', resolve));
  lab.kill('SIGINT');
  assert.equal(await exited, 0);
  assert.match(out, /edgesh lab: stopped\./);
  assert.equal(existsSync(caFile), false, 'the CA of a stopped lab is no longer trusted');
});
