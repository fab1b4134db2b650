// `npm run fleet` with the real OpenSSH sshd and client (root, from .ci/run): devices, logins, inventory, stop.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FLEET_USER, type FleetRecord, readFleet, startFleet, stopFleet } from '../../scripts/fleet/index.js';
import { appFor } from '../../scripts/fleet/login.js';
import { canConnect } from '../../scripts/fleet/sshd.js';
import { PtyShell } from '../helpers/pty.js';
import { ROOT } from '../helpers/run-edgesh.js';

assert.equal(process.getuid?.(), 0, 'the fleet interop test runs as root (.ci/run)');

const temp = mkdtempSync(join(tmpdir(), 'edgesh-fleet-interop-'));
// The devices' user must reach the fleet's directory (mkdtemp makes it 0700).
chmodSync(temp, 0o755);
const shells: PtyShell[] = [];
const nonRootUser = 'edgesh-fleet-nr';
/** The fleet program as the other user runs it (set by the second test). */
let fleetJs = join(ROOT, 'dist', 'scripts', 'fleet.js');
after(async () => {
  for (const s of shells) s.kill();
  await stopFleet(join(temp, 'root')).catch(() => {});
  spawnSync('runuser', [
    '-u',
    nonRootUser,
    '--',
    process.execPath,
    fleetJs,
    'stop',
    '--dir',
    join(temp, 'user'),
  ]);
  spawnSync('userdel', [nonRootUser]);
  rmSync(temp, { recursive: true, force: true });
});

function ssh(record: FleetRecord, host: string, command: string, extra: readonly string[] = []) {
  const r = spawnSync('ssh', ['-F', record.sshConfig, ...extra, host, command], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error !== undefined) throw r.error;
  return r;
}

function passwdEntry(user: string): string | undefined {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith(`${user}:`));
}

test('as root: each device on 127.0.1.K:22, its own device and host key, edgesh as the login shell; stop ends it all', async () => {
  const dir = join(temp, 'root');
  const record = await startFleet({ count: 3, dir, basePort: 22000, repo: ROOT });
  assert.equal(record.root, true);
  assert.equal(record.user, FLEET_USER);
  assert.deepEqual(
    record.devices.map((d) => `${d.name} ${d.address}:${d.port}`),
    ['edge-001 127.0.1.1:22', 'edge-002 127.0.1.2:22', 'edge-003 127.0.1.3:22'],
  );
  assert.equal(new Set(record.devices.map((d) => d.serial)).size, 3);
  assert.deepEqual(await readFleet(dir), record);
  // The user's login shell is the wrapper, and sshd accepts it because /etc/shells lists it.
  assert.equal(passwdEntry(FLEET_USER)?.split(':')[6], record.shell);
  assert.ok(readFileSync('/etc/shells', 'utf8').split('\n').includes(record.shell));

  for (const device of record.devices) {
    // ssh_config checks host keys strictly against the fleet's known_hosts: a wrong key fails here.
    const r = ssh(record, device.name, 'show version');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Hostname: +${device.name}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^Serial: +${device.serial}$`, 'm'));
    assert.equal(ssh(record, device.name, 'whoami').stdout, `${FLEET_USER}\n`);
  }
  // A client cannot point a login at another device: sshd's SetEnv wins over what the client sends.
  const other = ssh(record, 'edge-001', 'show version', [
    '-o',
    `SetEnv=EDGESH_DEVICE=${record.devices[2]!.deviceDir}`,
  ]);
  assert.match(other.stdout, /^Hostname: +edge-001$/m);
  // A failing command keeps edgesh's exit status through sshd.
  const failed = ssh(record, 'edge-002', 'package remove ghost');
  assert.notEqual(failed.status, 0);
  assert.match(failed.stderr, /^Error: .*ghost/m);

  // The inventory is what Ansible reads: every device with its address, the collection's platform.
  const inventory = JSON.parse(
    execFileSync('ansible-inventory', ['-i', record.inventory, '--list'], {
      encoding: 'utf8',
      env: { ...process.env, HOME: record.ansibleHome, ANSIBLE_CONFIG: record.ansibleConfig },
    }),
  ) as { edgesh: { hosts: string[] }; _meta: { hostvars: Record<string, Record<string, unknown>> } };
  assert.deepEqual(inventory.edgesh.hosts, ['edge-001', 'edge-002', 'edge-003']);
  assert.equal(inventory._meta.hostvars['edge-003']!.ansible_host, '127.0.1.3');
  assert.equal(inventory._meta.hostvars['edge-003']!.ansible_network_os, 'edgesh.device.edgesh');
  assert.equal(
    readFileSync(join(record.ansibleHome, '.ssh', 'known_hosts'), 'utf8'),
    readFileSync(record.knownHosts, 'utf8'),
  );

  // An interactive login, left open: stop ends it too.
  const shell = new PtyShell([], {}, ['ssh', ['-tt', '-F', record.sshConfig, 'edge-002']], process.env);
  shells.push(shell);
  await shell.waitFor('edge-002:/>', 0, 30_000);

  const pids = record.devices.map((d) => Number(readFileSync(d.pidFile, 'utf8')));
  await stopFleet(dir);
  for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`), false, `sshd ${pid} is gone`);
  for (const d of record.devices) assert.equal(await canConnect(d.address, d.port), false);
  assert.notEqual(await shell.exited(30_000), undefined, 'the open session ended');
  assert.equal(readFileSync('/etc/shells', 'utf8').split('\n').includes(record.shell), false);
  if (record.createdUser) assert.equal(passwdEntry(FLEET_USER), undefined);
});

