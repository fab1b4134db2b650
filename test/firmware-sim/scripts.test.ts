// Maintainer scripts and the files a package overwrites: order, environment, rollback, byte-exact restore.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** Whether process `pid` is gone (a zombie waiting for its reaper counts as gone: it runs no more). */
async function gone(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => undefined);
  return stat === undefined || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

describe('what a maintainer script runs with, and what it leaves', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('a child the script left in the background is killed when the script ends', async () => {
    await installFile(
      t.device,
      await buildPackage(t.root, {
        name: 'daemonish',
        data: [dir('./opt/'), file('./opt/daemonish', 'd')],
        scripts: { postinst: '#!/bin/sh\nmkdir -p var\nsleep 300 &\necho $! > var/background.pid\n' },
        sign: t.vendorKey,
      }),
    );
    assert.equal((await t.device.boot()).lines[0]!.reason, 'activated');
    const pid = Number(await readFile(join(t.dir, 'rootfs/var/background.pid'), 'utf8'));
    assert.ok(pid > 1);
    try {
      // SIGKILL takes effect asynchronously: look again for a bounded while, no timing asserted.
      for (let i = 0; i < 100 && !(await gone(pid)); i++) await sleep(50);
      assert.ok(await gone(pid), `the background child ${pid} outlived its script`);
    } finally {
      if (!(await gone(pid))) process.kill(pid, 'SIGKILL');
    }
  });

  test('the environment is the documented one, nothing of the session’s', async () => {
    process.env.EDGESH_TEST_SECRET = 'must not leak';
    try {
      await installFile(
        t.device,
        await buildPackage(t.root, {
          name: 'envdump',
          data: [dir('./opt/'), file('./opt/envdump', 'e')],
          scripts: { postinst: '#!/bin/sh\nmkdir -p var\nenv > var/env.txt\n' },
          sign: t.vendorKey,
        }),
      );
      await t.device.boot();
    } finally {
      delete process.env.EDGESH_TEST_SECRET;
    }
    const env = Object.fromEntries(
      (await readFile(join(t.dir, 'rootfs/var/env.txt'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const rootfs = join(t.dir, 'rootfs');
    assert.deepEqual(env, {
      DPKG_MAINTSCRIPT_NAME: 'postinst',
      LC_ALL: 'C',
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      PKG_NAME: 'envdump',
      PKG_ROOT: rootfs,
      PKG_VERSION: '1.0.0',
      PWD: rootfs,
    });
  });

  test('a package taken out because it may no longer run does not run its prerm and postrm', async () => {
    await t.device.setAllowUntrusted(true);
    await installFile(
      t.device,
      await buildPackage(t.root, {
        name: 'outcast',
        data: [dir('./opt/'), file('./opt/outcast', 'o')],
        scripts: { prerm: recorder('prerm'), postrm: recorder('postrm') },
      }),
    );
    assert.equal((await t.device.boot()).lines.find((l) => l.name === 'outcast')!.reason, 'activated');
    await t.device.setAllowUntrusted(false);
    const report = await t.device.boot();
    assert.deepEqual(report.deactivated, [
      { name: 'outcast', version: '1.0.0', reason: 'unsigned, allow-untrusted is off' },
    ]);
    assert.equal(await exists(join(t.dir, 'rootfs/opt/outcast')), false, 'its files are gone');
    assert.equal(await exists(join(t.dir, 'rootfs/var/order.log')), false, 'no script of it ran');
    assert.ok(
      (await t.device.eventLog()).some((l) =>
        l.endsWith('deactivate outcast 1.0.0: prerm and postrm not run (unsigned, allow-untrusted is off)'),
      ),
    );
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
