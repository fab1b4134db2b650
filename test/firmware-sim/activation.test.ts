// The activation rule of SPEC §4.3: the matrix, allow-untrusted on and off again, tampering, revocation.
import assert from 'node:assert/strict';
import { appendFile, lstat, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BootReport } from '../../firmware-sim/api.js';
import type { DataEntry } from '../../firmware-sim/format/index.js';
import { DeviceError } from '../../firmware-sim/index.js';
import {
  editDeviceJson,
  exists,
  installFile,
  makeTestDevice,
  type TestDevice,
} from '../helpers/device-fixtures.js';
import { buildPackage, dir, file, flipByte, memberOffset, strangerKey } from '../helpers/package-fixtures.js';

function line(report: BootReport, name: string) {
  const found = report.lines.find((l) => l.name === name);
  assert.ok(found, `no boot line for ${name}`);
  return found;
}

/** One package per verification status, each with a file of its own in rootfs. */
async function installMatrix(t: TestDevice): Promise<void> {
  const make = (name: string, sign?: import('../../firmware-sim/format/index.js').SecretKey) =>
    buildPackage(t.root, { name, data: [file(`./opt/${name}/marker`, name)], ...(sign ? { sign } : {}) });
  assert.equal((await installFile(t.device, await make('signed', t.vendorKey))).verification, 'Signed');
  assert.equal(
    (await installFile(t.device, await make('untrusted', strangerKey()))).verification,
    'Untrusted',
  );
  assert.equal((await installFile(t.device, await make('unsigned'))).verification, 'Unsigned');
  // Invalid cannot be installed; it becomes Invalid by tampering in the store after installation.
  const invalid = await make('invalid', t.vendorKey);
  assert.equal((await installFile(t.device, invalid)).verification, 'Signed');
  const record = JSON.parse(await readFile(join(t.dir, 'cfg/packages/invalid/record.json'), 'utf8'));
  const stored = join(t.dir, 'cfg/packages/invalid', record.file);
  await flipByte(stored, (await memberOffset(stored, 'data.tar.gz')) + 20);
}

const marker = (t: TestDevice, name: string) => exists(join(t.dir, 'rootfs/opt', name, 'marker'));

describe('activation matrix', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
    await installMatrix(t);
  });
  after(() => t.cleanup());

  test('allow-untrusted off: only Signed is activated', async () => {
    const report = await t.device.boot();
    assert.deepEqual(
      report.lines.map((l) => [l.name, l.verification, l.activated]),
      [
        ['invalid', 'Invalid', false],
        ['signed', 'Signed', true],
        ['unsigned', 'Unsigned', false],
        ['untrusted', 'Untrusted', false],
      ],
    );
    assert.match(line(report, 'untrusted').reason, /^untrusted key [0-9a-f]{16}, allow-untrusted is off$/);
    assert.equal(line(report, 'unsigned').reason, 'unsigned, allow-untrusted is off');
    assert.match(
      line(report, 'invalid').reason,
      /^invalid: package file changed in the store since installation/,
    );
    assert.deepEqual(
      await Promise.all(['invalid', 'signed', 'unsigned', 'untrusted'].map((n) => marker(t, n))),
      [false, true, false, false],
    );
  });

  test('allow-untrusted on: Untrusted and Unsigned too, Invalid never', async () => {
    await t.device.setAllowUntrusted(true);
    const report = await t.device.boot();
    assert.deepEqual(
      report.lines.map((l) => [l.name, l.activated]),
      [
        ['invalid', false],
        ['signed', true],
        ['unsigned', true],
        ['untrusted', true],
      ],
    );
    assert.deepEqual(
      await Promise.all(['invalid', 'signed', 'unsigned', 'untrusted'].map((n) => marker(t, n))),
      [false, true, true, true],
    );
    const list = await t.device.list();
    assert.deepEqual(
      list.map((p) => [p.name, p.state]),
      [
        ['invalid', 'inactive'],
        ['signed', 'active'],
        ['unsigned', 'active'],
        ['untrusted', 'active'],
      ],
    );
  });

  test('allow-untrusted switched off again: the next boot takes out what needed it', async () => {
    await t.device.setAllowUntrusted(false);
    const report = await t.device.boot();
    assert.deepEqual(
      report.lines.map((l) => [l.name, l.activated]),
      [
        ['invalid', false],
        ['signed', true],
        ['unsigned', false],
        ['untrusted', false],
      ],
    );
    assert.deepEqual(report.deactivated.map((d) => [d.name, d.reason]).sort(), [
      ['unsigned', 'unsigned, allow-untrusted is off'],
      // The same words as the package's line: `untrusted key 0123456789abcdef, allow-untrusted is off`.
      ['untrusted', line(report, 'untrusted').reason],
    ]);
    assert.equal(await marker(t, 'unsigned'), false);
    assert.equal(await marker(t, 'untrusted'), false);
    assert.equal(await marker(t, 'signed'), true);
    assert.ok(
      !(await exists(join(t.dir, 'rootfs/opt/unsigned'))),
      'the directory the package created is gone',
    );
  });
});

