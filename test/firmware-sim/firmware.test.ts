// The firmware lifecycle on the real device: slots, the boot matrix of an upgrade, rollback, fallback, trust.
import assert from 'node:assert/strict';
import { access, lstat, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BootReport } from '../../firmware-sim/api.js';
import { DeviceError } from '../../firmware-sim/index.js';
import {
  editDeviceJson,
  installFile,
  makeTestDevice,
  snapshot,
  type TestDevice,
} from '../helpers/device-fixtures.js';
import {
  buildFirmware,
  buildHotfix,
  firmwareFiles,
  rootfsVersion,
  runningFirmware,
} from '../helpers/firmware-fixtures.js';
import { buildPackage, dir, file, flipByte, memberOffset, strangerKey } from '../helpers/package-fixtures.js';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

function line(report: BootReport, name: string) {
  const found = report.lines.find((l) => l.name === name);
  assert.ok(found, `no boot line for ${name}: ${JSON.stringify(report.lines)}`);
  return found;
}

function code(error: unknown, expected: string): boolean {
  assert.ok(error instanceof DeviceError, String(error));
  assert.equal(error.code, expected, error.message);
  assert.doesNotMatch(error.message, /\n/);
  return true;
}

describe('firmware slots of a new device', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('the factory firmware runs in slot A; rootfs and the activation records go through firmware/current', async () => {
    assert.deepEqual(await runningFirmware(t.dir), { slot: 'A', version: '5.26.0', link: 'a' });
    assert.equal(await readlink(join(t.dir, 'rootfs')), 'firmware/current/rootfs');
    assert.equal(await readlink(join(t.dir, 'var/lib/wmopkg/active')), '../../../firmware/current/active');
    assert.ok((await lstat(join(t.dir, 'firmware/a/rootfs/etc/os-release'))).isFile());
    assert.deepEqual(await t.device.firmware(), {
      active: 'A',
      slots: [
        { name: 'A', state: 'active', version: '5.26.0', source: 'factory' },
        { name: 'B', state: 'empty' },
      ],
    });
  });

  test('a device of an earlier version (real rootfs/ and activation directories) gets its slots at the next start', async () => {
    const hello = join(t.dir, 'media/usb0/hello.wmopkg');
    await installFile(t.device, hello);
    await t.device.boot();
    const before = await snapshot(join(t.dir, 'rootfs'));
    // Undo the slots by hand: what an earlier version left.
    const { rename, rm } = await import('node:fs/promises');
    for (const [link, real] of [
      ['rootfs', 'firmware/a/rootfs'],
      ['var/lib/wmopkg/active', 'firmware/a/active'],
      ['var/lib/wmopkg/backup', 'firmware/a/backup'],
    ] as const) {
      await rm(join(t.dir, link));
      await rename(join(t.dir, real), join(t.dir, link));
    }
    await rm(join(t.dir, 'firmware'), { recursive: true });
    const json = JSON.parse(await readFile(join(t.dir, 'device.json'), 'utf8'));
    delete json.firmwareSlot;
    await writeFile(join(t.dir, 'device.json'), JSON.stringify(json));
    const { openDevice } = await import('../../firmware-sim/index.js');
    const again = await openDevice(t.dir, { session: { user: 't', id: 'x' }, vendorDir: t.vendorDir });
    assert.deepEqual(await runningFirmware(t.dir), { slot: 'A', version: '5.26.0', link: 'a' });
    assert.deepEqual(await snapshot(join(t.dir, 'rootfs')), before);
    assert.equal(line(await again.boot(), 'hello').reason, 'already active');
    assert.ok((await again.eventLog()).some((l) => / firmware slots: 5\.26\.0 in slot A$/.test(l)));
  });
});

