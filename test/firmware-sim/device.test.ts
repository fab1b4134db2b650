// The device as the shell uses it: creation, store operations, event log, boot configuration, factory reset.
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  formatSignature,
  loadTrustStore,
  readPackageFile,
  signMessage,
  verifyPackage,
} from '../../firmware-sim/format/index.js';
import { type DeviceErrorCode, makeUnlockToken, openDevice, SAMPLES } from '../../firmware-sim/index.js';
import { logTime } from '../../firmware-sim/state/event-log.js';
import {
  editDeviceJson,
  exists,
  installFile,
  listing,
  makeTestDevice,
  rejectsWith,
  snapshot,
  type TestDevice,
  tempFiles,
} from '../helpers/device-fixtures.js';
import { buildPackage, file, readArMembers, strangerKey } from '../helpers/package-fixtures.js';

describe('a new device', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('has the layout of SPEC §4.1', async () => {
    for (const path of [
      'device.json',
      'boot/config',
      'etc/wmopkg/keys/vendor.pub',
      'etc/wmopkg/revoked',
      'etc/ssh/known_hosts',
      'etc/ssl/certs',
      'cfg/packages',
      'rootfs/etc/motd',
      'var/log/packages.log',
      'media/usb0/hello.wmopkg',
    ]) {
      assert.ok(await exists(join(t.dir, path)), path);
    }
    const json = JSON.parse(await readFile(join(t.dir, 'device.json'), 'utf8'));
    assert.equal(json.hostname, 'example');
    assert.match(json.serial, /^WM[0-9A-F]{10}$/);
    assert.deepEqual(json.defaultPorts, { ftp: 21, tftp: 69, scp: 22, sftp: 22, http: 80, https: 443 });
    const info = await t.device.info();
    assert.equal(info.hostname, 'example');
    assert.equal(info.secureBoot, false);
    assert.ok(!Number.isNaN(Date.parse(info.bootedAt)));
    assert.deepEqual((await t.device.bootConfig()).media, [{ name: 'external', bus: 'any' }]);
  });

  test('keeps the vendor secret key outside the state directory', async () => {
    assert.deepEqual(await listing(t.vendorDir), ['vendor.pub', 'vendor.sec']);
    assert.equal((await stat(join(t.vendorDir, 'vendor.sec'))).mode & 0o777, 0o600);
    const inside = await readFile(join(t.dir, 'etc/wmopkg/keys/vendor.pub'), 'utf8');
    assert.equal(inside, await readFile(join(t.vendorDir, 'vendor.pub'), 'utf8'));
  });

  test('has sample packages on the USB stick with the statuses they are meant to show', async () => {
    assert.deepEqual(await listing(join(t.dir, 'media/usb0')), Object.keys(SAMPLES).sort());
    const trust = await loadTrustStore(join(t.dir, 'etc/wmopkg/keys'), join(t.dir, 'etc/wmopkg/revoked'));
    const status = async (name: string) =>
      verifyPackage(await readPackageFile(join(t.dir, 'media/usb0', name)), trust).status;
    assert.equal(await status('hello.wmopkg'), 'Signed');
    assert.equal(await status('mgmt-agent.wmopkg'), 'Signed');
    assert.equal(await status('motd.wmopkg'), 'Signed');
    assert.equal(await status('netdiag.wmopkg'), 'Unsigned');
    assert.equal(await status('thirdparty.wmopkg'), 'Untrusted');
    const control = (await readPackageFile(join(t.dir, 'media/usb0/hello.wmopkg'))).control;
    assert.match(control.get('Depends')!, /^firmware \(>= /);
    assert.ok(control.get('Maintainer'));
  });

  test('out of the box: install hello from the media, reboot, show', async () => {
    const result = await installFile(t.device, join(t.dir, 'media/usb0/hello.wmopkg'));
    assert.deepEqual(
      {
        name: result.name,
        version: result.version,
        verification: result.verification,
        willActivate: result.willActivate,
      },
      { name: 'hello', version: '1.2.0', verification: 'Signed', willActivate: true },
    );
    assert.equal((await t.device.list())[0]!.state, 'pending');
    // The data archive is inflated first by the activation: until then its entries are not counted.
    assert.equal((await t.device.details('hello')).fileCount, undefined);
    const report = await t.device.boot();
    assert.deepEqual(report.lines, [
      { name: 'hello', version: '1.2.0', verification: 'Signed', activated: true, reason: 'activated' },
    ]);
    assert.deepEqual(await t.device.list(), [
      {
        name: 'hello',
        version: '1.2.0',
        persistent: false,
        description: 'Greets the operator',
        verification: 'Signed',
        state: 'active',
      },
    ]);
    const details = await t.device.details('hello');
    // Two files; the three directories (etc, usr, usr/bin) are not files.
    assert.equal(details.fileCount, 2);
    assert.deepEqual(details.origin, { kind: 'media', label: 'external', path: 'hello.wmopkg' });
    assert.match(details.keyNumber!, /^[0-9a-f]{16}$/);
    assert.ok(details.fields.some(([k, v]) => k === 'Maintainer' && v.includes('@')));
    assert.deepEqual(await t.device.files('hello'), [
      'etc',
      'etc/hello.conf',
      'usr',
      'usr/bin',
      'usr/bin/hello',
    ]);
  });

  test('opening it again keeps what it is', async () => {
    const serial = (await t.device.info()).serial;
    const again = await openDevice(t.dir, { session: { user: 'other', id: '2' }, vendorDir: t.vendorDir });
    assert.equal((await again.info()).serial, serial);
    assert.deepEqual(await again.names(), ['hello']);
  });
});

