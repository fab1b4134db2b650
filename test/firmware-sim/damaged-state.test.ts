// State files damaged or edited behind the device's back: a package record, boot/config, the
// revocation list, device.json; and directories that are not devices. The device reports what it
// cannot read, keeps running what runs, fails closed where security is at stake, never prints a
// raw parse error and never turns a foreign directory into a device.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PackageSummary } from '../../firmware-sim/api.js';
import { openDevice } from '../../firmware-sim/index.js';
import {
  exists,
  installFile,
  listing,
  makeTestDevice,
  rejectsWith,
  type TestDevice,
  tempFiles,
} from '../helpers/device-fixtures.js';

const session = { user: 'tester', id: 'damage' };

describe('a damaged package record', () => {
  let t: TestDevice;
  let hello: string;
  const record = () => join(t.dir, 'cfg/packages/hello/record.json');
  const row = async (name: string): Promise<PackageSummary> => {
    const found = (await t.device.list()).find((p) => p.name === name);
    assert.ok(found, `no row for ${name}`);
    return found;
  };
  before(async () => {
    t = await makeTestDevice();
    hello = join(t.dir, 'media/usb0/hello.wmopkg');
  });
  after(() => t.cleanup());

  test('is listed as Invalid with the reason; the running package stays in service at the next boot', async () => {
    await installFile(t.device, hello);
    await t.device.boot();
    await writeFile(record(), '{\n');
    const damaged = await row('hello');
    assert.equal(damaged.verification, 'Invalid');
    assert.equal(damaged.state, 'inactive');
    assert.equal(damaged.version, '1.2.0');
    assert.match(
      damaged.reason!,
      /^damaged record: cfg\/packages\/hello\/record\.json: .+; 1\.2\.0 stays active until hello is removed or installed again$/,
    );
    assert.ok(!damaged.reason!.includes(t.dir), 'paths are relative to the device');
    const details = await t.device.details('hello');
    assert.equal(details.verification, 'Invalid');
    assert.match(details.reason!, /^damaged record: /);
    assert.deepEqual(await t.device.files('hello'), ['etc/hello.conf', 'usr/bin/hello']);

    const report = await t.device.boot();
    assert.deepEqual(report.deactivated, []);
    assert.deepEqual(
      report.lines.map((l) => [l.name, l.version, l.verification, l.activated]),
      [['hello', '1.2.0', 'Invalid', false]],
    );
    assert.match(report.lines[0]!.reason, /^damaged record: .*1\.2\.0 stays active/);
    assert.ok(await exists(join(t.dir, 'rootfs/usr/bin/hello')), 'its files stay');
    assert.ok(
      (await t.device.eventLog()).some((l) => / boot: store: package hello: damaged record: /.test(l)),
    );
  });

  test('a new install replaces it', async () => {
    const result = await installFile(t.device, hello);
    assert.equal(result.verification, 'Signed');
    assert.match(
      (await t.device.eventLog()).at(-1)!,
      / install hello 1\.2\.0 .*; replaces a damaged record$/,
    );
    const report = await t.device.boot();
    assert.deepEqual(
      report.lines.map((l) => [l.name, l.verification, l.activated, l.reason]),
      [['hello', 'Signed', true, 'activated (reinstalled)']],
    );
    assert.equal((await row('hello')).state, 'active');
  });

  test('remove takes it out; the next boot deactivates what ran', async () => {
    await writeFile(record(), 'not json at all');
    await t.device.remove('hello');
    assert.deepEqual(await t.device.names(), []);
    assert.match((await t.device.eventLog()).at(-1)!, / remove hello \(damaged record\) \(takes effect/);
    const report = await t.device.boot();
    assert.deepEqual(report.deactivated, [{ name: 'hello', version: '1.2.0', reason: 'removed' }]);
    assert.equal(await exists(join(t.dir, 'rootfs/usr/bin/hello')), false);
  });

  test('one that never ran: listed, details say what to do, boot names it', async () => {
    await installFile(t.device, hello);
    await writeFile(record(), '{"format": 1}\n');
    const damaged = await row('hello');
    assert.equal(damaged.version, '?');
    assert.equal(damaged.verification, 'Invalid');
    assert.match(
      damaged.reason!,
      /^damaged record: cfg\/packages\/hello\/record\.json: .*; remove hello or install it again$/,
    );
    await rejectsWith(
      t.device.details('hello'),
      'DEVICE_CORRUPT_STATE',
      /^package hello: damaged record: cfg\/packages\/hello\/record\.json: "name" must be a string; remove hello or install it again$/,
    );
    const report = await t.device.boot();
    assert.equal(report.lines[0]!.activated, false);
    assert.equal(await exists(join(t.dir, 'rootfs/usr/bin/hello')), false);
    await rm(record());
    assert.match((await row('hello')).reason!, /record\.json is missing/);
    await t.device.remove('hello');
    assert.deepEqual(await t.device.list(), []);
  });

  test('a factory reset keeps it (its persistence is unknown) and says so', async () => {
    await installFile(t.device, hello);
    await writeFile(record(), '[]');
    await t.device.factoryReset();
    assert.deepEqual(await t.device.names(), ['hello']);
    assert.match(
      (await t.device.eventLog()).find((l) => l.includes('---- factory reset'))!,
      /1 with a damaged record kept \(hello; remove them by name\)/,
    );
    await t.device.remove('hello');
  });
});

describe('a damaged boot/config', () => {
  let t: TestDevice;
  const config = () => join(t.dir, 'boot/config');
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('reads work, the bad line is named, allow-untrusted counts as off', async () => {
    await writeFile(config(), 'allow-untrusted\nfrobnicate\n');
    const read = await t.device.bootConfig();
    assert.equal(read.allowUntrusted, false);
    assert.deepEqual(read.problems, ['boot/config line 2: unknown setting "frobnicate"; ignored']);
    assert.deepEqual(await t.device.list(), []);
    const netdiag = await installFile(t.device, join(t.dir, 'media/usb0/netdiag.wmopkg'));
    assert.equal(netdiag.willActivate, false);
    const report = await t.device.boot();
    assert.equal(report.lines[0]!.activated, false);
    assert.equal(report.lines[0]!.reason, 'unsigned, allow-untrusted is off');
    assert.ok(
      (await t.device.eventLog()).some((l) =>
        l.endsWith(
          ' boot: boot/config line 2: unknown setting "frobnicate"; ignored; allow-untrusted counts as off until the file is rewritten',
        ),
      ),
    );
  });

  test('a factory reset works', async () => {
    await writeFile(config(), 'allow-untrusted\nfrobnicate\n');
    const report = await t.device.factoryReset();
    assert.equal(report.lines.length, 0);
    assert.match(await readFile(config(), 'utf8'), /frobnicate/, 'the reset does not touch boot/config');
  });

  test('any boot command rewrites the file cleanly', async () => {
    await writeFile(config(), 'allow-untrusted\nfrobnicate\nmedia "unbalanced\nmedia field usb\n');
    assert.equal((await t.device.bootConfig()).problems?.length, 2);
    await t.device.setAllowUntrusted(false);
    const text = await readFile(config(), 'utf8');
    assert.doesNotMatch(text, /frobnicate|unbalanced/);
    assert.match(text, /^no allow-untrusted$/m);
    assert.match(text, /^media field usb$/m);
    const read = await t.device.bootConfig();
    assert.equal(read.problems, undefined);
    assert.deepEqual(read.media, [{ name: 'field', bus: 'usb' }]);
    assert.ok(
      (await t.device.eventLog()).some((l) =>
        l.endsWith(
          ' boot config: rewritten without an unreadable line: boot/config line 2: unknown setting "frobnicate"; ignored',
        ),
      ),
    );
    await writeFile(config(), 'garbage\n');
    await t.device.setMediaLabel({ name: 'external', bus: 'any' });
    assert.equal((await t.device.bootConfig()).problems, undefined);
    assert.deepEqual(await tempFiles(t.dir), []);
  });
});

describe('a damaged revocation list fails closed', () => {
  let t: TestDevice;
  const revoked = () => join(t.dir, 'etc/wmopkg/revoked');
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('a line that is no key number: a vendor-signed package is Untrusted, the line is named', async () => {
    await installFile(t.device, join(t.dir, 'media/usb0/hello.wmopkg'));
    assert.equal((await t.device.boot()).lines[0]!.activated, true);
    await writeFile(revoked(), '# revoked keys\ngarbage\n');
    const result = await installFile(t.device, join(t.dir, 'media/usb0/mgmt-agent.wmopkg'));
    assert.equal(result.verification, 'Untrusted');
    assert.equal(result.reason, 'revocation list unreadable: etc/wmopkg/revoked line 2');
    assert.equal(result.willActivate, false);
    const report = await t.device.boot();
    const key = result.keyNumber!;
    for (const line of report.lines) {
      assert.equal(line.verification, 'Untrusted', line.name);
      assert.equal(line.activated, false, line.name);
      assert.equal(
        line.reason,
        `key ${key} not trusted: revocation list unreadable: etc/wmopkg/revoked line 2, allow-untrusted is off`,
      );
    }
    assert.deepEqual(
      report.deactivated.map((d) => [d.name, d.reason]),
      [
        [
          'hello',
          `key ${key} not trusted: revocation list unreadable: etc/wmopkg/revoked line 2, allow-untrusted is off`,
        ],
      ],
    );
  });

  test('the obvious spellings are read: 0x, upper case, blanks, comments', async () => {
    const key = (await t.device.details('hello')).keyNumber!;
    await writeFile(revoked(), `  0x${key.toUpperCase()}   # the vendor key, revoked\n\n`);
    const report = await t.device.boot();
    assert.equal(report.lines[0]!.reason, `revoked key ${key}, allow-untrusted is off`);
    await writeFile(revoked(), `${key.slice(1)}\n`);
    assert.match(
      (await t.device.boot()).lines[0]!.reason,
      /revocation list unreadable: etc\/wmopkg\/revoked line 1, allow-untrusted is off$/,
      'a 15-digit number is not a key number',
    );
    await writeFile(revoked(), '');
    assert.ok((await t.device.boot()).lines.every((l) => l.activated));
  });
});

describe('what --device may name', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('a non-empty directory that is not a device is refused and left as it was', async () => {
    const dir = join(t.root, 'project');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine\n');
    await rejectsWith(
      openDevice(dir, { session }),
      'DEVICE_NOT_A_DEVICE',
      /project is not a device directory \(no device\.json\) and not empty$/,
    );
    assert.deepEqual(await listing(dir), ['notes.txt']);
    assert.equal(await exists(`${dir}.vendor`), false, 'no vendor key written beside it');
  });

  test('an empty name, a file: refused in one line', async () => {
    await rejectsWith(openDevice('', { session }), 'DEVICE_NOT_A_DEVICE', /directory name is empty/);
    const file = join(t.root, 'somefile');
    await writeFile(file, 'x');
    await rejectsWith(openDevice(file, { session }), 'DEVICE_NOT_A_DEVICE', /somefile is not a directory$/);
    assert.equal(await readFile(file, 'utf8'), 'x');
  });

  test('a device that lost device.json is not recreated with a new serial', async () => {
    await installFile(t.device, join(t.dir, 'media/usb0/hello.wmopkg'));
    const before = await listing(t.dir);
    const json = await readFile(join(t.dir, 'device.json'));
    await rm(join(t.dir, 'device.json'));
    await rejectsWith(
      openDevice(t.dir, { session, vendorDir: t.vendorDir }),
      'DEVICE_NOT_A_DEVICE',
      /device: device\.json is missing; restore it from a backup/,
    );
    assert.deepEqual(
      await listing(t.dir),
      before.filter((n) => n !== 'device.json'),
    );
    await writeFile(join(t.dir, 'device.json'), json);
    const again = await openDevice(t.dir, { session, vendorDir: t.vendorDir });
    assert.deepEqual(await again.names(), ['hello']);
  });

  test('a missing or an empty directory becomes a device; an interrupted creation is completed', async () => {
    const fresh = join(t.root, 'fresh', 'nested');
    await openDevice(fresh, { session, vendorDir: t.vendorDir });
    assert.ok(await exists(join(fresh, 'device.json')));
    const empty = join(t.root, 'empty');
    await mkdir(empty);
    await openDevice(empty, { session, vendorDir: t.vendorDir });
    assert.ok(await exists(join(empty, 'device.json')));
    assert.equal(await exists(join(empty, '.creating')), false);
    // A creation killed half-way: its mark is there, device.json is not.
    const half = join(t.root, 'half');
    await mkdir(join(half, 'etc/wmopkg'), { recursive: true });
    await writeFile(join(half, '.creating'), '');
    await openDevice(half, { session, vendorDir: t.vendorDir });
    assert.ok(await exists(join(half, 'device.json')));
    assert.equal(await exists(join(half, '.creating')), false);
  });
});

describe('temporary files in the kept feed indexes', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('those of a process that is gone go at the next start; those of a running one stay', async () => {
    const feed = join(t.device.paths.feedsDir, 'main');
    await mkdir(feed, { recursive: true });
    // A process that has ended: its pid names no process any more.
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const dead = `.tmp-Packages.abc-123.new.${gone}.0011aabb`;
    const live = `.tmp-Packages.def-456.new.${process.pid}.2233ccdd`;
    await writeFile(join(feed, dead), 'half written');
    await writeFile(join(feed, live), 'being written');
    await openDevice(t.dir, { session, vendorDir: t.vendorDir });
    assert.deepEqual(await readdir(feed), [live]);
  });
});