describe('boot matrix: a firmware upgrade with regular, hotfix, firmware-bound and persistent packages', () => {
  let t: TestDevice;
  let upgrade: BootReport;
  before(async () => {
    t = await makeTestDevice();
    const usb = (name: string) => join(t.dir, 'media/usb0', name);
    await installFile(t.device, usb('hello.wmopkg'));
    await installFile(t.device, usb('motd.wmopkg'));
    await installFile(t.device, usb('mgmt-agent.wmopkg'), { persistent: true });
    await installFile(t.device, await buildHotfix(t.root, 'fix-1', '5.26.0', t.vendorKey));
    const bound = await buildPackage(t.root, {
      name: 'bound',
      depends: 'firmware (<< 5.27)',
      data: [dir('./opt/'), file('./opt/bound', 'bound')],
      sign: t.vendorKey,
    });
    await installFile(t.device, bound);
    const first = await t.device.boot();
    assert.ok(
      first.lines.every((l) => l.activated),
      JSON.stringify(first.lines),
    );
    assert.deepEqual(first.firmware, {
      version: '5.26.0',
      slot: 'A',
      hotfixesRemoved: [],
      restored: [],
    });
    const result = await installFile(t.device, await buildFirmware(t.root, '5.27.0', { sign: t.vendorKey }));
    assert.equal(result.kind, 'firmware');
    assert.deepEqual(result.firmware, { from: '5.26.0', to: '5.27.0', slot: 'B', change: 'upgrade' });
    upgrade = await t.device.boot();
  });
  after(() => t.cleanup());

  test('the switch: device.json, firmware/current and rootfs name the new firmware at once; the old slot stays as it was', async () => {
    assert.deepEqual(await runningFirmware(t.dir), { slot: 'B', version: '5.27.0', link: 'b' });
    assert.equal(await rootfsVersion(t.dir), '5.27.0');
    assert.deepEqual(upgrade.firmware?.change, {
      kind: 'upgrade',
      from: '5.26.0',
      to: '5.27.0',
      slot: 'B',
      package: 'firmware-5.27.0',
      done: true,
    });
    assert.equal(line(upgrade, 'firmware-5.27.0').reason, 'firmware activated in slot B');
    // The fallback slot: the old firmware with the packages as they ran on it.
    const old = join(t.dir, 'firmware/a/rootfs');
    assert.match(await readFile(join(old, 'etc/os-release'), 'utf8'), /VERSION="5\.26\.0"/);
    assert.ok(await exists(join(old, 'etc/hotfix.d/fix-1')));
    assert.ok(await exists(join(old, 'opt/bound')));
    // The firmware package is consumed: its files are the slot's.
    assert.deepEqual(await t.device.names(), ['bound', 'hello', 'mgmt-agent', 'motd']);
    assert.equal((await t.device.info()).firmwareVersion, '5.27.0');
    assert.deepEqual(
      (await t.device.firmware()).slots.map((s) => [s.name, s.state, s.version, s.source]),
      [
        ['A', 'fallback', '5.26.0', 'factory'],
        ['B', 'active', '5.27.0', 'firmware-5.27.0'],
      ],
    );
  });

  test('every package is evaluated again against the new firmware: Depends: firmware decides', async () => {
    assert.deepEqual(
      upgrade.lines.map((l) => [l.name, l.activated]),
      [
        ['bound', false],
        ['firmware-5.27.0', true],
        ['hello', true],
        ['mgmt-agent', true],
        ['motd', true],
      ],
    );
    assert.equal(line(upgrade, 'bound').reason, 'needs firmware (<< 5.27), this device runs firmware 5.27.0');
    assert.ok(!(await exists(join(t.dir, 'rootfs/opt/bound'))));
    assert.ok(await exists(join(t.dir, 'rootfs/usr/bin/hello')));
    // motd overwrote the new firmware's /etc/motd, whose original waits for it to go.
    assert.match(await readFile(join(t.dir, 'rootfs/etc/motd'), 'utf8'), /^Authorized access only/);
    assert.equal(
      await readFile(join(t.dir, 'var/lib/wmopkg/backup/motd/etc/motd'), 'utf8'),
      'Welcome. Firmware 5.27.0.\n',
    );
    const bound = (await t.device.list()).find((p) => p.name === 'bound')!;
    assert.equal(bound.state, 'inactive');
  });

  test('the hotfix of the old firmware is removed, and the report and the log say so', async () => {
    assert.deepEqual(upgrade.firmware?.hotfixesRemoved, [{ name: 'fix-1', version: '5.26.0-1' }]);
    assert.ok(!upgrade.lines.some((l) => l.name === 'fix-1'));
    assert.ok(!(await exists(join(t.dir, 'rootfs/etc/hotfix.d'))));
    const log = await t.device.eventLog();
    assert.ok(
      log.some((l) => / removed hotfix fix-1 5\.26\.0-1: firmware is now 5\.27\.0$/.test(l)),
      log.join('\n'),
    );
    assert.ok(
      log.some((l) =>
        / firmware upgraded: 5\.26\.0 -> 5\.27\.0 \(package firmware-5\.27\.0\) in slot B;/.test(l),
      ),
    );
  });

  test('the persistent package is in the backup and runs on the new firmware', async () => {
    assert.deepEqual(
      (await t.device.backup()).map((e) => [e.name, e.state]),
      [['mgmt-agent', 'installed']],
    );
    assert.ok(await exists(join(t.dir, 'rootfs/usr/sbin/mgmt-agent')));
  });

  test('firmware fallback: the other slot runs again at the next boot; what changed since is evaluated again', async () => {
    const change = await t.device.setFirmwareFallback(true);
    assert.deepEqual(change, { kind: 'fallback', from: '5.27.0', to: '5.26.0', slot: 'A' });
    assert.equal((await t.device.bootConfig()).firmwareFallback, true);
    assert.deepEqual((await t.device.firmware()).next, change);
    const report = await t.device.boot();
    assert.deepEqual(report.firmware?.change, { ...change, done: true });
    assert.deepEqual(await runningFirmware(t.dir), { slot: 'A', version: '5.26.0', link: 'a' });
    assert.equal(await rootfsVersion(t.dir), '5.26.0');
    assert.equal(line(report, 'bound').reason, 'already active');
    // The hotfix is gone for good: it left the store when the firmware changed.
    assert.deepEqual(report.deactivated, [{ name: 'fix-1', version: '5.26.0-1', reason: 'removed' }]);
    assert.equal((await t.device.bootConfig()).firmwareFallback, undefined);
    const slots = (await t.device.firmware()).slots.map((s) => [s.name, s.state, s.version]);
    assert.deepEqual(slots, [
      ['A', 'active', '5.26.0'],
      ['B', 'fallback', '5.27.0'],
    ]);
  });
});