test('as another user: each device on its own port of 127.0.0.1, edgesh by ForceCommand; stop', async () => {
  spawnSync('userdel', [nonRootUser]);
  execFileSync('useradd', [
    '--system',
    '--no-create-home',
    '--home-dir',
    '/nonexistent',
    '--shell',
    '/bin/sh',
    nonRootUser,
  ]);
  // The user runs the program from the clone when it can read it, else from a copy it can read.
  fleetJs = join(
    await appFor(nonRootUser, ROOT, process.execPath, join(temp, 'app')),
    'dist',
    'scripts',
    'fleet.js',
  );
  const dir = join(temp, 'user');
  execFileSync('install', ['-d', '-o', nonRootUser, dir]);
  const run = (...args: string[]) =>
    spawnSync('runuser', ['-u', nonRootUser, '--', process.execPath, fleetJs, ...args], {
      encoding: 'utf8',
      timeout: 120_000,
    });
  const started = run('2', '--dir', dir, '--base-port', '22400');
  assert.equal(started.status, 0, started.stderr);
  const record = JSON.parse(readFileSync(join(dir, 'fleet.json'), 'utf8')) as FleetRecord;
  assert.equal(record.root, false);
  assert.equal(record.user, nonRootUser);
  assert.deepEqual(
    record.devices.map((d) => `${d.address}:${d.port}`),
    ['127.0.0.1:22401', '127.0.0.1:22402'],
  );
  assert.match(readFileSync(record.knownHosts, 'utf8'), /^\[127\.0\.0\.1\]:22402 ssh-ed25519 \S+ edge-002$/m);
  const r = spawnSync(
    'runuser',
    ['-u', nonRootUser, '--', 'ssh', '-F', record.sshConfig, 'edge-002', 'show version; whoami'],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Hostname: +edge-002$/m);
  assert.match(r.stdout, new RegExp(`^${nonRootUser}$`, 'm'));
  const stopped = run('stop', '--dir', dir);
  assert.equal(stopped.status, 0, stopped.stderr);
  assert.match(stopped.stdout, /^Stopped 2 devices of /);
  const left = spawnSync('pgrep', ['-u', nonRootUser], { encoding: 'utf8' });
  assert.equal(left.stdout, '', 'no process of the user is left');
});
