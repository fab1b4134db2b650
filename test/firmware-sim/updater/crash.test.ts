// Crash safety of an updater run: a real child process SIGKILLed at every fault point of a run that
// installs, upgrades and removes; the next start must find the old set of packages or the new one.
import assert from 'node:assert/strict';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { layoutOf, openDevice } from '../../../firmware-sim/index.js';
import { loadRecords } from '../../../firmware-sim/store/packages.js';
import { makeTestDevice, type TestDevice, tempFiles } from '../../helpers/device-fixtures.js';
import { runChild } from '../../helpers/device-process.js';
import { type ServedFeed, serveFeed, transportFetcher } from '../../helpers/updater-fixtures.js';

/** The store as `name@version` pairs, every record readable. */
async function storeVersions(dir: string): Promise<string> {
  const { records, problems } = await loadRecords(layoutOf(dir));
  assert.deepEqual(problems, [], 'every store record parses');
  return [...records.values()]
    .map((r) => `${r.name}@${r.version}`)
    .sort()
    .join(' ');
}

describe('crash safety: an updater run SIGKILLed at every fault point', () => {
  let t: TestDevice;
  let feed: ServedFeed;
  let template: string;
  let copies = 0;

  before(async () => {
    t = await makeTestDevice();
    feed = await serveFeed(join(t.root, 'feed'), t.vendorKey);
    await feed.add({ name: 'a', version: '1.0', depends: 'b' });
    await feed.add({ name: 'b', version: '1.0' });
    await feed.add({ name: 'x', version: '1.0' });
    await feed.publish();
    await t.device.setFeed({ name: 'main', url: feed.url, persistent: false });
    await t.device.updater.setRequest({ kind: 'install', name: 'a', priority: 50 });
    await t.device.updater.setRequest({ kind: 'install', name: 'x', priority: 50 });
    const fetcher = transportFetcher(t.device);
    assert.equal((await t.device.updater.run({ fetcher, trigger: 'cli' })).result, 'applied');
    await t.device.boot();
    // The plan the children run: upgrade a (which needs a new c), upgrade b, remove x (dropped).
    await t.device.updater.dropRequest('install', 'x');
    await feed.add({ name: 'a', version: '2.0', depends: 'b (>= 1.1), c' });
    await feed.add({ name: 'b', version: '1.1' });
    await feed.add({ name: 'c', version: '1.0' });
    await feed.publish();
    template = join(t.root, 'template');
    await cp(t.dir, template, { recursive: true, verbatimSymlinks: true });
  });
  after(async () => {
    await feed.close();
    await t.cleanup();
  });

  async function copyOf(): Promise<string> {
    const target = join(t.root, `run-${++copies}`);
    await cp(template, target, { recursive: true, verbatimSymlinks: true });
    return target;
  }

  /** Opens (recovering) a copy, checks it is clean, boots it; returns the store before the boot. */
  async function recovered(dir: string): Promise<string> {
    const device = await openDevice(dir, {
      session: { user: 'test', id: 'recover' },
      vendorDir: t.vendorDir,
    });
    assert.deepEqual(await tempFiles(dir), [], 'no temporary files after recovery');
    const versions = await storeVersions(dir);
    const report = await device.boot();
    assert.ok(
      report.lines.every((l) => l.verification === 'Signed'),
      JSON.stringify(report.lines),
    );
    return versions;
  }

  test('every point: the old set of packages or the new one, and the next run finishes the job', async () => {
    const traced = await copyOf();
    const trace = join(t.root, 'trace');
    const run = await runChild(traced, t.vendorDir, 'updater-run', [], {
      EDGESH_DEVICE_FAULT: `trace:${trace}`,
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /"result":"applied"/);
    const points = (await readFile(trace, 'utf8')).split('\n').filter(Boolean);
    if (process.env.CRASH_TRACE) console.log(points.length, points.join(' '));
    assert.ok(points.length >= 10, `only ${points.length} fault points: ${points.join(' ')}`);
    const newer = await recovered(traced);
    const older = await recovered(await copyOf());
    assert.equal(older, 'a@1.0 b@1.0 x@1.0');
    assert.equal(newer, 'a@2.0 b@1.1 c@1.0');
    const seen = new Set<string>();
    // The next run after a kill is tried at every fourth point (each run costs a node start).
    const queue = Array.from({ length: points.length }, (_, i) => i + 1);
    const killAt = async (k: number): Promise<void> => {
      const copy = await copyOf();
      const crash = await runChild(copy, t.vendorDir, 'updater-run', [], {
        EDGESH_DEVICE_FAULT: `kill:${k}`,
      });
      const where = `a kill at point ${k} of ${points.length} (${points[k - 1]})`;
      assert.equal(crash.signal, 'SIGKILL', `${where}: ${crash.stdout}${crash.stderr}`);
      const state = await recovered(copy);
      assert.ok(
        [older, newer].includes(state),
        `${where}: store "${state}" is neither "${older}" nor "${newer}"`,
      );
      seen.add(state);
      if (k % 4 !== 0 && k !== points.length) {
        await rm(copy, { recursive: true, force: true });
        return;
      }
      // Whatever the kill left, the next run brings the device to the plan's state.
      const device = await openDevice(copy, {
        session: { user: 'test', id: 'again' },
        vendorDir: t.vendorDir,
      });
      const again = await device.updater.run({ fetcher: transportFetcher(device), trigger: 'timer' });
      assert.ok(['applied', 'nothing-to-do'].includes(again.result), `${where}: then ${again.result}`);
      assert.equal(await storeVersions(copy), newer, `${where}: the next run`);
      await rm(copy, { recursive: true, force: true });
    };
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        for (let k = queue.shift(); k !== undefined; k = queue.shift()) await killAt(k);
      }),
    );
    assert.deepEqual([...seen].sort(), [older, newer].sort(), 'kills before and after the commit');
  });
});