describe('a firmware that fails to activate rolls back at the same boot', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
    await installFile(t.device, await buildHotfix(t.root, 'fix-1', '5.26.0', t.vendorKey));
    await t.device.boot();
  });
  after(() => t.cleanup());

  test('a failing postinst: the running firmware stays, the new slot is marked failed, the package stays installed', async () => {
    const before = await snapshot(join(t.dir, 'rootfs'));
    const path = await buildFirmware(t.root, '5.27.0', {
      sign: t.vendorKey,
      postinst: '#!/bin/sh\necho "cannot configure"\nexit 4\n',
    });
    await installFile(t.device, path);
    const report = await t.device.boot();
    assert.deepEqual(report.firmware?.change, {
      kind: 'upgrade',
      from: '5.26.0',
      to: '5.27.0',
      slot: 'B',
      package: 'firmware-5.27.0',
      done: false,
      rolledBack: true,
      reason: 'postinst failed (exit status 4)',
    });
    assert.equal(
      line(report, 'firmware-5.27.0').reason,
      'postinst failed (exit status 4); rolled back to 5.26.0 in slot A',
    );
    assert.deepEqual(await runningFirmware(t.dir), { slot: 'A', version: '5.26.0', link: 'a' });
    assert.deepEqual(await snapshot(join(t.dir, 'rootfs')), before);
    assert.equal(line(report, 'fix-1').reason, 'already active');
    assert.deepEqual(report.firmware?.hotfixesRemoved, []);
    const slotB = (await t.device.firmware()).slots[1];
    assert.deepEqual(slotB, {
      name: 'B',
      state: 'failed',
      version: '5.27.0',
      source: 'firmware-5.27.0',
      reason: 'postinst failed (exit status 4)',
    });
    const pkg = (await t.device.list()).find((p) => p.name === 'firmware-5.27.0')!;
    assert.equal(pkg.state, 'inactive');
    const log = await t.device.eventLog();
    assert.ok(log.some((l) => / script firmware-5\.27\.0 postinst: cannot configure$/.test(l)));
    assert.ok(
      log.some((l) =>
        /firmware 5\.27\.0 \(package firmware-5\.27\.0\) not activated: postinst failed/.test(l),
      ),
    );
    await assert.rejects(t.device.setFirmwareFallback(true), (e) => code(e, 'DEVICE_FIRMWARE'));
    await t.device.remove('firmware-5.27.0');
  });

  test('a corrupt image (the stored file changed): rolled back, nothing of it runs', async () => {
    await installFile(t.device, await buildFirmware(t.root, '5.27.1', { sign: t.vendorKey }));
    const record = JSON.parse(
      await readFile(join(t.dir, 'cfg/packages/firmware-5.27.1/record.json'), 'utf8'),
    );
    const stored = join(t.dir, 'cfg/packages/firmware-5.27.1', record.file);
    await flipByte(stored, (await memberOffset(stored, 'data.tar.gz')) + 40);
    const report = await t.device.boot();
    assert.equal(report.firmware?.change?.done, false);
    assert.equal(report.firmware?.change?.rolledBack, true);
    assert.match(
      report.firmware?.change?.reason ?? '',
      /^invalid: package file changed in the store since installation/,
    );
    assert.deepEqual(await runningFirmware(t.dir), { slot: 'A', version: '5.26.0', link: 'a' });
    assert.equal(await rootfsVersion(t.dir), '5.26.0');
  });
});