describe('the package store', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('installs from a stream of any chunking and logs one line without secrets', async () => {
    const bytes = await readFile(join(t.dir, 'media/usb0/hello.wmopkg'));
    const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) =>
      bytes.subarray(i * 7, i * 7 + 7),
    );
    const result = await t.device.install({
      name: 'pkgname',
      persistent: true,
      origin: { kind: 'remote', proto: 'ftp', host: '192.0.2.1', port: 21, path: 'pkgname.wmopkg' },
      stream: Readable.from(chunks),
      confirmDowngrade: async () => false,
    });
    assert.equal(result.name, 'pkgname');
    const log = await t.device.eventLog();
    assert.match(
      log.at(-1)!,
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d install pkgname 1\.2\.0 \(ftp 192\.0\.2\.1\) persistent Signed: OK$/,
    );
    await t.device.install({
      name: 'v6',
      persistent: false,
      origin: { kind: 'remote', proto: 'sftp', host: '2001:db8::1', port: 2222, path: 'x/v6.wmopkg' },
      stream: Readable.from([bytes]),
      confirmDowngrade: async () => false,
    });
    assert.match(
      (await t.device.eventLog()).at(-1)!,
      / install v6 1\.2\.0 \(sftp \[2001:db8::1\]:2222\) Signed: OK$/,
    );
    assert.deepEqual(await t.device.names(), ['pkgname', 'v6']);
    const raw = await readFile(join(t.dir, 'var/log/packages.log'), 'utf8');
    assert.ok(!/password/i.test(raw));
  });

  test('an unsigned package is installed with a warning and will not be activated', async () => {
    const result = await installFile(t.device, join(t.dir, 'media/usb0/netdiag.wmopkg'));
    assert.equal(result.verification, 'Unsigned');
    assert.equal(result.willActivate, false);
    assert.match(result.reason!, /no signature/);
    assert.match(
      (await t.device.eventLog()).at(-1)!,
      / install netdiag 0\.9\.1-1 \(media external\) Unsigned: warning: .*will not be activated$/,
    );
  });

  test('replacing a name is an upgrade that reports the previous version', async () => {
    const path = await buildPackage(t.root, { name: 'pkgname', version: '1.3.0', sign: t.vendorKey });
    const result = await installFile(t.device, path, { name: 'pkgname' });
    assert.equal(result.previousVersion, '1.2.0');
    // Installed persistent above: an upgrade without the word keeps it (only remove clears it).
    assert.equal(result.persistent, true);
    assert.match(
      (await t.device.eventLog()).at(-1)!,
      / upgrade pkgname 1\.2\.0 -> 1\.3\.0 \(media external\) persistent \(kept\) Signed: OK$/,
    );
    // The record and the one package file it names: the previous file is gone.
    const held = await listing(join(t.dir, 'cfg/packages/pkgname'));
    assert.equal(held.length, 2, held.join(' '));
    assert.ok(held.includes('record.json'));
  });

  test('bad package names are refused before anything is read', async () => {
    for (const name of ['../x', 'a b', 'x\u0007y', 'x'.repeat(300), '', '.hidden', 'a/b']) {
      await rejectsWith(
        t.device.install({
          name,
          persistent: false,
          origin: { kind: 'media', label: 'external', path: 'x' },
          stream: Readable.from([]),
          confirmDowngrade: async () => false,
        }),
        'DEVICE_BAD_NAME',
      );
    }
    await rejectsWith(t.device.remove('../etc'), 'DEVICE_BAD_NAME');
  });

  test('structurally broken packages: one line, nothing left', async () => {
    const good = await readFile(join(t.dir, 'media/usb0/hello.wmopkg'));
    const members = await readArMembers(join(t.dir, 'media/usb0/hello.wmopkg'));
    const cases: Array<[string, Buffer, DeviceErrorCode]> = [
      ['not a package', Buffer.from('hello world, this is text\n'), 'DEVICE_BAD_PACKAGE'],
      ['empty', Buffer.alloc(0), 'DEVICE_BAD_PACKAGE'],
      ['truncated in data', good.subarray(0, good.length - 400), 'DEVICE_BAD_PACKAGE'],
      ['trailing garbage', Buffer.concat([good, Buffer.from('garbage')]), 'DEVICE_BAD_PACKAGE'],
      [
        'only the header of debian-binary',
        good.subarray(0, 68 + members[0]!.data.length),
        'DEVICE_BAD_PACKAGE',
      ],
    ];
    for (const [title, bytes, code] of cases) {
      await rejectsWith(
        t.device.install({
          name: 'broken',
          persistent: false,
          origin: { kind: 'media', label: 'external', path: title },
          stream: Readable.from([bytes]),
          confirmDowngrade: async () => false,
        }),
        code,
        /^package broken refused: /,
      );
    }
    assert.ok(!(await t.device.names()).includes('broken'));
    assert.deepEqual(await tempFiles(t.dir), []);
    assert.match(
      (await t.device.eventLog()).at(-1)!,
      / install broken refused \(media external\): package broken refused: /,
    );
  });

  test('a package larger than the maximum is cut off', async () => {
    await editDeviceJson(t.dir, (json) => {
      json.maxPackageBytes = 1000;
    });
    await rejectsWith(installFile(t.device, join(t.dir, 'media/usb0/mgmt-agent.wmopkg')), 'DEVICE_TOO_LARGE');
    await editDeviceJson(t.dir, (json) => {
      delete json.maxPackageBytes;
    });
    assert.deepEqual(await tempFiles(t.dir), []);
  });

  test('an aborted transfer leaves nothing behind', async () => {
    const stream = new PassThrough();
    const controller = new AbortController();
    const bytes = await readFile(join(t.dir, 'media/usb0/hello.wmopkg'));
    stream.write(bytes.subarray(0, 500));
    const install = t.device.install({
      name: 'aborted',
      persistent: false,
      origin: { kind: 'media', label: 'external', path: 'x' },
      stream,
      signal: controller.signal,
      confirmDowngrade: async () => false,
    });
    setImmediate(() => controller.abort());
    await rejectsWith(install, 'DEVICE_ABORTED', /cancelled; nothing was installed/);
    assert.deepEqual(await tempFiles(t.dir), []);
    assert.ok(!(await t.device.names()).includes('aborted'));
  });

  test('a full disk while receiving: a clear error, the store unchanged', async () => {
    const before = await t.device.names();
    process.env.EDGESH_DEVICE_FAULT = 'enospc:install:receive';
    try {
      await rejectsWith(
        installFile(t.device, join(t.dir, 'media/usb0/motd.wmopkg')),
        'DEVICE_NO_SPACE',
        /no space left/,
      );
    } finally {
      delete process.env.EDGESH_DEVICE_FAULT;
    }
    assert.deepEqual(await t.device.names(), before);
    assert.deepEqual(await tempFiles(t.dir), []);
  });

  test('a full disk while unpacking at boot: that package waits, the others are activated', async () => {
    await installFile(t.device, join(t.dir, 'media/usb0/motd.wmopkg'));
    const before = await snapshot(join(t.dir, 'rootfs'));
    process.env.EDGESH_DEVICE_FAULT = 'enospc:unpack:entry';
    let report: Awaited<ReturnType<typeof t.device.boot>>;
    try {
      report = await t.device.boot();
    } finally {
      delete process.env.EDGESH_DEVICE_FAULT;
    }
    const failed = report.lines.filter((l) => !l.activated && l.verification === 'Signed');
    assert.equal(failed.length, 1);
    assert.match(failed[0]!.reason, /^could not unpack: no space left on the device storage$/);
    assert.ok(report.lines.filter((l) => l.activated).length >= 1);
    const after = await snapshot(join(t.dir, 'rootfs'));
    for (const [path, value] of before) assert.equal(after.get(path), value, path);
    assert.deepEqual(await listing(join(t.dir, 'var/lib/wmopkg')), ['active', 'backup', 'boot.json']);
    await t.device.remove('motd');
  });

  test('remove one, remove all: still active until the next boot', async () => {
    await t.device.boot();
    await t.device.remove('pkgname');
    const removed = (await t.device.list()).find((p) => p.name === 'pkgname')!;
    assert.equal(removed.state, 'removed');
    assert.equal((await t.device.details('pkgname')).state, 'removed');
    await rejectsWith(t.device.remove('pkgname'), 'DEVICE_NOT_INSTALLED', /package pkgname is not installed/);
    assert.equal(await t.device.removeAll(), 2);
    assert.deepEqual(await t.device.names(), []);
    assert.deepEqual(
      (await t.device.list()).map((p) => [p.name, p.state]),
      [
        ['pkgname', 'removed'],
        ['v6', 'removed'],
      ],
    );
    const report = await t.device.boot();
    assert.deepEqual(report.deactivated.map((d) => d.name).sort(), ['pkgname', 'v6']);
    assert.deepEqual(await t.device.list(), []);
    assert.equal(await t.device.removeAll(), 0);
  });

  test('a torn last line of the event log is cut at the next start', async () => {
    const path = join(t.dir, 'var/log/packages.log');
    const text = await readFile(path, 'utf8');
    await writeFile(path, `${text}2026-11-21 10:00:00 half a li`);
    // A lock left by a holder that died: the next start recovers.
    const dead = {
      user: 'gone',
      session: '9',
      pid: 2 ** 30,
      since: new Date().toISOString(),
      host: hostname(),
      nonce: 'x',
    };
    await writeFile(join(t.dir, 'var/lock/device.lock'), JSON.stringify(dead));
    await openDevice(t.dir, { session: { user: 'x', id: '3' }, vendorDir: t.vendorDir });
    assert.ok((await readFile(path, 'utf8')).startsWith(text));
    assert.ok(!(await readFile(path, 'utf8')).includes('half a li'));
  });
});

