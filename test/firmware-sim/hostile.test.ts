// Hostile data archives (SPEC §4.4, §9): stored by the install (which does not inflate the data archive),
// refused by the boot that would unpack them, and by the check behind the file listing.
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DataEntry } from '../../firmware-sim/format/index.js';
import { DeviceError } from '../../firmware-sim/index.js';
import {
  editDeviceJson,
  installFile,
  listing,
  makeTestDevice,
  oneLine,
  snapshot,
  type TestDevice,
  tempFiles,
} from '../helpers/device-fixtures.js';
import {
  buildPackage,
  buildPackageWithData,
  dir,
  file,
  repeatedEntryTarGz,
} from '../helpers/package-fixtures.js';

/** Everything outside rootfs that a hostile archive might aim at. */
async function outsideView(t: TestDevice) {
  return {
    root: await listing(t.root),
    device: await listing(t.dir),
    outside: await snapshot(join(t.root, 'outside')),
    etc: await listing(join(t.dir, 'etc')),
    rootfs: await snapshot(join(t.dir, 'rootfs')),
  };
}

interface HostileCase {
  readonly title: string;
  readonly data: () => DataEntry[] | Promise<Buffer>;
  /** Limits of device.json for this case. */
  readonly limits?: Record<string, number>;
  readonly error: RegExp;
  /** Prepares rootfs before the boot (a symlink already present). */
  readonly setup?: (t: TestDevice) => Promise<void>;
  /** The archive alone is harmless (the danger is in rootfs): only the boot refuses. */
  readonly archiveAccepted?: boolean;
}

const zeros = Buffer.alloc(1024 * 1024);

const cases: HostileCase[] = [
  {
    title: '"../" climbing out of the root',
    data: () => [dir('./opt/'), file('./opt/../../escaped', 'x')],
    error: /data\.tar\.gz: \.\/opt\/\.\.\/\.\.\/escaped: "\.\." leads outside the root/,
  },
  {
    title: '".." deep inside a longer path',
    data: () => [file('./a/b/../../../../outside/planted', 'x')],
    error: /"\.\." leads outside the root/,
  },
  {
    title: 'a symlink, then a file written through it',
    data: () => [
      dir('./opt/'),
      { name: './opt/evil', type: 'symlink', linkname: '../../outside' },
      file('./opt/evil/planted', 'x'),
    ],
    error: /opt\/evil\/planted: would be written through the symlink "opt\/evil"/,
  },
  {
    title: 'a symlink already present in rootfs, then a file through it',
    setup: async (t) => {
      await mkdir(join(t.dir, 'rootfs/opt'), { recursive: true });
      await symlink(join(t.root, 'outside'), join(t.dir, 'rootfs/opt/link'));
    },
    data: () => [dir('./opt/'), dir('./opt/link/'), file('./opt/link/planted', 'x')],
    error: /\/opt\/link is a symlink in rootfs: nothing is written through a symlink/,
    archiveAccepted: true,
  },
  {
    title: 'a directory replaced by a symlink',
    data: () => [
      dir('./opt/'),
      dir('./opt/d/'),
      { name: './opt/d', type: 'symlink', linkname: '/' },
      file('./opt/d/planted', 'x'),
    ],
    error: /opt\/d: a symlink would replace a directory of the same package/,
  },
  {
    title: 'a hard link to a file outside (absolute)',
    data: () => [dir('./opt/'), { name: './opt/passwd', type: 'link', linkname: '/etc/passwd' }],
    error: /opt\/passwd: hard link to "\/etc\/passwd", which is not an earlier file of this package/,
  },
  {
    title: 'a hard link to a file outside (climbing)',
    data: () => [dir('./opt/'), { name: './opt/passwd', type: 'link', linkname: '../../../etc/passwd' }],
    error: /"\.\." leads outside the root/,
  },
  {
    title: 'a character device',
    data: () => [dir('./dev/'), { name: './dev/mem2', type: 'character-device', devmajor: 1, devminor: 1 }],
    error: /dev\/mem2: character-device entries are not allowed/,
  },
  {
    title: 'a block device',
    data: () => [{ name: './sda9', type: 'block-device', devmajor: 8, devminor: 9 }],
    error: /sda9: block-device entries are not allowed/,
  },
  {
    title: 'a FIFO',
    data: () => [dir('./run/'), { name: './run/pipe', type: 'fifo' }],
    error: /run\/pipe: fifo entries are not allowed/,
  },
  {
    title: 'a gzip bomb (64 MiB of zeros, the device allows 4 MiB uncompressed)',
    data: () => Array.from({ length: 64 }, (_, i) => file(`./opt/zero${i}`, zeros)),
    limits: { dataBytes: 4 * 1024 * 1024 },
    error: /more than 4194304 bytes uncompressed \(limit\)/,
  },
  {
    title: 'more than 100,000 entries',
    data: () => repeatedEntryTarGz(100_001),
    error: /more than 100000 entries \(limit\)/,
  },
  {
    title: 'names that differ only in letter case',
    data: () => [dir('./opt/'), file('./opt/README', 'a'), file('./opt/readme', 'b')],
    error: /opt\/readme: differs only in letter case from "opt\/README"/,
  },
  {
    title: 'a directory whose name differs only in case from a file',
    data: () => [file('./Opt', 'a'), file('./opt/x', 'b')],
    error: /differs only in letter case from "Opt"/,
  },
];