describe('a full disk while the new firmware is written', () => {
  test('rolls back with the reason; the next boot tries again and succeeds', async () => {
    const t = await makeTestDevice();
    try {
      const data = [
        ...firmwareFiles('5.27.0'),
        ...Array.from({ length: 70 }, (_, i) => file(`./opt/f${i}`, 'x')),
      ];
      await installFile(t.device, await buildFirmware(t.root, '5.27.0', { sign: t.vendorKey, data }));
      process.env.EDGESH_DEVICE_FAULT = 'enospc:unpack:entry:2';
      let report: BootReport;
      try {
        report = await t.device.boot();
      } finally {
        delete process.env.EDGESH_DEVICE_FAULT;
      }
      assert.equal(report.firmware?.change?.rolledBack, true);
      assert.equal(report.firmware?.change?.reason, 'could not unpack: no space left on the device storage');
      assert.deepEqual(await runningFirmware(t.dir), { slot: 'A', version: '5.26.0', link: 'a' });
      report = await t.device.boot();
      assert.equal(report.firmware?.change?.done, true);
      assert.equal(await rootfsVersion(t.dir), '5.27.0');
    } finally {
      await t.cleanup();
    }
  });
});

describe('the bounds of a stage hold for a firmware', () => {
  test('storage: a firmware may not fill the reserve kept for the device state; the running one stays', async () => {
    const t = await makeTestDevice();
    try {
      await installFile(t.device, await buildFirmware(t.root, '5.27.0', { sign: t.vendorKey }));
      // More reserve than any disk has free: whatever the free space, the slot may not grow.
      await editDeviceJson(t.dir, (json) => {
        json.limits = { reserveBytes: 2 ** 50 };
      });
      let report = await t.device.boot();
      assert.equal(report.firmware?.change?.done, false);
      assert.equal(report.firmware?.change?.rolledBack, true);
      assert.match(
        report.firmware?.change?.reason ?? '',
        /^unpacking stopped: it needs more than the [0-9.]+ [KMGT]iB free on the device storage less the 1024\.0 TiB kept in reserve \(limits\.reserveBytes\)/,
      );
      assert.deepEqual(await runningFirmware(t.dir), { slot: 'A', version: '5.26.0', link: 'a' });
      assert.equal(await rootfsVersion(t.dir), '5.26.0');
      await editDeviceJson(t.dir, (json) => {
        json.limits = {};
      });
      report = await t.device.boot();
      assert.equal(report.firmware?.change?.done, true);
      assert.equal(await rootfsVersion(t.dir), '5.27.0');
    } finally {
      await t.cleanup();
    }
  });

  test('depth: a firmware nested deeper than limits.pathDepth is refused as unsafe, nothing of it runs', async () => {
    const t = await makeTestDevice();
    try {
      const deep = `./opt/${Array.from({ length: 70 }, (_, i) => `d${i}`).join('/')}/f`;
      const data = [...firmwareFiles('5.27.0'), file(deep, 'x')];
      await installFile(t.device, await buildFirmware(t.root, '5.27.0', { sign: t.vendorKey, data }));
      await editDeviceJson(t.dir, (json) => {
        json.limits = { pathDepth: 16 };
      });
      const report = await t.device.boot();
      assert.equal(report.firmware?.change?.done, false);
      assert.match(report.firmware?.change?.reason ?? '', /nested deeper than 16 levels \(limit\)/);
      assert.deepEqual(await runningFirmware(t.dir), { slot: 'A', version: '5.26.0', link: 'a' });
    } finally {
      await t.cleanup();
    }
  });
});

