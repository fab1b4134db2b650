// Crash safety (SPEC §4.6): a real child process SIGKILLed at fault points of install, remove, boot and
// factory reset; the next start must find the old or the new state, parseable, clean, and boot.
import assert from 'node:assert/strict';
import { cp, lstat, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { layoutOf, openDevice } from '../../firmware-sim/index.js';
import { loadActive } from '../../firmware-sim/store/last-boot.js';
import { loadRecords } from '../../firmware-sim/store/packages.js';
import {
  installFile,
  makeTestDevice,
  snapshot,
  type TestDevice,
  tempFiles,
} from '../helpers/device-fixtures.js';
import { runChild } from '../helpers/device-process.js';
import { buildPackage, dir, file } from '../helpers/package-fixtures.js';

/** What a state directory holds, as far as "old or new" is concerned. */
interface State {
  readonly versions: string;
  readonly rootfs: Map<string, string>;
}

/** Store content as `name@version` pairs. */
async function storeVersions(dir: string): Promise<string> {
  const { records, problems } = await loadRecords(layoutOf(dir));
  assert.deepEqual(problems, [], 'every store record parses');
  return [...records.values()].map((r) => `${r.name}@${r.version}`).join(' ');
}

let copies = 0;

/** A copy of a template state directory (the vendor directory is shared, read-only). */
async function copyOf(template: string, root: string): Promise<string> {
  const target = join(root, `run-${++copies}`);
  await cp(template, target, { recursive: true, verbatimSymlinks: true });
  return target;
}

/** Opens (recovering) and boots a state directory; returns the state after the boot. */
async function recoverAndBoot(dir: string, vendorDir: string): Promise<{ before: string; after: State }> {
  const device = await openDevice(dir, { session: { user: 'test', id: 'recover' }, vendorDir });
  assert.deepEqual(await tempFiles(dir), [], 'no temporary files after recovery');
  await assert.rejects(lstat(join(dir, 'var/lib/wmopkg/txn')), 'no transaction left after recovery');
  await assert.rejects(lstat(join(dir, 'var/lib/wmopkg/journal.json')), 'no journal left after recovery');
  await assert.rejects(lstat(join(dir, 'var/lib/wmopkg/view')), 'no view of a boot left after recovery');
  const before = await storeVersions(dir);
  const active = await loadActive(layoutOf(dir));
  for (const record of active.values()) {
    for (const path of record.files) await lstat(join(dir, 'rootfs', path));
  }
  const report = await device.boot();
  assert.ok(Array.isArray(report.lines));
  assert.deepEqual(await tempFiles(dir), []);
  return {
    before,
    after: { versions: await storeVersions(dir), rootfs: await snapshot(join(dir, 'rootfs')) },
  };
}

/** Spreads `count` picks over 1..n (all of them if n is small). */
function spread(n: number, count: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i + 1);
  return [...new Set(Array.from({ length: count }, (_, i) => 1 + Math.round((i * (n - 1)) / (count - 1))))];
}