describe('the store changes between two boots', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('a package tampered with is taken out while the others stay', async () => {
    for (const name of ['alpha', 'beta', 'gamma']) {
      await installFile(
        t.device,
        await buildPackage(t.root, { name, data: [file(`./opt/${name}/marker`, name)], sign: t.vendorKey }),
      );
    }
    assert.ok((await t.device.boot()).lines.every((l) => l.activated));
    const record = JSON.parse(await readFile(join(t.dir, 'cfg/packages/beta/record.json'), 'utf8'));
    const stored = join(t.dir, 'cfg/packages/beta', record.file);
    await flipByte(stored, (await memberOffset(stored, 'control.tar.gz')) + 30);
    const report = await t.device.boot();
    assert.deepEqual(
      report.lines.map((l) => [l.name, l.verification, l.activated]),
      [
        ['alpha', 'Signed', true],
        ['beta', 'Invalid', false],
        ['gamma', 'Signed', true],
      ],
    );
    // The report says why it was taken out (the same words as its line), not "removed".
    assert.deepEqual(report.deactivated, [
      { name: 'beta', version: '1.0.0', reason: line(report, 'beta').reason },
    ]);
    assert.match(line(report, 'beta').reason, /^invalid: /);
    assert.equal(await marker(t, 'beta'), false);
    assert.equal(await marker(t, 'alpha'), true);
    const beta = (await t.device.list()).find((p) => p.name === 'beta')!;
    assert.equal(beta.verification, 'Invalid');
    assert.equal(beta.state, 'inactive');
  });

  test('a revoked key: Untrusted, taken out; with allow-untrusted it may run again', async () => {
    const keyNumber = (await t.device.details('alpha')).keyNumber!;
    await appendFile(join(t.dir, 'etc/wmopkg/revoked'), `${keyNumber}\n`);
    let report = await t.device.boot();
    assert.equal(line(report, 'alpha').verification, 'Untrusted');
    assert.equal(line(report, 'alpha').reason, `revoked key ${keyNumber}, allow-untrusted is off`);
    // The report says why it was taken out, not "removed".
    assert.deepEqual(
      report.deactivated.find((d) => d.name === 'alpha'),
      { name: 'alpha', version: '1.0.0', reason: `revoked key ${keyNumber}, allow-untrusted is off` },
    );
    assert.equal(await marker(t, 'alpha'), false);
    await t.device.setAllowUntrusted(true);
    report = await t.device.boot();
    assert.equal(line(report, 'alpha').activated, true);
    // A tampered package stays out whatever allow-untrusted says.
    assert.equal(line(report, 'beta').activated, false);
  });

  test('a firmware requirement checked again at boot', async () => {
    await installFile(
      t.device,
      await buildPackage(t.root, {
        name: 'needs-fw',
        depends: 'firmware (>= 5.26)',
        data: [file('./opt/needs-fw/marker', 'x')],
        sign: t.vendorKey,
      }),
    );
    assert.equal(line(await t.device.boot(), 'needs-fw').activated, true);
    await editDeviceJson(t.dir, (json) => {
      json.firmwareVersion = '5.20.0';
    });
    const report = await t.device.boot();
    assert.equal(line(report, 'needs-fw').activated, false);
    assert.equal(
      line(report, 'needs-fw').reason,
      'needs firmware (>= 5.26), this device runs firmware 5.20.0',
    );
    assert.equal(await marker(t, 'needs-fw'), false);
  });
});