describe('a firmware whose key was revoked since its installation', () => {
  test('is refused before the spare slot is wiped: the fallback stays, nothing is unpacked', async () => {
    const t = await makeTestDevice();
    try {
      await installFile(t.device, await buildFirmware(t.root, '5.27.0', { sign: t.vendorKey }));
      const { keys } = await t.device.trust.keys();
      const vendor = keys.find((k) => k.anchor)!.keyNumber;
      assert.equal(await t.device.trust.revokeKey(vendor), true);
      const spare = join(t.dir, 'firmware/b');
      const before = await exists(spare);
      const report = await t.device.boot();
      assert.equal(report.firmware?.change?.done, false);
      assert.equal(report.firmware?.change?.rolledBack, undefined, 'nothing was written, nothing rolls back');
      assert.equal(
        report.firmware?.change?.reason,
        `untrusted: signed by revoked key ${vendor}; a firmware must be signed by the vendor key`,
      );
      assert.equal(await exists(spare), before, 'the spare slot was not written');
      assert.deepEqual(await runningFirmware(t.dir), { slot: 'A', version: '5.26.0', link: 'a' });
    } finally {
      await t.cleanup();
    }
  });
});

describe('firmware packages: vendor-signed only, architecture checked, whatever the boot configuration says', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
    await t.device.setAllowUntrusted(true);
  });
  after(() => t.cleanup());

  test('unsigned, or signed by an unknown key: refused even with allow-untrusted on; nothing stored', async () => {
    await assert.rejects(
      installFile(t.device, await buildFirmware(t.root, '5.27.0', { fileName: 'unsigned.wmopkg' })),
      (e) =>
        code(e, 'DEVICE_UNTRUSTED') &&
        /it is Unsigned .*allow-untrusted does not apply to firmware$/.test((e as Error).message),
    );
    await assert.rejects(
      installFile(
        t.device,
        await buildFirmware(t.root, '5.27.0', { sign: strangerKey(), fileName: 'stranger.wmopkg' }),
      ),
      (e) => code(e, 'DEVICE_UNTRUSTED') && /it is Untrusted/.test((e as Error).message),
    );
    assert.deepEqual(await t.device.names(), []);
  });

  test('signed by a key the device trusts, but not the vendor key: refused', async () => {
    const other = strangerKey();
    const { formatPublicKey, publicKeyOf } = await import('../../firmware-sim/format/index.js');
    await writeFile(
      join(t.dir, 'etc/wmopkg/keys/partner.pub'),
      formatPublicKey(publicKeyOf(other, 'partner')),
    );
    const path = await buildFirmware(t.root, '5.27.0', { sign: other, fileName: 'partner.wmopkg' });
    await assert.rejects(
      installFile(t.device, path),
      (e) => code(e, 'DEVICE_UNTRUSTED') && /not the vendor key/.test((e as Error).message),
    );
  });

  test('architecture all, or one the device does not accept: refused', async () => {
    await assert.rejects(
      installFile(
        t.device,
        await buildFirmware(t.root, '5.27.0', {
          sign: t.vendorKey,
          architecture: 'all',
          fileName: 'all.wmopkg',
        }),
      ),
      (e) =>
        code(e, 'DEVICE_BAD_PACKAGE') && /architecture of its hardware, not "all"/.test((e as Error).message),
    );
    await assert.rejects(
      installFile(
        t.device,
        await buildFirmware(t.root, '5.27.0', {
          sign: t.vendorKey,
          architecture: 'mips',
          fileName: 'mips.wmopkg',
        }),
      ),
      (e) => code(e, 'DEVICE_ARCHITECTURE'),
    );
  });

  test('one firmware change at a time; a firmware is never persistent', async () => {
    await installFile(t.device, await buildFirmware(t.root, '5.27.0', { sign: t.vendorKey }));
    await assert.rejects(
      installFile(t.device, await buildFirmware(t.root, '5.28.0', { sign: t.vendorKey })),
      (e) =>
        code(e, 'DEVICE_FIRMWARE') &&
        /firmware 5\.27\.0 \(package firmware-5\.27\.0\) is installed/.test((e as Error).message),
    );
    await assert.rejects(
      installFile(
        t.device,
        await buildFirmware(t.root, '5.28.0', { sign: t.vendorKey, fileName: 'firmware-5.27.0.wmopkg' }),
        {
          persistent: true,
        },
      ),
      (e) => code(e, 'DEVICE_FIRMWARE') && /cannot be persistent/.test((e as Error).message),
    );
    // The same name replaces the waiting one.
    const result = await installFile(
      t.device,
      await buildFirmware(t.root, '5.28.0', { sign: t.vendorKey, fileName: 'firmware-5.27.0.wmopkg' }),
    );
    assert.equal(result.previousVersion, '5.27.0');
    assert.equal((await t.device.firmware()).next?.to, '5.28.0');
    await t.device.remove('firmware-5.27.0');
    assert.equal((await t.device.firmware()).next, undefined);
  });

  test('a hotfix must name one firmware version, the one that runs', async () => {
    const loose = await buildPackage(t.root, {
      name: 'loose',
      depends: 'firmware (>= 5.26.0)',
      fields: [['Tags', 'hotfix']],
      sign: t.vendorKey,
    });
    await assert.rejects(installFile(t.device, loose), (e) => code(e, 'DEVICE_BAD_PACKAGE'));
    await assert.rejects(
      installFile(t.device, await buildHotfix(t.root, 'fix-old', '5.25.0', t.vendorKey)),
      (e) =>
        code(e, 'DEVICE_DEPENDS') &&
        /needs firmware \(= 5\.25\.0\), this device runs firmware 5\.26\.0/.test((e as Error).message),
    );
  });
});

