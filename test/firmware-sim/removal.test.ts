// Removal packages and the backup on the real device: what goes, what the backup keeps, when it comes back.
import assert from 'node:assert/strict';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeviceError } from '../../firmware-sim/index.js';
import { installFile, makeTestDevice, type TestDevice } from '../helpers/device-fixtures.js';
import { buildFirmware, buildRemoval } from '../helpers/firmware-fixtures.js';
import { strangerKey } from '../helpers/package-fixtures.js';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

function code(error: unknown, expected: string): boolean {
  assert.ok(error instanceof DeviceError, String(error));
  assert.equal(error.code, expected, error.message);
  return true;
}

describe('removal packages', () => {
  let t: TestDevice;
  const usb = (name: string) => join(t.dir, 'media/usb0', name);
  before(async () => {
    t = await makeTestDevice();
    await installFile(t.device, usb('hello.wmopkg'));
    await installFile(t.device, usb('motd.wmopkg'));
    await installFile(t.device, usb('mgmt-agent.wmopkg'), { persistent: true });
    await t.device.boot();
  });
  after(() => t.cleanup());

  test('removes its target at the next boot; never listed as installed; logged as KerOS does', async () => {
    // A file hello did not ship, in a directory hello made: KerOS's rule leaves it alone.
    await writeFile(join(t.dir, 'rootfs/usr/bin/local-tool'), 'mine\n');
    const result = await installFile(t.device, usb('hello-remove.wmopkg'));
    assert.equal(result.kind, 'removal');
    assert.equal(result.verification, 'Signed');
    assert.deepEqual(result.removal, {
      target: 'hello',
      version: '1.2.0',
      fromBackup: false,
      keptInBackup: false,
    });
    assert.deepEqual(await t.device.names(), ['mgmt-agent', 'motd']);
    const hello = (await t.device.list()).find((p) => p.name === 'hello');
    assert.equal(hello?.state, 'removed');
    const log = await t.device.eventLog();
    assert.ok(
      log.some((l) => / Remove package from hello-remove\.wmopkg: OK$/.test(l)),
      log.join('\n'),
    );
    const report = await t.device.boot();
    assert.deepEqual(report.deactivated, [{ name: 'hello', version: '1.2.0', reason: 'removed' }]);
    assert.ok(!report.lines.some((l) => l.name.startsWith('hello')));
    assert.ok(!(await exists(join(t.dir, 'rootfs/usr/bin/hello'))));
    assert.equal(await readFile(join(t.dir, 'rootfs/usr/bin/local-tool'), 'utf8'), 'mine\n');
  });

  test('files the removed package had overwritten are restored', async () => {
    const path = await buildRemoval(t.root, 'motd', false, t.vendorKey);
    await installFile(t.device, path);
    await t.device.boot();
    assert.match(
      await readFile(join(t.dir, 'rootfs/etc/motd'), 'utf8'),
      /^Welcome to example\. Firmware 5\.26\.0\.$/m,
    );
  });

  test('a persistent package without --backup: out of the system, kept in the backup, back after a factory reset', async () => {
    const path = await buildRemoval(t.root, 'mgmt-agent', false, t.vendorKey);
    const result = await installFile(t.device, path);
    assert.deepEqual(result.removal, {
      target: 'mgmt-agent',
      version: '2.4.1',
      fromBackup: false,
      keptInBackup: true,
    });
    assert.deepEqual(await t.device.names(), []);
    assert.deepEqual(await t.device.backup(), [
      {
        name: 'mgmt-agent',
        version: '2.4.1',
        description: 'Management agent for central provisioning',
        state: 'held',
        removedBy: 'mgmt-agent-remove.wmopkg',
        firmware: '5.26.0',
      },
    ]);
    let report = await t.device.boot();
    assert.deepEqual(
      report.deactivated.map((d) => d.name),
      ['mgmt-agent'],
    );
    // Another boot on the same firmware does not bring it back.
    report = await t.device.boot();
    assert.deepEqual(report.firmware?.restored, []);
    report = await t.device.factoryReset();
    assert.deepEqual(
      report.lines.map((l) => [l.name, l.activated]),
      [['mgmt-agent', true]],
    );
    assert.equal((await t.device.backup())[0]?.state, 'installed');
    const log = await t.device.eventLog();
    assert.ok(
      log.some((l) => /1 restored from the backup \(mgmt-agent\)/.test(l)),
      log.join('\n'),
    );
  });

  test('with --backup: out of the backup too; logged "with backup"', async () => {
    const result = await installFile(t.device, usb('mgmt-agent-remove-backup.wmopkg'));
    assert.deepEqual(result.removal, {
      target: 'mgmt-agent',
      version: '2.4.1',
      fromBackup: true,
      keptInBackup: false,
    });
    assert.deepEqual(await t.device.backup(), []);
    const log = await t.device.eventLog();
    assert.ok(
      log.some((l) => / Remove package with backup from mgmt-agent-remove-backup\.wmopkg: OK$/.test(l)),
    );
    await t.device.factoryReset();
    assert.deepEqual(await t.device.names(), []);
  });

  test('nothing to remove, or not trusted to remove: refused, nothing changed', async () => {
    await assert.rejects(
      installFile(t.device, usb('hello-remove.wmopkg')),
      (e) =>
        code(e, 'DEVICE_NOT_INSTALLED') &&
        /package hello is not installed; nothing was removed$/.test((e as Error).message),
    );
    await installFile(t.device, usb('hello.wmopkg'));
    const stranger = await buildRemoval(join(t.root), 'hello', false, strangerKey());
    await assert.rejects(
      installFile(t.device, stranger),
      (e) =>
        code(e, 'DEVICE_UNTRUSTED') &&
        /untrusted key [0-9a-f]{16}, allow-untrusted is off; nothing was removed$/.test((e as Error).message),
    );
    await mkdir(join(t.root, 'unsigned'), { recursive: true });
    const unsigned = await buildRemoval(join(t.root, 'unsigned'), 'hello', false, undefined);
    await assert.rejects(installFile(t.device, unsigned), (e) => code(e, 'DEVICE_UNTRUSTED'));
    assert.deepEqual(await t.device.names(), ['hello']);
    // allow-untrusted lets an unsigned one act, as it lets an unsigned package run.
    await t.device.setAllowUntrusted(true);
    assert.equal((await installFile(t.device, unsigned)).verification, 'Unsigned');
    assert.deepEqual(await t.device.names(), []);
    await t.device.setAllowUntrusted(false);
  });

  test('remove takes a held package out of the backup; a removal package without --backup cannot', async () => {
    await installFile(t.device, usb('mgmt-agent.wmopkg'), { persistent: true });
    await installFile(t.device, await buildRemoval(t.root, 'mgmt-agent', false, t.vendorKey));
    await assert.rejects(
      installFile(t.device, await buildRemoval(t.root, 'mgmt-agent', false, t.vendorKey)),
      (e) =>
        code(e, 'DEVICE_NOT_INSTALLED') &&
        /only in the backup; a removal package made with --backup/.test((e as Error).message),
    );
    await t.device.remove('mgmt-agent');
    assert.deepEqual(await t.device.backup(), []);
    await assert.rejects(t.device.remove('mgmt-agent'), (e) => code(e, 'DEVICE_NOT_INSTALLED'));
  });
});

