// edgesh as a login shell under OpenSSH (from .ci/setup.d/30-shell.sh): ssh with a pty, ssh with a command, ssh with a script.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { PtyShell } from '../helpers/pty.js';

function need(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: .ci/setup.d/30-shell.sh must run first`);
  return value;
}

const host = need('EDGESH_SSH_HOST');
const port = need('EDGESH_SSH_PORT');
const user = need('EDGESH_SSH_USER');
const key = need('EDGESH_SSH_KEY');
const knownHosts = need('EDGESH_SSH_KNOWN_HOSTS');

/** ssh options: our key, our known_hosts, strict checking, no questions. */
function sshArgs(...rest: string[]): string[] {
  return [
    '-p',
    port,
    '-i',
    key,
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'SendEnv=LANG',
    `${user}@${host}`,
    ...rest,
  ];
}

const env = { ...process.env, LANG: 'C.UTF-8' };

function ssh(
  command: string | undefined,
  input = '',
): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync('ssh', command === undefined ? sshArgs() : sshArgs(command), {
    input,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error !== undefined) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

const shells: PtyShell[] = [];
after(() => {
  for (const s of shells) s.kill();
});

test("ssh host 'package show' runs edgesh -c and exits 0", () => {
  const r = ssh('package show');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Packages/);
  assert.match(r.stdout, /NAME +VERSION +PERSISTENT +VERIFICATION +DESCRIPTION/);
  assert.equal(r.stderr, '');
});

test('a failing command over ssh exits with its class (docs/automation.md) and one error line', () => {
  const r = ssh('package remove ghost');
  assert.equal(r.status, 4, 'not-found');
  assert.match(r.stderr, /^Error: .*ghost.* \[not-found\]\n$/);
  const unknown = ssh('frobnicate');
  assert.equal(unknown.status, 3, 'unknown-command');
  assert.equal(unknown.stderr, 'Error: unknown command "frobnicate" [unknown-command]\n');
});

test('out of the box: install from the simulated USB stick, reboot, show', () => {
  const r = ssh('package; install media external hello.wmopkg; do reboot; show', '');
  assert.match(r.stdout, /Reboot the device \(y\/N\)\?/);
  // End of input at the reboot question means no: install alone worked, reboot was not confirmed.
  assert.equal(r.status, 5, r.stdout + r.stderr);
  assert.match(r.stderr, /^Error: not confirmed, nothing was changed \[not-confirmed\]$/m);
  assert.match(r.stdout, /Installed hello /);
  const yes = ssh('package; do reboot; show', 'y\n');
  assert.equal(yes.status, 0, yes.stderr);
  assert.match(yes.stdout, /hello +\S+ +False +Signed/);
});

test('a script on stdin without a pty: script mode, answers read from the next line', () => {
  const r = ssh(undefined, 'package\nremove hello\ny\nshow\n');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Remove package hello \(y\/N\)\?y\nRemoved… Changes are applied after reboot\./);
  assert.doesNotMatch(r.stdout, /example:\//, 'no prompt in script mode');
});

test('interactive through a pty (ssh -tt): prompt, context, Ctrl-D, exit status 0', async () => {
  const s = new PtyShell([], { LANG: 'C.UTF-8' }, ['ssh', ['-tt', ...sshArgs()]]);
  shells.push(s);
  await s.waitFor('example:/>', 0, 30_000);
  let m = s.mark();
  s.type('package\r');
  await s.waitFor('example:/package/#>', m);
  m = s.mark();
  s.type('show\r');
  await s.waitFor(/NAME +VERSION +PERSISTENT/, m);
  m = s.mark();
  s.type('\x04');
  await s.waitFor('example:/>', m);
  s.type('exit\r');
  assert.equal(await s.exited(30_000), 0);
});