describe('firmware downgrade', () => {
  test('asks, naming the firmware; a no changes nothing', async () => {
    const t = await makeTestDevice();
    try {
      const asked: string[] = [];
      const path = await buildFirmware(t.root, '5.25.0', { sign: t.vendorKey });
      await assert.rejects(
        installFile(t.device, path, {
          confirmDowngrade: async (from, to, subject) => {
            asked.push(`${subject} ${from} ${to}`);
            return false;
          },
        }),
        (e) =>
          code(e, 'DEVICE_DOWNGRADE_REFUSED') &&
          /^downgrade of firmware from 5\.26\.0 to 5\.25\.0 not confirmed/.test((e as Error).message),
      );
      assert.deepEqual(asked, ['firmware 5.26.0 5.25.0']);
      assert.deepEqual(await t.device.names(), []);
    } finally {
      await t.cleanup();
    }
  });

  test('on a secure-boot device: refused without an unlock token (never asked), asked and done with one', async () => {
    const t = await makeTestDevice({ edit: (json) => (json.secureBoot = true) });
    try {
      let asked = 0;
      const confirmDowngrade = async () => {
        asked++;
        return true;
      };
      const path = await buildFirmware(t.root, '5.25.0', { sign: t.vendorKey });
      await assert.rejects(
        installFile(t.device, path, { confirmDowngrade }),
        (e) =>
          code(e, 'DEVICE_SECURE_BOOT') &&
          /^firmware downgrade from 5\.26\.0 to 5\.25\.0 refused: secure boot is on/.test(
            (e as Error).message,
          ),
      );
      assert.equal(asked, 0);
      const { createReadStream } = await import('node:fs');
      await t.device.installUnlockToken(createReadStream(join(t.dir, 'media/usb0/token.lic')));
      const result = await installFile(t.device, path, { confirmDowngrade });
      assert.equal(asked, 1);
      assert.equal(result.firmware?.change, 'downgrade');
      const report = await t.device.boot();
      assert.equal(report.firmware?.change?.kind, 'downgrade');
      assert.equal(report.firmware?.change?.done, true);
      assert.deepEqual(await runningFirmware(t.dir), { slot: 'B', version: '5.25.0', link: 'b' });
      // Falling back to the newer factory firmware is no downgrade.
      assert.equal((await t.device.setFirmwareFallback(true))?.to, '5.26.0');
    } finally {
      await t.cleanup();
    }
  });

  test('firmware fallback to an older firmware on a secure-boot device needs the token too', async () => {
    const t = await makeTestDevice();
    try {
      await installFile(t.device, await buildFirmware(t.root, '5.27.0', { sign: t.vendorKey }));
      await t.device.boot();
      await editDeviceJson(t.dir, (json) => (json.secureBoot = true));
      await assert.rejects(
        t.device.setFirmwareFallback(true),
        (e) =>
          code(e, 'DEVICE_SECURE_BOOT') &&
          /^firmware fallback from 5\.27\.0 to 5\.26\.0 refused/.test((e as Error).message),
      );
      assert.equal((await t.device.bootConfig()).firmwareFallback, undefined);
      // A fallback set by hand is not honoured by the boot either.
      await writeFile(
        join(t.dir, 'boot/config'),
        `${await readFile(join(t.dir, 'boot/config'), 'utf8')}firmware fallback\n`,
      );
      const report = await t.device.boot();
      assert.equal(report.firmware?.change?.done, false);
      assert.match(report.firmware?.change?.reason ?? '', /needs an unlock token \(secure boot\)/);
      assert.deepEqual(await runningFirmware(t.dir), { slot: 'B', version: '5.27.0', link: 'b' });
      assert.equal((await t.device.bootConfig()).firmwareFallback, undefined);
    } finally {
      await t.cleanup();
    }
  });
});