describe('boot configuration and secure boot', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice({
      edit: (json) => {
        json.secureBoot = true;
      },
    });
  });
  after(() => t.cleanup());

  test('media labels are set, replaced and removed', async () => {
    await t.device.setMediaLabel({ name: 'my-usb', bus: 'usb', fsLabel: 'FIELD KIT', partition: 2 });
    await t.device.setMediaLabel({ name: 'card', bus: 'sd' });
    await t.device.setMediaLabel({ name: 'my-usb', bus: 'usb', uuid: '1234-ABCD' });
    // The rule of common/media-label.ts: dots in names, any printable fs-label, quotes and backslashes too.
    await t.device.setMediaLabel({ name: 'fw.2', bus: 'any', fsLabel: 'say "hi" \\ bye' });
    assert.deepEqual((await t.device.bootConfig()).media, [
      { name: 'external', bus: 'any' },
      { name: 'my-usb', bus: 'usb', uuid: '1234-ABCD' },
      { name: 'card', bus: 'sd' },
      { name: 'fw.2', bus: 'any', fsLabel: 'say "hi" \\ bye' },
    ]);
    await t.device.removeMediaLabel('card');
    await t.device.removeMediaLabel('fw.2');
    await rejectsWith(t.device.removeMediaLabel('card'), 'DEVICE_UNKNOWN_LABEL');
    await rejectsWith(t.device.setMediaLabel({ name: 'bad label', bus: 'usb' }), 'DEVICE_BAD_LABEL');
    await rejectsWith(t.device.setMediaLabel({ name: 'sd', bus: 'sd' }), 'DEVICE_BAD_LABEL');
    await rejectsWith(t.device.setMediaLabel({ name: 'x', bus: 'usb', partition: 0 }), 'DEVICE_BAD_LABEL');
    assert.match(await readFile(join(t.dir, 'boot/config'), 'utf8'), /^media my-usb usb uuid 1234-ABCD$/m);
  });

  test('allow-untrusted is refused without an unlock token', async () => {
    await rejectsWith(
      t.device.setAllowUntrusted(true),
      'DEVICE_SECURE_BOOT',
      /install an unlock token for serial WM/,
    );
    assert.equal((await t.device.bootConfig()).allowUntrusted, false);
  });

  test('tokens for another serial, by another key, or altered are refused', async () => {
    const { serial } = await t.device.info();
    await rejectsWith(
      t.device.installUnlockToken(Readable.from([makeUnlockToken(t.vendorKey, 'WM0000000000')])),
      'DEVICE_BAD_TOKEN',
      /issued for serial WM0000000000, this device is WM/,
    );
    await rejectsWith(
      t.device.installUnlockToken(Readable.from([makeUnlockToken(strangerKey(), serial)])),
      'DEVICE_BAD_TOKEN',
      /not the vendor key/,
    );
    const altered = Buffer.from(
      makeUnlockToken(t.vendorKey, serial).toString().replaceAll(serial, 'WM1111111111'),
    );
    await rejectsWith(
      t.device.installUnlockToken(Readable.from([altered])),
      'DEVICE_BAD_TOKEN',
      /does not verify/,
    );
    await rejectsWith(t.device.installUnlockToken(Readable.from([Buffer.alloc(10_000)])), 'DEVICE_BAD_TOKEN');
  });

  test('a token whose signed text repeats a field or has an unknown one is refused', async () => {
    const { serial } = await t.device.info();
    const token = (text: string) =>
      Readable.from([
        Buffer.concat([
          Buffer.from(formatSignature(signMessage(Buffer.from(text), t.vendorKey, 'wmopkg unlock token'))),
          Buffer.from(text),
        ]),
      ]);
    // Signed by the vendor key and naming this serial last: before, the last line won.
    await rejectsWith(
      t.device.installUnlockToken(token(`wmopkg-unlock: 1\nserial: WM0000000000\nserial: ${serial}\n`)),
      'DEVICE_BAD_TOKEN',
      /^unlock token refused: field "serial" appears more than once$/,
    );
    await rejectsWith(
      t.device.installUnlockToken(token(`wmopkg-unlock: 1\nwmopkg-unlock: 1\nserial: ${serial}\n`)),
      'DEVICE_BAD_TOKEN',
      /field "wmopkg-unlock" appears more than once/,
    );
    await rejectsWith(
      t.device.installUnlockToken(token(`wmopkg-unlock: 1\nserial: ${serial}\nexpires: 2020-01-01\n`)),
      'DEVICE_BAD_TOKEN',
      /^unlock token refused: unknown field "expires"$/,
    );
    await rejectsWith(
      t.device.installUnlockToken(token(`wmopkg-unlock: 1\n\nserial: ${serial}\n`)),
      'DEVICE_BAD_TOKEN',
      /malformed token text \(line 2 is not "field: value"\)/,
    );
    assert.equal((await t.device.bootConfig()).unlock, undefined);
    // The same text without the repetition is a good token.
    const good = await t.device.installUnlockToken(token(`wmopkg-unlock: 1\nserial: ${serial}\n`));
    assert.equal(good.serial, serial);
  });

  test('with the token from the USB stick, allow-untrusted works', async () => {
    const token = await readFile(join(t.dir, 'media/usb0/token.lic'));
    const { serial } = await t.device.info();
    const installed = await t.device.installUnlockToken(Readable.from([token]));
    assert.equal(installed.serial, serial);
    assert.deepEqual((await t.device.bootConfig()).unlock, installed);
    await t.device.setAllowUntrusted(true);
    await installFile(t.device, join(t.dir, 'media/usb0/netdiag.wmopkg'));
    assert.equal((await t.device.boot()).lines[0]!.activated, true);
  });

  test('a hand-edited configuration does not get past the anchor', async () => {
    const config = await readFile(join(t.dir, 'boot/config'), 'utf8');
    await writeFile(join(t.dir, 'boot/config'), config.replace(/^unlock-token .*\n/m, ''));
    const line = (await t.device.boot()).lines[0]!;
    assert.equal(line.activated, false);
    assert.equal(line.reason, 'unsigned, allow-untrusted needs an unlock token (secure boot)');
  });

  test('a boot configuration line that does not parse is named and ignored; allow-untrusted counts as off', async () => {
    await writeFile(join(t.dir, 'boot/config'), 'allow-untrusted\nmedia external floppy\n');
    const config = await t.device.bootConfig();
    assert.equal(config.allowUntrusted, false);
    assert.deepEqual(config.media, []);
    assert.deepEqual(config.problems, [
      'boot/config line 2: media label "external": bus must be usb, sd or any, not "floppy"; ignored',
    ]);
  });
});