describe('installation refuses what can never run', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  const refused = async (promise: Promise<unknown>, code: string, pattern: RegExp) => {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof DeviceError);
      assert.equal(error.code, code);
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes('\n'));
      return true;
    });
  };

  test('a foreign architecture', async () => {
    const path = await buildPackage(t.root, { name: 'mips-only', architecture: 'mips', sign: t.vendorKey });
    await refused(
      installFile(t.device, path),
      'DEVICE_ARCHITECTURE',
      /architecture mips is not accepted by this device/,
    );
  });

  test('a firmware too old', async () => {
    const path = await buildPackage(t.root, {
      name: 'future',
      depends: 'libc, firmware (>= 9.0)',
      sign: t.vendorKey,
    });
    await refused(
      installFile(t.device, path),
      'DEVICE_DEPENDS',
      /needs firmware \(>= 9\.0\), this device runs firmware 5\.26\.0/,
    );
  });

  test('a signature that does not verify', async () => {
    const path = await buildPackage(t.root, { name: 'broken-sig', sign: t.vendorKey });
    const sig = await memberOffset(path, '_manifest.sig');
    // The base64 line of the signature starts after the comment line: change one of its characters
    // into another base64 character, so that it still parses but no longer verifies.
    const bytes = await readFile(path);
    const at = bytes.indexOf(0x0a, sig) + 30;
    bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
    await writeFile(path, bytes);
    await refused(installFile(t.device, path), 'DEVICE_INVALID_PACKAGE', /verification Invalid/);
    assert.deepEqual(await t.device.names(), []);
  });

  test('a data member changed after signing', async () => {
    const path = await buildPackage(t.root, { name: 'flipped', sign: t.vendorKey });
    await flipByte(path, (await memberOffset(path, 'data.tar.gz')) + 40);
    await refused(installFile(t.device, path), 'DEVICE_INVALID_PACKAGE', /digest mismatch: data\.tar\.gz/);
  });
});

describe('upgrades and downgrades', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('the next boot replaces the old version files and drops the ones the new version lacks', async () => {
    await installFile(
      t.device,
      await buildPackage(t.root, {
        name: 'tool',
        version: '1.0',
        data: [file('./opt/tool/a', 'a1'), file('./opt/tool/b', 'b1')],
        sign: t.vendorKey,
      }),
    );
    await t.device.boot();
    const result = await installFile(
      t.device,
      await buildPackage(t.root, {
        name: 'tool',
        version: '2.0',
        data: [file('./opt/tool/a', 'a2'), file('./opt/tool/c', 'c2')],
        sign: t.vendorKey,
      }),
    );
    assert.equal(result.previousVersion, '1.0');
    const pending = (await t.device.list())[0]!;
    assert.equal(pending.state, 'pending');
    assert.equal(pending.activeVersion, '1.0');
    const report = await t.device.boot();
    assert.equal(line(report, 'tool').reason, 'activated (upgrade from 1.0)');
    assert.equal(await readFile(join(t.dir, 'rootfs/opt/tool/a'), 'utf8'), 'a2');
    assert.equal(await readFile(join(t.dir, 'rootfs/opt/tool/c'), 'utf8'), 'c2');
    assert.equal(await exists(join(t.dir, 'rootfs/opt/tool/b')), false);
  });

  test('an older version needs the caller to confirm', async () => {
    const older = await buildPackage(t.root, { name: 'tool', version: '1.5', sign: t.vendorKey });
    const asked: string[] = [];
    await assert.rejects(
      installFile(t.device, older, {
        confirmDowngrade: async (from, to) => {
          asked.push(`${from}->${to}`);
          return false;
        },
      }),
      (error: unknown) => error instanceof DeviceError && error.code === 'DEVICE_DOWNGRADE_REFUSED',
    );
    assert.deepEqual(asked, ['2.0->1.5']);
    assert.equal((await t.device.details('tool')).version, '2.0');
    const result = await installFile(t.device, older, { confirmDowngrade: async () => true });
    assert.equal(result.previousVersion, '2.0');
    assert.equal((await t.device.details('tool')).version, '1.5');
  });

  test('the boot report says downgrade and reinstall in its own words, not upgrade', async () => {
    // Installed by the test before: 1.5 over the active 2.0.
    assert.equal(line(await t.device.boot(), 'tool').reason, 'activated (downgrade from 2.0)');
    const same = await buildPackage(t.root, {
      name: 'tool',
      version: '1.5',
      data: [file('./opt/tool/a', 'again')],
      sign: t.vendorKey,
    });
    assert.equal((await installFile(t.device, same)).previousVersion, '1.5');
    assert.equal(line(await t.device.boot(), 'tool').reason, 'activated (reinstalled)');
    assert.equal(await readFile(join(t.dir, 'rootfs/opt/tool/a'), 'utf8'), 'again');
  });
});

