// Maintainer scripts and the files a package overwrites: order, environment, rollback, byte-exact restore.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  editDeviceJson,
  exists,
  installFile,
  makeTestDevice,
  snapshot,
  type TestDevice,
} from '../helpers/device-fixtures.js';
import { buildPackage, dir, file } from '../helpers/package-fixtures.js';

/** A script that appends its name, arguments and environment to `var/order.log` (cwd is rootfs). */
const recorder = (which: string, exit = 0) =>
  `#!/bin/sh\nmkdir -p var\necho "${which} $* name=$PKG_NAME version=$PKG_VERSION root=$PKG_ROOT cwd=$(pwd)" >> var/order.log\necho "${which} says hello"\nexit ${exit}\n`;

const allScripts = (exitCodes: Partial<Record<string, number>> = {}) =>
  Object.fromEntries(
    ['preinst', 'postinst', 'prerm', 'postrm'].map((s) => [s, recorder(s, exitCodes[s] ?? 0)]),
  );

describe('maintainer scripts', () => {
  let t: TestDevice;
  let order: () => Promise<string[]>;
  before(async () => {
    t = await makeTestDevice();
    order = async () => {
      const text = await readFile(join(t.dir, 'rootfs/var/order.log'), 'utf8').catch(() => '');
      const lines = text.split('\n').filter(Boolean);
      await writeFile(join(t.dir, 'rootfs/var/order.log'), '').catch(() => {});
      return lines.map((l) => l.replace(/ name=.*/, ''));
    };
  });
  after(() => t.cleanup());

  test('install, upgrade and removal run the scripts in dpkg order, with cwd and environment', async () => {
    const v1 = await buildPackage(t.root, {
      name: 'scripted',
      version: '1.0',
      data: [dir('./opt/'), file('./opt/scripted', 'v1')],
      scripts: allScripts(),
      sign: t.vendorKey,
    });
    await installFile(t.device, v1);
    assert.equal((await t.device.boot()).lines[0]!.activated, true);
    const text = await readFile(join(t.dir, 'rootfs/var/order.log'), 'utf8');
    const rootfs = join(t.dir, 'rootfs');
    assert.match(
      text,
      new RegExp(`^preinst install name=scripted version=1\\.0 root=${rootfs} cwd=${rootfs}$`, 'm'),
    );
    assert.deepEqual(await order(), ['preinst install', 'postinst configure']);

    const v2 = await buildPackage(t.root, {
      name: 'scripted',
      version: '2.0',
      data: [dir('./opt/'), file('./opt/scripted', 'v2')],
      scripts: allScripts(),
      sign: t.vendorKey,
    });
    await installFile(t.device, v2);
    await t.device.boot();
    assert.deepEqual(await order(), [
      'prerm upgrade 2.0',
      'preinst upgrade 1.0',
      'postrm upgrade 2.0',
      'postinst configure 1.0',
    ]);

    await t.device.remove('scripted');
    await t.device.boot();
    assert.deepEqual(await order(), ['prerm remove', 'postrm remove']);
    const log = await t.device.eventLog();
    assert.ok(log.some((l) => / script scripted postinst: postinst says hello$/.test(l)));
  });

  test('a failing postinst rolls the package back and leaves it not activated', async () => {
    await writeFile(join(t.dir, 'rootfs/etc/motd'), 'original motd\n');
    const before = await snapshot(join(t.dir, 'rootfs'));
    const path = await buildPackage(t.root, {
      name: 'failing',
      data: [
        dir('./etc/'),
        file('./etc/motd', 'replaced\n'),
        dir('./opt/failing/'),
        file('./opt/failing/x', 'x'),
      ],
      scripts: { ...allScripts({ postinst: 3 }) },
      sign: t.vendorKey,
    });
    await installFile(t.device, path);
    const line = (await t.device.boot()).lines.find((l) => l.name === 'failing')!;
    assert.equal(line.activated, false);
    assert.equal(line.reason, 'postinst failed (exit status 3); rolled back');
    assert.deepEqual(await order(), ['preinst install', 'postinst configure']);
    const after = await snapshot(join(t.dir, 'rootfs'));
    after.delete('var/order.log');
    before.delete('var/order.log');
    assert.deepEqual(after, before);
    assert.equal(await exists(join(t.dir, 'var/lib/wmopkg/active/failing.json')), false);
    const failing = (await t.device.list()).find((p) => p.name === 'failing')!;
    assert.equal(failing.state, 'inactive');
    assert.ok(
      (await t.device.eventLog()).some((l) => l.endsWith('script failing postinst failed: exit status 3')),
    );
    await t.device.remove('failing');
    await t.device.boot();
  });

  test('a failing preinst changes nothing', async () => {
    const before = await snapshot(join(t.dir, 'rootfs'));
    const path = await buildPackage(t.root, {
      name: 'nopre',
      data: [dir('./opt/'), file('./opt/nopre', 'x')],
      scripts: { preinst: '#!/bin/sh\nexit 1\n' },
      sign: t.vendorKey,
    });
    await installFile(t.device, path);
    const line = (await t.device.boot()).lines.find((l) => l.name === 'nopre')!;
    assert.equal(line.reason, 'preinst failed (exit status 1)');
    assert.deepEqual(await snapshot(join(t.dir, 'rootfs')), before);
    await t.device.remove('nopre');
    await t.device.boot();
  });

  test('a failing postinst of an upgrade keeps the old version running', async () => {
    const v1 = await buildPackage(t.root, {
      name: 'keeper',
      version: '1',
      data: [dir('./opt/'), file('./opt/keeper', 'one')],
      sign: t.vendorKey,
    });
    await installFile(t.device, v1);
    await t.device.boot();
    const v2 = await buildPackage(t.root, {
      name: 'keeper',
      version: '2',
      data: [dir('./opt/'), file('./opt/keeper', 'two'), file('./opt/keeper-extra', 'new')],
      scripts: { postinst: '#!/bin/sh\nexit 1\n' },
      sign: t.vendorKey,
    });
    await installFile(t.device, v2);
    const line = (await t.device.boot()).lines.find((l) => l.name === 'keeper')!;
    assert.equal(line.reason, 'postinst failed (exit status 1); rolled back; 1 stays active');
    assert.equal(await readFile(join(t.dir, 'rootfs/opt/keeper'), 'utf8'), 'one');
    assert.equal(await exists(join(t.dir, 'rootfs/opt/keeper-extra')), false);
    const summary = (await t.device.list()).find((p) => p.name === 'keeper')!;
    assert.equal(summary.state, 'inactive');
    assert.equal(summary.activeVersion, '1');
  });

  test('a script running past the timeout is killed and counts as failed', async () => {
    await editDeviceJson(t.dir, (json) => {
      json.scriptTimeoutMs = 300;
    });
    const path = await buildPackage(t.root, {
      name: 'sleepy',
      data: [dir('./opt/'), file('./opt/sleepy', 'z')],
      scripts: { postinst: '#!/bin/sh\nsleep 30\n' },
      sign: t.vendorKey,
    });
    await installFile(t.device, path);
    const started = Date.now();
    const line = (await t.device.boot()).lines.find((l) => l.name === 'sleepy')!;
    assert.ok(Date.now() - started < 10_000);
    assert.equal(line.reason, 'postinst failed (killed after 300 ms); rolled back');
    assert.equal(await exists(join(t.dir, 'rootfs/opt/sleepy')), false);
  });
});