describe('the backup after a firmware upgrade', () => {
  test('a package held in the backup comes back, and runs on the new firmware', async () => {
    const t = await makeTestDevice();
    try {
      await installFile(t.device, join(t.dir, 'media/usb0/mgmt-agent.wmopkg'), { persistent: true });
      await t.device.boot();
      await installFile(t.device, await buildRemoval(t.root, 'mgmt-agent', false, t.vendorKey));
      assert.deepEqual(
        (await t.device.boot()).deactivated.map((d) => d.name),
        ['mgmt-agent'],
      );
      await installFile(t.device, await buildFirmware(t.root, '5.27.0', { sign: t.vendorKey }));
      const report = await t.device.boot();
      assert.deepEqual(report.firmware?.restored, [{ name: 'mgmt-agent', version: '2.4.1' }]);
      assert.equal(report.lines.find((l) => l.name === 'mgmt-agent')?.activated, true);
      assert.ok(await exists(join(t.dir, 'rootfs/usr/sbin/mgmt-agent')));
      assert.deepEqual(
        (await t.device.backup()).map((e) => [e.name, e.state]),
        [['mgmt-agent', 'installed']],
      );
      const log = await t.device.eventLog();
      assert.ok(
        log.some((l) => / restored mgmt-agent 2\.4\.1 from the backup: firmware is now 5\.27\.0$/.test(l)),
      );
    } finally {
      await t.cleanup();
    }
  });
});
