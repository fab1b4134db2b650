// The parts of `npm run fleet` that need no root and no sshd: names, addresses, host keys, device copies, client files.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import ssh2 from 'ssh2';
import { openDevice, verifyUnlockToken } from '../../firmware-sim/index.js';
import { inventory, knownHosts, sshConfig } from '../../scripts/fleet/client-files.js';
import { DeviceTemplate, newSerials } from '../../scripts/fleet/devices.js';
import { ed25519KeyPair } from '../../scripts/fleet/ssh-key.js';
import { deviceAddress, deviceName, type FleetDevice } from '../../scripts/fleet/types.js';

const temp = mkdtempSync(join(tmpdir(), 'edgesh-fleet-'));
after(() => rmSync(temp, { recursive: true, force: true }));

test('device names and root-mode addresses', () => {
  const cases: Array<{ title: string; input: [number, number]; name: string; address: string }> = [
    { title: 'first', input: [1, 3], name: 'edge-001', address: '127.0.1.1' },
    { title: 'last of the first /24', input: [254, 300], name: 'edge-254', address: '127.0.1.254' },
    { title: 'never .0 or .255: on to the next', input: [255, 300], name: 'edge-255', address: '127.0.2.1' },
    { title: 'a thousand: four digits', input: [7, 1000], name: 'edge-0007', address: '127.0.1.7' },
    { title: 'the largest fleet', input: [1000, 1000], name: 'edge-1000', address: '127.0.4.238' },
  ];
  for (const c of cases) {
    assert.equal(deviceName(...c.input), c.name, c.title);
    assert.equal(deviceAddress(c.input[0]), c.address, c.title);
  }
});

test('host keys: OpenSSH format that ssh2 reads back, a leading zero byte of the public key included', () => {
  // About one key in 256 has a public key starting with 0x00, which ssh2's own generator drops.
  let pair = ed25519KeyPair('edge-001');
  for (let i = 0; i < 5000 && Buffer.from(pair.public.split(' ')[1]!, 'base64')[19] !== 0; i++) {
    pair = ed25519KeyPair('edge-001');
  }
  const blob = Buffer.from(pair.public.split(' ')[1]!, 'base64');
  assert.equal(blob[19], 0, 'found a key whose public half starts with a zero byte');
  for (const p of [pair, ed25519KeyPair('edge-002')]) {
    assert.match(
      p.private,
      /^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END OPENSSH PRIVATE KEY-----\n$/,
    );
    const parsed = ssh2.utils.parseKey(p.private);
    assert.ok(!(parsed instanceof Error), String(parsed));
    const key = Array.isArray(parsed) ? parsed[0]! : parsed;
    assert.equal(key.type, 'ssh-ed25519');
    assert.equal(key.comment, p.public.split(' ')[2]);
    assert.deepEqual(key.getPublicSSH(), Buffer.from(p.public.split(' ')[1]!, 'base64'));
    const data = Buffer.from('sign me');
    assert.equal(key.verify(data, key.sign(data) as Buffer), true);
  }
});

test('a device copied from the template is a device of its own: host name, serial, token, log', async () => {
  const template = await DeviceTemplate.create(join(temp, 'template'), join(temp, 'vendor'));
  const [a, b] = newSerials(2) as [string, string];
  assert.notEqual(a, b);
  assert.match(a, /^WM[0-9A-F]{10}$/);
  for (const [name, serial] of [
    ['edge-001', a],
    ['edge-002', b],
  ] as const) {
    const dir = join(temp, name);
    await template.write(dir, { hostname: name, serial });
    const device = await openDevice(dir, { session: { user: 'test', id: 'test' } });
    const info = await device.info();
    assert.equal(info.hostname, name);
    assert.equal(info.serial, serial);
    const anchor = JSON.parse(readFileSync(join(dir, 'device.json'), 'utf8')).anchorKey as string;
    assert.equal(
      verifyUnlockToken(readFileSync(join(dir, 'media/usb0/token.lic')), anchor, serial).serial,
      serial,
    );
    assert.throws(() =>
      verifyUnlockToken(readFileSync(join(dir, 'media/usb0/token.lic')), anchor, a === serial ? b : a),
    );
    const log = await device.eventLog();
    assert.match(
      log[0]!,
      new RegExp(`device created: hostname ${name}, serial ${serial}, firmware 5\\.26\\.0$`),
    );
    assert.match(readFileSync(join(dir, 'rootfs/etc/motd'), 'utf8'), new RegExp(`^Welcome to ${name}\\.`));
    assert.deepEqual(await device.list(), []);
  }
});

test('client files: known_hosts with and without port 22, inventory, ssh_config', () => {
  const device = (name: string, address: string, port: number): FleetDevice => ({
    name,
    serial: 'WM0000000001',
    deviceDir: `/f/devices/${name}/device`,
    address,
    port,
    hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEVUB6gMIcgoAnEXxCF5YYR0ihWwSjHstvCK81bynuYC',
    pidFile: `/f/devices/${name}/ssh/sshd.pid`,
  });
  const devices = [device('edge-001', '127.0.1.1', 22), device('edge-002', '127.0.0.1', 22002)];
  assert.equal(
    knownHosts(devices),
    `127.0.1.1 ${devices[0]!.hostKey} edge-001\n[127.0.0.1]:22002 ${devices[1]!.hostKey} edge-002\n`,
  );
  const site = { dir: '/f', repo: '/r', user: 'edgesh-fleet', clientKey: '/f/client/id_ed25519', devices };
  const inv = inventory(site);
  assert.match(inv, /^ {4}edge-002:\n {6}ansible_host: "127\.0\.0\.1"\n {6}ansible_port: 22002$/m);
  assert.match(inv, /^ {4}ansible_network_os: edgesh\.device\.edgesh$/m);
  assert.match(inv, /^ {4}ansible_connection: ansible\.netcommon\.network_cli$/m);
  assert.match(inv, /^ {4}ansible_network_cli_ssh_type: paramiko$/m);
  // OpenSSH (the rollout's ansible.builtin.ssh) checks host keys against the fleet's known_hosts.
  assert.match(
    inv,
    /^ {4}ansible_ssh_common_args: "-o UserKnownHostsFile=\/f\/known_hosts -o GlobalKnownHostsFile=\/dev\/null /m,
  );
  const config = sshConfig(site);
  assert.match(config, /^Host edge-001\n {2}HostName 127\.0\.1\.1\n {2}Port 22$/m);
  assert.match(config, /^ {2}StrictHostKeyChecking yes$/m);
  assert.match(config, /^ {2}UserKnownHostsFile \/f\/known_hosts$/m);
});