describe('directories packages create', () => {
  let t: TestDevice;
  let hello: string;
  let agent: string;
  before(async () => {
    t = await makeTestDevice();
    hello = join(t.dir, 'media/usb0/hello.wmopkg');
    agent = join(t.dir, 'media/usb0/mgmt-agent.wmopkg');
  });
  after(() => t.cleanup());

  test('a directory two packages share goes with the last of them, when empty', async () => {
    await installFile(t.device, hello);
    await installFile(t.device, agent);
    await t.device.boot();
    assert.ok(await exists(join(t.dir, 'rootfs/usr/sbin/mgmt-agent')));
    await t.device.removeAll();
    await t.device.boot();
    assert.equal(await exists(join(t.dir, 'rootfs/usr')), false, 'no empty rootfs/usr left behind');
    assert.ok(await exists(join(t.dir, 'rootfs/etc/motd')), 'a directory that existed before stays');
  });

  test('either order: the one created first may go first', async () => {
    await installFile(t.device, hello);
    await installFile(t.device, agent);
    await t.device.boot();
    await t.device.remove('hello');
    await t.device.boot();
    assert.ok(await exists(join(t.dir, 'rootfs/usr/sbin/mgmt-agent')));
    assert.equal(await exists(join(t.dir, 'rootfs/usr/bin')), false);
    await t.device.remove('mgmt-agent');
    await t.device.boot();
    assert.equal(await exists(join(t.dir, 'rootfs/usr')), false);
  });

  test('a directory holding a file of no package stays', async () => {
    await installFile(t.device, hello);
    await installFile(t.device, agent);
    await t.device.boot();
    await writeFile(join(t.dir, 'rootfs/usr/operator-note'), 'mine\n');
    await t.device.removeAll();
    await t.device.boot();
    assert.equal(await readFile(join(t.dir, 'rootfs/usr/operator-note'), 'utf8'), 'mine\n');
    assert.equal(await exists(join(t.dir, 'rootfs/usr/bin')), false);
    assert.equal(await exists(join(t.dir, 'rootfs/usr/sbin')), false);
  });
});

