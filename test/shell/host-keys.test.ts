// SSH host keys from the shell down to a real SSH server on loopback: -y does not trust a key,
// --accept-new-host-keys trusts a new one, nothing trusts a changed one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningSshServer, sshKeyPair, startSshServer } from '../../lab/ssh-server.js';
import { BIN, testEnv } from '../helpers/run-edgesh.js';

const temp = mkdtempSync(join(tmpdir(), 'edgesh-hostkeys-'));
let server: RunningSshServer;
let n = 0;

/** The real shell on the real device and transports (no test services), without blocking the server. */
function edgesh(
  device: string,
  args: readonly string[],
  stdin = '',
): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const child = spawn(process.execPath, [BIN, '--device', device, '--user', 'admin', ...args], {
    env: testEnv({ EDGESH_SERVICES: '' }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.end(stdin);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, status });
    }),
  );
}

/** A new device, made by a first run; its sample package is what the server serves. */
async function newDevice(): Promise<string> {
  const device = join(temp, `device-${n++}`);
  const r = await edgesh(device, ['-c', 'whoami']);
  assert.equal(r.status, 0, r.stderr);
  return device;
}

const knownHosts = (device: string): string => readFileSync(join(device, 'etc/ssh/known_hosts'), 'utf8');
const install = (): string => `package install proto sftp password pw 127.0.0.1:${server.port} hello.wmopkg`;

before(async () => {
  const sample = await newDevice();
  server = await startSshServer({
    user: 'admin',
    password: 'pw',
    files: { 'hello.wmopkg': readFileSync(join(sample, 'media/usb0/hello.wmopkg')) },
  });
});

after(async () => {
  await server?.close();
  rmSync(temp, { recursive: true, force: true });
});

test('-y confirms commands, not a new host key: without an answer it is refused and not saved', async () => {
  const device = await newDevice();
  const r = await edgesh(device, ['-y', '-c', install()]);
  assert.equal(r.status, 7, `transfer: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /Trust this host key and continue connecting \(y\/N\)\?\n$/);
  assert.match(r.stderr, /^Error: sftp 127\.0\.0\.1:\d+: host key not accepted \(ssh-ed25519 SHA256:/);
  assert.doesNotMatch(knownHosts(device), /127\.0\.0\.1/);
});

test('--accept-new-host-keys adds a new key without asking, says so, and installs', async () => {
  const device = await newDevice();
  const r = await edgesh(device, ['--accept-new-host-keys', '-c', install()]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /Trust this host key/);
  assert.match(
    r.stderr,
    /^Warning: Permanently added the ssh-ed25519 key SHA256:\S+ of 127\.0\.0\.1:\d+ to known_hosts\.$/m,
  );
  // Signed by another device's vendor key: Untrusted here, which does not matter to the transfer.
  assert.match(r.stdout, /^Installed hello 1\.2\.0 \(Untrusted/m);
  const fingerprint = /key (SHA256:\S+) of/.exec(r.stderr)![1]!;
  const key = server.hostKeyBlob.toString('base64');
  assert.ok(knownHosts(device).includes(`[127.0.0.1]:${server.port} ssh-ed25519 ${key}`));
  // Known from now on: no warning, no question.
  const again = await edgesh(device, ['-c', install()]);
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stdout + again.stderr, /Permanently added|Trust this host key/);
  assert.ok(fingerprint.length > 10);
});

test('a changed host key is refused with -y and --accept-new-host-keys alike', async () => {
  const device = await newDevice();
  const other = sshKeyPair().blob.toString('base64');
  appendFileSync(join(device, 'etc/ssh/known_hosts'), `[127.0.0.1]:${server.port} ssh-ed25519 ${other}\n`);
  const r = await edgesh(device, ['-y', '--accept-new-host-keys', '-c', install()], 'y\ny\n');
  assert.equal(r.status, 7, `transfer: ${r.stdout}${r.stderr}`);
  assert.match(
    r.stderr,
    /^Error: sftp 127\.0\.0\.1:\d+: host key changed \(SHA256:\S+\); if the change is expected, remove line \d+ of known_hosts \[transfer\]$/m,
  );
  assert.doesNotMatch(r.stdout + r.stderr, /Trust this host key|Permanently added/);
  assert.doesNotMatch(
    knownHosts(device),
    new RegExp(server.hostKeyBlob.toString('base64').replace(/[+/]/g, '\\$&')),
  );
});