describe('files a package overwrites', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('removal restores the original byte for byte, mode included', async () => {
    const original = randomBytes(4096);
    const motd = join(t.dir, 'rootfs/etc/motd');
    await writeFile(motd, original);
    await chmod(motd, 0o640);
    const before = await snapshot(join(t.dir, 'rootfs'));
    await installFile(t.device, join(t.dir, 'media/usb0/motd.wmopkg'));
    await t.device.boot();
    assert.match(await readFile(motd, 'utf8'), /^Authorized access only/);
    await t.device.remove('motd');
    await t.device.boot();
    assert.ok((await readFile(motd)).equals(original));
    assert.equal((await stat(motd)).mode & 0o777, 0o640);
    assert.deepEqual(await snapshot(join(t.dir, 'rootfs')), before);
    assert.ok(
      (await t.device.eventLog()).some((l) =>
        l.includes('script motd postrm: postrm: firmware banner restored'),
      ),
    );
  });

  test('an upgrade that no longer has the file brings the original back too', async () => {
    const issue = join(t.dir, 'rootfs/etc/issue');
    const original = await readFile(issue);
    await installFile(
      t.device,
      await buildPackage(t.root, {
        name: 'brand',
        version: '1',
        data: [dir('./etc/'), file('./etc/issue', 'branded\n')],
        sign: t.vendorKey,
      }),
    );
    await t.device.boot();
    assert.equal(await readFile(issue, 'utf8'), 'branded\n');
    await installFile(
      t.device,
      await buildPackage(t.root, {
        name: 'brand',
        version: '2',
        data: [dir('./opt/'), file('./opt/brand', 'b')],
        sign: t.vendorKey,
      }),
    );
    await t.device.boot();
    assert.ok((await readFile(issue)).equals(original));
  });

  test('a file of another active package is a conflict, not an overwrite', async () => {
    await installFile(
      t.device,
      await buildPackage(t.root, {
        name: 'first',
        data: [dir('./opt/'), file('./opt/shared', 'first')],
        sign: t.vendorKey,
      }),
    );
    await installFile(
      t.device,
      await buildPackage(t.root, {
        name: 'second',
        data: [dir('./opt/'), file('./opt/shared', 'second')],
        sign: t.vendorKey,
      }),
    );
    const report = await t.device.boot();
    const second = report.lines.find((l) => l.name === 'second')!;
    assert.equal(second.activated, false);
    assert.equal(second.reason, 'conflict: /opt/shared belongs to package first');
    assert.equal(await readFile(join(t.dir, 'rootfs/opt/shared'), 'utf8'), 'first');
  });
});