describe('an upgrade that changes the kind of its own path (as dpkg allows)', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  const lstatOf = (path: string) => lstat(join(t.dir, 'rootfs', path));
  const version = (name: string, v: string, data: DataEntry[]) =>
    buildPackage(t.root, { name, version: v, data, sign: t.vendorKey }, `${name}-${v}.wmopkg`);
  const upgrade = async (path: string) => {
    await installFile(t.device, path, { name: 'app', confirmDowngrade: async () => true });
    return line(await t.device.boot(), 'app');
  };

  test('its own symlink becomes a directory, and its own directory a symlink again', async () => {
    const v1 = await version('app', '1.0', [
      dir('./opt/app/'),
      { name: './opt/app/lib', type: 'symlink', linkname: 'lib.real' },
      dir('./opt/app/lib.real/'),
      file('./opt/app/lib.real/so.1', 'one\n'),
    ]);
    const v2 = await version('app', '2.0', [
      dir('./opt/app/'),
      dir('./opt/app/lib/'),
      dir('./opt/app/lib/deeper/'),
      file('./opt/app/lib/so.2', 'two\n'),
      file('./opt/app/lib/deeper/so.3', 'three\n'),
    ]);
    assert.equal((await upgrade(v1)).reason, 'activated');
    assert.ok((await lstatOf('opt/app/lib')).isSymbolicLink());
    assert.equal((await upgrade(v2)).reason, 'activated (upgrade from 1.0)');
    assert.ok((await lstatOf('opt/app/lib')).isDirectory());
    assert.equal(await readFile(join(t.dir, 'rootfs/opt/app/lib/deeper/so.3'), 'utf8'), 'three\n');
    assert.equal(await exists(join(t.dir, 'rootfs/opt/app/lib.real')), false);
    // Back down to 1.0: the directory, with everything in it, becomes the symlink again.
    assert.equal((await upgrade(v1)).reason, 'activated (downgrade from 2.0)');
    assert.equal(await readlink(join(t.dir, 'rootfs/opt/app/lib')), 'lib.real');
    assert.equal(await readFile(join(t.dir, 'rootfs/opt/app/lib.real/so.1'), 'utf8'), 'one\n');
    await t.device.remove('app');
    await t.device.boot();
    assert.equal(await exists(join(t.dir, 'rootfs/opt')), false, 'nothing of app left');
  });

  test('refused when the path is another package’s, the firmware’s, or holds a file of no package', async () => {
    // Another package's symlink where app now wants a directory.
    await installFile(
      t.device,
      await version('other', '1.0', [
        dir('./srv/'),
        { name: './srv/link', type: 'symlink', linkname: '/tmp' },
      ]),
      { name: 'other' },
    );
    await t.device.boot();
    const theirs = await upgrade(
      await version('app', '1.0', [dir('./srv/'), dir('./srv/link/'), file('./srv/link/x', 'x')]),
    );
    assert.equal(theirs.activated, false);
    assert.equal(
      theirs.reason,
      'conflict: /srv/link is a symlink of package other, the package has a directory there',
    );
    assert.ok((await lstatOf('srv/link')).isSymbolicLink());
    // The firmware's own symlink.
    await symlink('motd', join(t.dir, 'rootfs/etc/motd.link'));
    const firmware = await upgrade(await version('app', '1.1', [dir('./etc/'), dir('./etc/motd.link/')]));
    assert.equal(
      firmware.reason,
      'conflict: /etc/motd.link is a symlink in rootfs: nothing is written through a symlink',
    );
    // app's own directory, but a file of no package was put into it: it cannot become a symlink.
    assert.equal(
      (
        await upgrade(
          await version('app', '1.2', [dir('./var/'), dir('./var/app/'), file('./var/app/a', 'a')]),
        )
      ).reason,
      'activated',
    );
    await writeFile(join(t.dir, 'rootfs/var/app/operator-note'), 'mine\n');
    const held = await upgrade(
      await version('app', '1.3', [dir('./var/'), { name: './var/app', type: 'symlink', linkname: '/data' }]),
    );
    assert.equal(held.activated, false);
    assert.equal(
      held.reason,
      'conflict: /var/app is a directory in rootfs, the package would replace it: /var/app/operator-note is not app’s; 1.2 stays active',
    );
    assert.equal(await readFile(join(t.dir, 'rootfs/var/app/a'), 'utf8'), 'a');
    assert.equal(await readFile(join(t.dir, 'rootfs/var/app/operator-note'), 'utf8'), 'mine\n');
  });
});
