// Crash safety of the feed operations: a real child SIGKILLed at every fault point of a plan (installs, an upgrade,
// removals) and of an update; the next start finds the old state or the new one, whole, and boots.
import assert from 'node:assert/strict';
import { cp, lstat, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { layoutOf, openDevice } from '../../../firmware-sim/index.js';
import { loadRecords } from '../../../firmware-sim/store/packages.js';
import { makeTestDevice, type TestDevice, tempFiles } from '../../helpers/device-fixtures.js';
import { runChild } from '../../helpers/device-process.js';
import { mediaFetcher, writeFeed } from '../../helpers/feed-device.js';

/** The store as `name@version` pairs, and each feed's package count. */
async function stateOf(dir: string, vendorDir: string): Promise<string> {
  const device = await openDevice(dir, { session: { user: 'test', id: 'recover' }, vendorDir });
  assert.deepEqual(await tempFiles(dir), [], 'no temporary files after recovery');
  await assert.rejects(lstat(join(dir, 'var/lib/wmopkg/journal.json')), 'no journal left after recovery');
  const { records, problems } = await loadRecords(layoutOf(dir));
  assert.deepEqual(problems, [], 'every store record parses');
  const feeds = await device.feeds();
  const report = await device.boot();
  assert.ok(
    report.lines.every((l) => l.activated),
    JSON.stringify(report.lines),
  );
  const store = [...records.values()].map((r) => `${r.name}@${r.version}${r.auto ? '~' : ''}`).join(' ');
  return `${store} | ${feeds.map((f) => `${f.name}:${f.packages ?? '-'}`).join(' ')}`;
}

/** Spreads `count` picks over 1..n (all of them if n is small), first and last included. */
function spread(n: number, count: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i + 1);
  return [...new Set(Array.from({ length: count }, (_, i) => 1 + Math.round((i * (n - 1)) / (count - 1))))];
}

describe('crash safety of plans and updates: SIGKILL at their fault points', () => {
  let t: TestDevice;
  let feed: string;
  const templates: Record<string, string> = {};
  let copies = 0;
  let killed = 0;

  const copyOf = async (template: string): Promise<string> => {
    const target = join(t.root, `run-${++copies}`);
    await cp(template, target, { recursive: true, verbatimSymlinks: true });
    return target;
  };
  const keep = async (name: string) => {
    templates[name] = join(t.root, `template-${name}`);
    await cp(t.dir, templates[name]!, { recursive: true, verbatimSymlinks: true });
  };
  const publish = (list: Parameters<typeof writeFeed>[1]) =>
    writeFeed(feed, list, { sign: t.vendorKey, validForDays: 7 });
  const plan = async (name: string) => {
    const p = await t.device.planFeeds({ requests: [{ kind: 'install', name }] });
    await t.device.applyPlan(p, { fetcher: mediaFetcher(t.device) });
  };

  before(async () => {
    t = await makeTestDevice();
    feed = join(t.device.paths.usbStick, 'feed');
    const sign = t.vendorKey;
    await publish([
      { name: 'liba', version: '1.0', sign },
      { name: 'libb', version: '2.1', depends: 'liba', sign },
      { name: 'app', version: '1.0', depends: 'libb', sign },
      { name: 'tool', version: '1.0', sign },
    ]);
    await t.device.setFeed({ name: 'main', url: 'media://external/feed', persistent: false });
    await t.device.updateFeeds({ fetcher: mediaFetcher(t.device) });
    await keep('fresh');
    await plan('app');
    await plan('tool');
    await t.device.boot();
    await keep('installed');
    // The feed moves on: app 2.0 needs a new libc and conflicts with tool; liba has 1.1; suite needs app 2.0.
    await rm(feed, { recursive: true });
    await publish([
      { name: 'liba', version: '1.1', sign },
      { name: 'libb', version: '2.1', depends: 'liba', sign },
      { name: 'libc', version: '1.0', sign },
      { name: 'app', version: '2.0', depends: 'libb, libc', fields: [['Conflicts', 'tool']], sign },
      { name: 'tool', version: '1.0', sign },
      { name: 'suite', version: '1.0', depends: 'app (>= 2.0)', sign },
    ]);
    await keep('moved');
    await t.device.updateFeeds({ fetcher: mediaFetcher(t.device) });
    await keep('updated');
  });
  after(() => t.cleanup());

  async function scenario(template: string, op: string, args: string[], picks = 10): Promise<number> {
    const traced = await copyOf(template);
    const trace = join(t.root, `trace-${copies}`);
    const run = await runChild(traced, t.vendorDir, op, args, { EDGESH_DEVICE_FAULT: `trace:${trace}` });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const points = (await readFile(trace, 'utf8')).split('\n').filter(Boolean);
    const newer = await stateOf(traced, t.vendorDir);
    const older = await stateOf(await copyOf(template), t.vendorDir);
    assert.notEqual(newer, older, 'the operation changes something');
    for (const k of spread(points.length, picks)) {
      const copy = await copyOf(template);
      const crash = await runChild(copy, t.vendorDir, op, args, { EDGESH_DEVICE_FAULT: `kill:${k}` });
      assert.equal(crash.signal, 'SIGKILL', `point ${k} (${points[k - 1]}): ${crash.stdout}${crash.stderr}`);
      killed++;
      const state = await stateOf(copy, t.vendorDir);
      assert.ok(
        [older, newer].includes(state),
        `after a kill at point ${k} of ${points.length} (${points[k - 1]}): "${state}" is neither "${older}" nor "${newer}"`,
      );
      await rm(copy, { recursive: true, force: true });
    }
    if (process.env.CRASH_TRACE) console.log(op, args.join(' '), points.join(' '));
    return points.length;
  }

  test('a plan of three new packages', async () => {
    assert.ok((await scenario(templates.fresh!, 'feed-install', ['app'])) >= 5);
  });

  test('a plan that removes a conflicting package, upgrades one and installs another', async () => {
    assert.ok((await scenario(templates.updated!, 'feed-install', ['suite'])) >= 6);
  });

  test('a removal with dependents', async () => {
    assert.ok((await scenario(templates.installed!, 'feed-remove', ['liba'])) >= 4);
  });

  test('an update that takes a new index', async () => {
    assert.ok((await scenario(templates.moved!, 'feed-update', [])) >= 2);
  });

  test('at least 25 kills in all', () => {
    assert.ok(killed >= 25, `${killed} kills`);
  });
});