describe('factory reset', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('keeps exactly the persistent packages, the firmware and the boot configuration', async () => {
    await installFile(t.device, join(t.dir, 'media/usb0/mgmt-agent.wmopkg'), { persistent: true });
    await installFile(t.device, join(t.dir, 'media/usb0/hello.wmopkg'));
    await installFile(t.device, join(t.dir, 'media/usb0/motd.wmopkg'));
    await installFile(
      t.device,
      await buildPackage(t.root, { name: 'keeper', data: [file('./opt/keeper', 'k')], sign: t.vendorKey }),
      { persistent: true },
    );
    await t.device.setMediaLabel({ name: 'field', bus: 'usb' });
    await writeFile(join(t.dir, 'etc/wmopkg/revoked'), '0123456789abcdef\n');
    await writeFile(join(t.dir, 'etc/ssh/known_hosts'), '192.0.2.1 ssh-ed25519 AAAA\n');
    await writeFile(join(t.dir, 'var/lib/edgesh/history'), 'package show\n');
    await t.device.boot();
    const firmware = await Promise.all(
      ['device.json', 'etc/wmopkg/keys/vendor.pub', 'etc/wmopkg/revoked', 'boot/config'].map((p) =>
        readFile(join(t.dir, p)),
      ),
    );
    const report = await t.device.factoryReset();
    assert.deepEqual(await t.device.names(), ['keeper', 'mgmt-agent']);
    assert.deepEqual(report.deactivated.map((d) => d.name).sort(), ['hello', 'motd']);
    assert.deepEqual(
      report.lines.map((l) => [l.name, l.activated]),
      [
        ['keeper', true],
        ['mgmt-agent', true],
      ],
    );
    assert.deepEqual(
      await Promise.all(
        ['device.json', 'etc/wmopkg/keys/vendor.pub', 'etc/wmopkg/revoked', 'boot/config'].map((p) =>
          readFile(join(t.dir, p)),
        ),
      ),
      firmware,
    );
    assert.equal(await readFile(join(t.dir, 'etc/ssh/known_hosts'), 'utf8'), '');
    assert.deepEqual(await listing(join(t.dir, 'var/lib/edgesh')), []);
    assert.equal(await exists(join(t.dir, 'rootfs/usr/bin/hello')), false);
    assert.match(await readFile(join(t.dir, 'rootfs/etc/motd'), 'utf8'), /^Welcome to example/);
    const log = await t.device.eventLog();
    assert.ok(
      log.some((l) => l.includes('install hello 1.2.0')),
      'the log is kept',
    );
    assert.ok(
      log.some((l) => / ---- factory reset: 2 packages removed \(hello, motd\), 2 persistent kept/.test(l)),
    );
  });

  test('persistence survives a reinstall and an upgrade without the word; only remove clears it', async () => {
    const agent = join(t.dir, 'media/usb0/mgmt-agent.wmopkg');
    assert.equal((await installFile(t.device, agent)).persistent, true, 'kept from the install above');
    const newer = await buildPackage(t.root, { name: 'mgmt-agent', version: '9.0', sign: t.vendorKey });
    const upgrade = await installFile(t.device, newer);
    assert.equal(upgrade.previousVersion, '2.4.1');
    assert.equal(upgrade.persistent, true);
    assert.match(
      (await t.device.eventLog()).at(-1)!,
      / upgrade mgmt-agent \S+ -> 9\.0 \(media external\) persistent \(kept\) Signed: OK$/,
    );
    assert.equal((await t.device.details('mgmt-agent')).persistent, true);
    await t.device.factoryReset();
    assert.ok((await t.device.names()).includes('mgmt-agent'), 'a factory reset keeps it');
    await t.device.remove('mgmt-agent');
    const again = await installFile(t.device, agent);
    assert.equal(again.persistent, false, 'remove cleared it');
  });
});

