// What a boot unpacks: nothing of a package that will not run, and nothing beyond the bounds of its stage.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { StageBudget } from '../../firmware-sim/boot/stage-budget.js';
import { SafeUnpacker } from '../../firmware-sim/boot/unpack.js';
import { keyNumberHex } from '../../firmware-sim/format/index.js';
import { DeviceError } from '../../firmware-sim/index.js';
import {
  editDeviceJson,
  installFile,
  listing,
  makeTestDevice,
  snapshot,
  type TestDevice,
} from '../helpers/device-fixtures.js';
import { buildPackage, dir, file, flipByte, memberOffset, strangerKey } from '../helpers/package-fixtures.js';

/** Runs `task` with every fault point passed written to a trace file; returns the points' names. */
async function tracePoints(root: string, task: () => Promise<unknown>): Promise<string[]> {
  const trace = join(root, `trace-${Date.now()}`);
  process.env.EDGESH_DEVICE_FAULT = `trace:${trace}`;
  try {
    await task();
  } finally {
    delete process.env.EDGESH_DEVICE_FAULT;
  }
  const text = await readFile(trace, 'utf8').catch(() => '');
  await rm(trace, { force: true });
  return text.split('\n').filter((line) => line !== '');
}

/** The stored package file of an installed package. */
async function storedFile(t: TestDevice, name: string): Promise<string> {
  const folder = join(t.dir, 'cfg/packages', name);
  const entry = (await readdir(folder)).find((f) => f.endsWith('.wmopkg'))!;
  return join(folder, entry);
}

/** `depth` nested directories with a file at the bottom: the file's path has `depth + 1` components. */
function nested(top: string, depth: number): ReturnType<typeof dir>[] {
  const entries = [];
  let path = `./${top}`;
  for (let level = 1; level <= depth; level++) {
    entries.push(dir(`${path}/`));
    path += '/d';
  }
  entries.push(file(`${path.slice(0, -2)}/bottom`, 'deep\n'));
  return entries;
}

describe('a package that will not be activated is never unpacked', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('unsigned, untrusted, Invalid or of another architecture: decided before unpacking', async () => {
    const zeros = Buffer.alloc(1024 * 1024);
    const stranger = strangerKey();
    const packages = [
      // The report's case: an unsigned gzip bomb, inflated at every boot before.
      await buildPackage(t.root, {
        name: 'bomb',
        data: Array.from({ length: 64 }, (_, i) => file(`./opt/bomb/zero${i}`, zeros)),
        gzipLevel: 9,
      }),
      await buildPackage(t.root, { name: 'stranger', sign: stranger }),
      await buildPackage(t.root, { name: 'foreign', architecture: 'arm64', sign: t.vendorKey }),
      await buildPackage(t.root, { name: 'tampered', sign: t.vendorKey }),
      await buildPackage(t.root, { name: 'welcome', sign: t.vendorKey }),
    ];
    for (const path of packages) await installFile(t.device, path);
    // Installed as it was; then the store file is changed, and the device stops accepting arm64.
    const tampered = await storedFile(t, 'tampered');
    await flipByte(tampered, (await memberOffset(tampered, 'data.tar.gz')) + 20);
    await editDeviceJson(t.dir, (json) => {
      json.architectures = ['mips'];
    });
    const before = await snapshot(join(t.dir, 'rootfs'));
    let lines: Awaited<ReturnType<typeof t.device.boot>>['lines'] = [];
    const points = await tracePoints(t.root, async () => {
      lines = (await t.device.boot()).lines;
    });
    const reasons = Object.fromEntries(lines.map((l) => [l.name, `${l.verification}: ${l.reason}`]));
    assert.deepEqual(reasons, {
      bomb: 'Unsigned: unsigned, allow-untrusted is off',
      foreign: 'Signed: architecture arm64 is not accepted by this device (accepted: all, mips)',
      stranger: `Untrusted: untrusted key ${keyNumberHex(stranger.keyNumber)}, allow-untrusted is off`,
      tampered: 'Invalid: invalid: package file changed in the store since installation (data.tar.gz)',
      welcome: 'Signed: activated',
    });
    // One package was unpacked (the trace sees it), the four refused ones never reached the stage.
    assert.equal(points.filter((p) => p === 'boot:staged').length, 1, points.join(' '));
    const changed = [...(await snapshot(join(t.dir, 'rootfs'))).keys()].filter((k) => !before.has(k));
    assert.deepEqual(changed, ['usr', 'usr/share', 'usr/share/welcome', 'usr/share/welcome/README']);
    assert.deepEqual(await listing(join(t.dir, 'var/lib/wmopkg')), ['active', 'backup', 'boot.json']);
  });
});