describe('hostile data archives', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
    await mkdir(join(t.root, 'outside'));
    await writeFile(join(t.root, 'outside', 'keep'), 'untouched\n');
    await mkdir(join(t.root, 'packages'));
  });
  after(() => t.cleanup());

  for (const [index, hostile] of cases.entries()) {
    test(hostile.title, async () => {
      const name = `hostile${index}`;
      const data = await hostile.data();
      const spec = { name, sign: t.vendorKey, gzipLevel: 9 };
      const path = Buffer.isBuffer(data)
        ? await buildPackageWithData(join(t.root, 'packages'), spec, data)
        : await buildPackage(join(t.root, 'packages'), { ...spec, data });
      await editDeviceJson(t.dir, (json) => {
        json.limits = hostile.limits ?? {};
      });
      await hostile.setup?.(t);
      await installFile(t.device, path);
      assert.deepEqual(await tempFiles(t.dir), []);
      if (hostile.archiveAccepted) {
        assert.ok((await t.device.files(name)).length > 0);
      } else {
        await assert.rejects(t.device.files(name), (error: unknown) => {
          assert.ok(error instanceof DeviceError, String(error));
          assert.equal(error.code, 'DEVICE_UNSAFE_PACKAGE');
          assert.match(error.message, hostile.error);
          assert.ok(oneLine(error.message), error.message);
          return true;
        });
      }
      const before = await outsideView(t);
      const report = await t.device.boot();
      const line = report.lines.find((l) => l.name === name)!;
      assert.equal(line.activated, false);
      assert.match(line.reason, hostile.error);
      assert.ok(oneLine(line.reason));
      const afterBoot = await outsideView(t);
      assert.deepEqual(afterBoot, before, 'nothing changed outside rootfs, nor in it');
      assert.deepEqual(await listing(join(t.dir, 'var/lib/wmopkg')), ['active', 'backup', 'boot.json']);
      await t.device.remove(name);
      await t.device.boot();
    });
  }
});