describe('the words of a boot', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('the log shows the time of the report, one package in the singular, its files without directories', async () => {
    // A boot that lasts more than a second: its log lines still carry the time its report shows.
    const slow = await buildPackage(t.root, {
      name: 'slow',
      data: [file('./opt/slow/a', 'a'), file('./opt/slow/sub/b', 'b')],
      scripts: { postinst: '#!/bin/sh\nsleep 1.2\n' },
      sign: t.vendorKey,
    });
    await installFile(t.device, slow);
    const report = await t.device.boot();
    assert.equal(report.lines[0]!.reason, 'activated');
    const lines = (await t.device.eventLog()).filter((l) => / boot[: ]/.test(l));
    assert.ok(lines.length >= 3, lines.join('\n'));
    const time = logTime(new Date(report.at));
    for (const l of lines) assert.ok(l.startsWith(`${time} `), `${l} (report at ${time})`);
    assert.ok(
      lines.some((l) => / boot: firmware \S+, 1 package installed$/.test(l)),
      lines.join('\n'),
    );
    // ./opt/slow/a, ./opt/slow/sub/b: two files in three directories.
    assert.equal((await t.device.details('slow')).fileCount, 2);
  });

  test('remove all of one package says package', async () => {
    assert.equal(await t.device.removeAll(), 1);
    assert.match((await t.device.eventLog()).at(-1)!, / remove all: 1 package \(slow\) /);
  });
});