describe('the depth of a path is bounded', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('a path of 64 components is unpacked; 65, or the report’s 1,000 levels, make the package unsafe', async () => {
    await installFile(
      t.device,
      await buildPackage(t.root, { name: 'deep', data: nested('deep', 63), sign: t.vendorKey }),
    );
    await installFile(
      t.device,
      await buildPackage(t.root, { name: 'deeper', data: nested('deeper', 64), sign: t.vendorKey }),
    );
    await installFile(
      t.device,
      await buildPackage(t.root, { name: 'abyss', data: nested('abyss', 1000), sign: t.vendorKey }),
    );
    const lines = (await t.device.boot()).lines;
    const line = (name: string) => lines.find((l) => l.name === name)!;
    assert.equal(line('deep').reason, 'activated');
    assert.equal(
      await readFile(join(t.dir, 'rootfs/deep', ...Array(62).fill('d'), 'bottom'), 'utf8'),
      'deep\n',
    );
    for (const name of ['deeper', 'abyss']) {
      assert.equal(line(name).activated, false);
      assert.equal(line(name).verification, 'Invalid');
      assert.match(
        line(name).reason,
        /^invalid: unsafe package: data\.tar\.gz: .*: nested deeper than 64 levels \(limit\)$/,
      );
    }
    assert.deepEqual(await listing(join(t.dir, 'rootfs')), ['deep', 'etc']);
  });
});

describe('the stage of a boot is bounded in storage and time', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
  });
  after(() => t.cleanup());

  test('a package that would eat into the reserve of free storage waits for the next boot', async () => {
    await installFile(t.device, await buildPackage(t.root, { name: 'roomy', sign: t.vendorKey }));
    // More reserve than any disk has free: whatever the free space, the stage may not grow.
    await editDeviceJson(t.dir, (json) => {
      json.limits = { reserveBytes: 2 ** 50 };
    });
    const before = await snapshot(join(t.dir, 'rootfs'));
    const line = (await t.device.boot()).lines[0]!;
    assert.equal(line.activated, false);
    assert.equal(line.verification, 'Signed', 'a bound of the device does not make the package Invalid');
    assert.match(
      line.reason,
      /^unpacking stopped: it needs more than the [0-9.]+ [KMGT]iB free on the device storage less the 1024\.0 TiB kept in reserve \(limits\.reserveBytes\); free some space and boot again$/,
    );
    assert.deepEqual(await snapshot(join(t.dir, 'rootfs')), before);
    assert.deepEqual(await listing(join(t.dir, 'var/lib/wmopkg')), ['active', 'backup', 'boot.json']);
    await editDeviceJson(t.dir, (json) => {
      json.limits = {};
    });
    assert.equal((await t.device.boot()).lines[0]!.reason, 'activated');
  });

  test('space is counted in blocks: empty directories and small files fill the storage too', async () => {
    const budget = new StageBudget({ seconds: 60, freeBytes: 4 * 4096, reserveBytes: 4096 });
    budget.charge('directory', 0);
    budget.charge('file', 1);
    budget.charge('symlink', 0);
    budget.charge('file', 0);
    budget.charge('directory', 0);
    // Three blocks are all the space there is: one byte more is a fourth.
    assert.throws(
      () => budget.charge('file', 1),
      (error: unknown) => error instanceof DeviceError && error.code === 'DEVICE_STAGE_LIMIT',
    );
  });

  test('unpacking stops once it has taken longer than its time (a clock of the test, no waiting)', async () => {
    const stage = join(tmpdir(), `edgesh-stage-${process.pid}`);
    await rm(stage, { recursive: true, force: true });
    let clock = 0;
    const budget = new StageBudget({
      seconds: 5,
      freeBytes: 2 ** 40,
      reserveBytes: 0,
      // Every look at the clock finds a second gone.
      now: () => (clock += 1000),
    });
    await mkdir(stage);
    try {
      const unpacker = new SafeUnpacker({
        limits: { dataBytes: 2 ** 40, entries: 1000, pathDepth: 64 },
        stageDir: stage,
        budget,
      });
      const tar = await tarOf(Array.from({ length: 20 }, (_, i) => [`f${i}`, `${i}\n`] as const));
      await assert.rejects(
        (async () => {
          await unpacker.write(gzipSync(tar));
          await unpacker.end();
        })(),
        (error: unknown) => {
          assert.ok(error instanceof DeviceError, String(error));
          assert.equal(error.code, 'DEVICE_STAGE_LIMIT');
          assert.equal(
            error.message,
            'unpacking stopped after 5 s (limits.stageSeconds); tried again at the next boot',
          );
          return true;
        },
      );
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  });
});

/** A tar archive of small files, made with tar-stream. */
async function tarOf(files: ReadonlyArray<readonly [string, string]>): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const [name, content] of files) pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}