/** Runs `task` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item);
    }),
  );
}

describe('crash safety: SIGKILL at fault points', () => {
  let t: TestDevice;
  let baseline: string;
  let pending: string;
  const pkg: Record<string, string> = {};
  let killed = 0;

  before(async () => {
    t = await makeTestDevice();
    // Each version in a file of its own (the default file name is the package name).
    const big = (version: string, changed: number) =>
      buildPackage(
        t.root,
        {
          name: 'big',
          version,
          data: [
            dir('./opt/'),
            ...Array.from({ length: 4 }, (_, d) => dir(`./opt/big/d${d}/`)),
            ...Array.from({ length: 128 }, (_, i) =>
              file(`./opt/big/d${i % 4}/f${i}`, i < changed ? `${version} ${i}\n` : `same ${i}\n`),
            ),
            ...(version === '2.0'
              ? [file('./etc/issue', 'big 2.0 banner\n')]
              : [file('./opt/big/only-in-1', 'x')]),
          ],
          scripts: { postinst: '#!/bin/sh\necho configured\n', prerm: '#!/bin/sh\necho going\n' },
          sign: t.vendorKey,
        },
        `big-${version}.wmopkg`,
      );
    pkg.big1 = await big('1.0', 128);
    pkg.big2 = await big('2.0', 40);
    pkg.fresh = await buildPackage(t.root, {
      name: 'fresh',
      data: [file('./opt/fresh', 'fresh')],
      sign: t.vendorKey,
    });
    pkg.gone = await buildPackage(t.root, {
      name: 'gone',
      data: [file('./opt/gone', 'gone')],
      sign: t.vendorKey,
    });
    pkg.persist = await buildPackage(t.root, {
      name: 'persist',
      data: [file('./opt/persist', 'p')],
      sign: t.vendorKey,
    });
    await installFile(t.device, pkg.big1, { name: 'big' });
    await installFile(t.device, pkg.gone);
    await installFile(t.device, pkg.persist, { persistent: true });
    await installFile(t.device, join(t.dir, 'media/usb0/motd.wmopkg'));
    await t.device.boot();
    baseline = join(t.root, 'baseline');
    await cp(t.dir, baseline, { recursive: true, verbatimSymlinks: true });
    // Changes waiting for a boot: an upgrade, a new package, two removals.
    await installFile(t.device, pkg.big2, { name: 'big' });
    await installFile(t.device, pkg.fresh);
    await t.device.remove('gone');
    await t.device.remove('motd');
    pending = join(t.root, 'pending');
    await cp(t.dir, pending, { recursive: true, verbatimSymlinks: true });
  });
  after(() => t.cleanup());

  /**
   * Runs `op` from `template` once uninterrupted (with a trace of its fault points) and once per picked
   * point with a SIGKILL there; every crashed copy must recover to the old or the new state.
   */
  async function scenario(template: string, op: string, args: string[], picks: number): Promise<number> {
    const traced = await copyOf(template, t.root);
    const trace = join(t.root, `trace-${copies}`);
    const run = await runChild(traced, t.vendorDir, op, args, { EDGESH_DEVICE_FAULT: `trace:${trace}` });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const points = (await readFile(trace, 'utf8')).split('\n').filter(Boolean);
    if (process.env.CRASH_TRACE) console.log(op, points.length, points.join(' '));
    const newer = await recoverAndBoot(traced, t.vendorDir);
    const older = await recoverAndBoot(await copyOf(template, t.root), t.vendorDir);
    const chosen = spread(points.length, picks);
    await pool(chosen, 3, async (k) => {
      const copy = await copyOf(template, t.root);
      const crash = await runChild(copy, t.vendorDir, op, args, { EDGESH_DEVICE_FAULT: `kill:${k}` });
      assert.equal(crash.signal, 'SIGKILL', `point ${k} (${points[k - 1]}): ${crash.stdout}${crash.stderr}`);
      killed++;
      const state = await recoverAndBoot(copy, t.vendorDir);
      const where = `after a kill at point ${k} of ${points.length} (${points[k - 1]})`;
      assert.ok(
        [older.before, newer.before].includes(state.before),
        `${where}: store "${state.before}" is neither "${older.before}" nor "${newer.before}"`,
      );
      const matches = [older.after, newer.after].some(
        (s) => s.versions === state.after.versions && isDeepEqual(s.rootfs, state.after.rootfs),
      );
      assert.ok(matches, `${where}: the next boot left neither the old nor the new rootfs`);
      await rm(copy, { recursive: true, force: true });
    });
    return chosen.length;
  }

  test('install (an upgrade) killed at every point', async () => {
    assert.ok((await scenario(baseline, 'install', ['big', pkg.big2!], 12)) >= 8);
  });

  test('install of a new name killed at every point', async () => {
    assert.ok((await scenario(baseline, 'install', ['fresh', pkg.fresh!], 8)) >= 6);
  });

  test('install of an older version (asked without the lock, committed after) killed at every point', async () => {
    assert.ok((await scenario(pending, 'install', ['big', pkg.big1!], 8)) >= 6);
  });

  test('remove and remove all killed at every point', async () => {
    assert.ok((await scenario(baseline, 'remove', ['gone'], 6)) >= 3);
    assert.ok((await scenario(baseline, 'remove-all', [], 8)) >= 5);
  });

  test('boot (activation, upgrade, deactivation, scripts) killed at many points', async () => {
    assert.ok((await scenario(pending, 'boot', [], 20)) >= 20);
  });

  test('an interrupted activation is recovered even when the lock file did not survive', async () => {
    const copy = await copyOf(pending, t.root);
    const crash = await runChild(copy, t.vendorDir, 'boot', [], { EDGESH_DEVICE_FAULT: 'kill:txn:step:3' });
    assert.equal(crash.signal, 'SIGKILL');
    await lstat(join(copy, 'var/lib/wmopkg/txn/plan.json'));
    await rm(join(copy, 'var/lock/device.lock'));
    const reference = await recoverAndBoot(await copyOf(pending, t.root), t.vendorDir);
    const state = await recoverAndBoot(copy, t.vendorDir);
    assert.equal(state.after.versions, reference.after.versions);
    assert.ok(isDeepEqual(state.after.rootfs, reference.after.rootfs));
    killed++;
  });

  test('factory reset killed at many points', async () => {
    assert.ok((await scenario(pending, 'factory-reset', [], 14)) >= 12);
  });

  test('at least 50 kills in all', () => {
    assert.ok(killed >= 50, `${killed} kills, at least 50 wanted`);
  });
});

function isDeepEqual(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}