describe('archives that are odd but harmless', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
    await t.device.setAllowUntrusted(true);
  });
  after(() => t.cleanup());

  test('absolute paths are made relative to the root', async () => {
    const path = await buildPackage(t.root, {
      name: 'absolute',
      data: [dir('/etc/'), file('/etc/absolute.conf', 'inside\n')],
      sign: t.vendorKey,
    });
    await installFile(t.device, path);
    await t.device.boot();
    assert.equal(await readFile(join(t.dir, 'rootfs/etc/absolute.conf'), 'utf8'), 'inside\n');
    await assert.rejects(lstat('/etc/absolute.conf'), 'nothing landed in the real /etc');
    assert.deepEqual(await listing(t.root), ['absolute.wmopkg', 'device', 'vendor']);
  });

  test('a file over a symlink already in rootfs replaces the link, never writes through it', async () => {
    await writeFile(join(t.root, 'target'), 'outside\n');
    await mkdir(join(t.dir, 'rootfs/opt'), { recursive: true });
    await symlink(join(t.root, 'target'), join(t.dir, 'rootfs/opt/over'));
    const path = await buildPackage(t.root, {
      name: 'over',
      data: [dir('./opt/'), file('./opt/over', 'package\n')],
      sign: t.vendorKey,
    });
    await installFile(t.device, path);
    await t.device.boot();
    assert.equal(await readFile(join(t.root, 'target'), 'utf8'), 'outside\n');
    assert.equal(await readFile(join(t.dir, 'rootfs/opt/over'), 'utf8'), 'package\n');
    await t.device.remove('over');
    await t.device.boot();
    assert.ok((await lstat(join(t.dir, 'rootfs/opt/over'))).isSymbolicLink(), 'the original symlink is back');
  });

  test('setuid and setgid bits are kept only for a Signed package', async () => {
    const data = [
      dir('./opt/'),
      file('./opt/suid', '#!/bin/sh\n', 0o4755),
      file('./opt/sgid', '#!/bin/sh\n', 0o2755),
    ];
    const unsigned = await buildPackage(t.root, { name: 'suid-unsigned', data });
    const signed = await buildPackage(t.root, {
      name: 'suid-signed',
      data: [dir('./srv/'), file('./srv/suid', '#!/bin/sh\n', 0o4755)],
      sign: t.vendorKey,
    });
    await installFile(t.device, unsigned);
    await installFile(t.device, signed);
    const report = await t.device.boot();
    assert.ok(report.lines.filter((l) => l.name.startsWith('suid')).every((l) => l.activated));
    assert.equal((await stat(join(t.dir, 'rootfs/opt/suid'))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(t.dir, 'rootfs/opt/sgid'))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(t.dir, 'rootfs/srv/suid'))).mode & 0o7777, 0o4755);
  });

  test('a hard link to an earlier file of the same archive', async () => {
    const path = await buildPackage(t.root, {
      name: 'linked',
      data: [
        dir('./lib/'),
        file('./lib/one', 'same\n'),
        { name: './lib/two', type: 'link', linkname: './lib/one' },
      ],
      sign: t.vendorKey,
    });
    await installFile(t.device, path);
    await t.device.boot();
    const [one, two] = await Promise.all([
      stat(join(t.dir, 'rootfs/lib/one')),
      stat(join(t.dir, 'rootfs/lib/two')),
    ]);
    assert.equal(one.ino, two.ino);
    assert.deepEqual(await t.device.files('linked'), ['lib', 'lib/one', 'lib/two']);
  });

  test('a configured entry limit stops the boot unpacking and leaves nothing behind', async () => {
    const path = await buildPackage(t.root, {
      name: 'many',
      data: Array.from({ length: 300 }, (_, i) => file(`./many/f${i}`, `${i}`)),
      sign: t.vendorKey,
    });
    await installFile(t.device, path);
    await editDeviceJson(t.dir, (json) => {
      json.limits = { entries: 250 };
    });
    const before = await snapshot(join(t.dir, 'rootfs'));
    const line = (await t.device.boot()).lines.find((l) => l.name === 'many')!;
    assert.equal(line.activated, false);
    assert.match(line.reason, /more than 250 entries \(limit\)/);
    assert.deepEqual(await snapshot(join(t.dir, 'rootfs')), before);
    assert.deepEqual(await listing(join(t.dir, 'var/lib/wmopkg')), ['active', 'backup', 'boot.json']);
  });
});
