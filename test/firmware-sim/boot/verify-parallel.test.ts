// The boot's verification on every core: worker readings equal this thread's, failures fall back, one core starts no thread.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  PARALLEL_MIN_BYTES,
  readStoredPackages,
  type StoredPackage,
  verificationThreads,
} from '../../../firmware-sim/boot/verify-parallel.js';
import { DEFAULT_LIMITS, readPackageFile } from '../../../firmware-sim/format/index.js';
import { installFile, makeTestDevice } from '../../helpers/device-fixtures.js';
import { buildPackage, file, flipByte, memberOffset, strangerKey } from '../../helpers/package-fixtures.js';

const MiB = 1024 * 1024;

describe('readStoredPackages', () => {
  let dir: string;
  let packages: StoredPackage[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgesh-verify-parallel-'));
    packages = [];
    for (const [i, size] of [300_000, 20_000, 100_000, 5_000].entries()) {
      const path = await buildPackage(dir, {
        name: `p${i}`,
        ...(i % 2 === 0 ? { sign: strangerKey() } : {}),
        scripts: { postinst: '#!/bin/sh\nexit 0\n' },
        data: [file(`./opt/p${i}/blob`, randomBytes(size))],
        gzipLevel: 1,
      });
      packages.push({ name: `p${i}`, path, size: (await stat(path)).size });
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const threads of [0, 1, 3]) {
    test(`with ${threads} worker thread(s), every reading equals this thread's own, to the type`, async () => {
      const readings = await readStoredPackages(packages, DEFAULT_LIMITS, threads);
      assert.equal(readings.size, packages.length);
      for (const p of packages) {
        assert.deepStrictEqual(readings.get(p.name), await readPackageFile(p.path), p.name);
      }
    });
  }

  test('a package that fails to read on a worker is left out, for the caller to read itself', async () => {
    const broken = join(dir, 'broken.wmopkg');
    await buildPackage(
      dir,
      { name: 'broken', data: [file('./opt/b', randomBytes(50_000))] },
      'broken.wmopkg',
    );
    await truncate(broken, 20_000);
    const missing = join(dir, 'missing.wmopkg');
    const jobs = [
      { name: 'broken', path: broken, size: 3 },
      { name: 'missing', path: missing, size: 2 },
      ...packages.map((p) => ({ ...p, size: 1 })),
    ];
    // Largest first: this thread takes `broken`, the worker `missing`, then they share the rest.
    const readings = await readStoredPackages(jobs, DEFAULT_LIMITS, 1);
    assert.deepEqual([...readings.keys()].sort(), packages.map((p) => p.name).sort());
  });
});

test('threads: one per further core, none on a single core or for little to hash', () => {
  const many = Array.from({ length: 10 }, (_, i) => ({ name: `p${i}`, path: '', size: 20 * MiB }));
  assert.equal(verificationThreads(many, 1), 0, 'a single-core device verifies on its own thread');
  assert.equal(verificationThreads(many, 2), 1);
  assert.equal(verificationThreads(many, 8), 7);
  assert.equal(verificationThreads(many.slice(0, 3), 8), 2, 'never more threads than packages to share');
  const little = [{ name: 'a', path: '', size: PARALLEL_MIN_BYTES - 1 }];
  assert.equal(verificationThreads([...little, ...little.map((p) => ({ ...p, size: 0 }))], 8), 0);
});

describe('a boot that verifies on every core', () => {
  test('judges as before: intact packages stay active, a changed one and a truncated one are taken out', async () => {
    const t = await makeTestDevice();
    try {
      // Enough bytes for the boot to start its threads (PARALLEL_MIN_BYTES) on a machine with two cores.
      const size = Math.ceil(PARALLEL_MIN_BYTES / 3) + MiB;
      for (const name of ['big-a', 'big-b', 'big-c', 'big-d']) {
        const path = await buildPackage(t.root, {
          name,
          sign: t.vendorKey,
          data: [file(`./opt/${name}/blob`, randomBytes(size))],
          gzipLevel: 1,
        });
        await installFile(t.device, path);
      }
      assert.ok((await t.device.boot()).lines.every((l) => l.activated));
      const again = await t.device.boot();
      assert.deepEqual(
        again.lines.map((l) => [l.name, l.verification, l.reason]),
        ['big-a', 'big-b', 'big-c', 'big-d'].map((n) => [n, 'Signed', 'already active']),
      );
      const stored = async (name: string) => {
        const where = join(t.dir, 'cfg/packages', name);
        return join(where, (await readdir(where)).find((f) => f.endsWith('.wmopkg'))!);
      };
      const changed = await stored('big-b');
      await flipByte(changed, (await memberOffset(changed, 'data.tar.gz')) + 5000);
      await truncate(await stored('big-c'), 4 * MiB);
      const after = await t.device.boot();
      const line = (name: string) => after.lines.find((l) => l.name === name)!;
      assert.equal(line('big-a').reason, 'already active');
      assert.equal(line('big-d').reason, 'already active');
      assert.equal(line('big-b').verification, 'Invalid');
      assert.match(
        line('big-b').reason,
        /package file changed in the store since installation \(data\.tar\.gz\)/,
      );
      assert.equal(line('big-c').verification, 'Invalid');
      assert.match(line('big-c').reason, /corrupt package: truncated/);
      assert.deepEqual(after.deactivated.map((d) => d.name).sort(), ['big-b', 'big-c']);
    } finally {
      await t.cleanup();
    }
  });
});
