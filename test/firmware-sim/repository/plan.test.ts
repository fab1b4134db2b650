// Plans on a real device: install with dependencies, marks, removal with dependents, autoremove, persistence,
// the boot's all-or-none rule for a plan, a download that differs from its index, and the request hooks.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import type { RequestRecord } from '../../../firmware-sim/api.js';
import { loadRecords } from '../../../firmware-sim/store/packages.js';
import type { TestPackage } from '../../../lab/packages.js';
import { makeTestDevice, rejectsWith, type TestDevice } from '../../helpers/device-fixtures.js';
import { mediaFetcher, writeFeed } from '../../helpers/feed-device.js';

describe('plans over a feed on the stick', () => {
  let t: TestDevice;
  let feed: string;

  /** The feed's packages: app needs libb needs liba; extra recommends liba. */
  const packages = (
    over: Partial<Record<string, Partial<TestPackage> & { unsigned?: true }>> = {},
  ): TestPackage[] =>
    [
      { name: 'liba', version: '1.0' },
      { name: 'libb', version: '2.1', depends: 'liba (>= 1.0)' },
      { name: 'app', version: '1.0', depends: 'libb, firmware (>= 5.0)' },
      { name: 'tool', version: '3.0' },
    ].map((p) => {
      const { unsigned, ...rest } = over[p.name] ?? {};
      return { ...p, ...(unsigned ? {} : { sign: t.vendorKey }), ...rest };
    });

  async function publish(list: readonly TestPackage[]): Promise<void> {
    await rm(feed, { recursive: true, force: true });
    await writeFeed(feed, list, { sign: t.vendorKey, validForDays: 7 });
    const [r] = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device) });
    assert.notEqual(r?.outcome, 'failed', JSON.stringify(r));
  }

  async function install(name: string, options: { persistent?: boolean } = {}) {
    const plan = await t.device.planFeeds({ requests: [{ kind: 'install', name }] });
    return t.device.applyPlan(plan, { fetcher: mediaFetcher(t.device), ...options });
  }

  async function records() {
    return (await loadRecords(t.device.paths)).records;
  }

  beforeEach(async () => {
    t = await makeTestDevice();
    feed = join(t.device.paths.usbStick, 'feed');
    await t.device.setFeed({ name: 'main', url: 'media://external/feed', persistent: false });
    await publish(packages());
  });

  test('install with dependencies: the plan, its reasons, the marks and one plan id', async () => {
    const plan = await t.device.planFeeds({ requests: [{ kind: 'install', name: 'app' }] });
    assert.equal(
      plan.summary,
      'Install: app 1.0, liba 1.0 (dependency of libb), libb 2.1 (dependency of app)',
    );
    assert.deepEqual(
      plan.steps.map((s) => `${s.name}:${s.needs?.join('+')}`),
      ['liba:', 'libb:liba', 'app:libb'],
      'dependencies first, each with the plan packages it needs',
    );
    const result = await t.device.applyPlan(plan, { fetcher: mediaFetcher(t.device) });
    assert.deepEqual(
      result.steps.map((s) => `${s.action} ${s.name} ${s.version} ${s.verification} auto=${s.auto}`),
      [
        'install liba 1.0 Signed auto=true',
        'install libb 2.1 Signed auto=true',
        'install app 1.0 Signed auto=false',
      ],
    );
    const stored = await records();
    assert.equal(new Set([...stored.values()].map((r) => r.plan?.id)).size, 1);
    assert.equal(stored.get('libb')!.feed, 'main');
    const details = await t.device.details('libb');
    assert.equal(details.auto, true);
    assert.deepEqual(details.neededBy, ['app']);
    const report = await t.device.boot();
    assert.deepEqual(
      report.lines.map((l) => `${l.name} ${l.activated}`),
      ['app true', 'liba true', 'libb true'],
    );
    await t.cleanup();
  });

  test('install of a dependency by name marks it requested; autoremove then keeps it', async () => {
    await install('app');
    const plan = await t.device.planFeeds({ requests: [{ kind: 'install', name: 'liba' }] });
    assert.deepEqual(plan.steps, []);
    assert.deepEqual(plan.marks, [{ name: 'liba', auto: false }]);
    await t.device.applyPlan(plan, { fetcher: mediaFetcher(t.device) });
    assert.equal((await records()).get('liba')!.auto, false);
    const removal = await t.device.planRemove(['app']);
    await t.device.applyPlan(removal, { fetcher: mediaFetcher(t.device) });
    const auto = await t.device.planAutoremove();
    assert.deepEqual(
      auto.steps.map((s) => `${s.action} ${s.name} (${s.reason})`),
      ['remove libb (no longer needed)'],
    );
    await t.cleanup();
  });

  test('removing a dependency takes its dependents with it, dependents first', async () => {
    await install('app');
    const plan = await t.device.planRemove(['liba']);
    assert.deepEqual(
      plan.steps.map((s) => `${s.name}: ${s.reason}`),
      [
        'app: needs libb, which is removed',
        'libb: needs liba (>= 1.0), which is removed',
        'liba: uninstall requested',
      ],
    );
    await t.device.applyPlan(plan, { fetcher: mediaFetcher(t.device) });
    assert.deepEqual([...(await records()).keys()], []);
    await t.cleanup();
  });

  test('upgrade: a newer version in the feed is an upgrade step of its own plan', async () => {
    await install('app');
    await publish(packages({ liba: { version: '1.1' } }));
    const plan = await t.device.planFeeds({ requests: [], upgradeAll: true });
    assert.equal(plan.summary, 'Upgrade: liba 1.0 → 1.1');
    const result = await t.device.applyPlan(plan, { fetcher: mediaFetcher(t.device) });
    assert.equal(result.steps[0]!.previousVersion, '1.0');
    assert.equal((await records()).get('liba')!.auto, true, 'the mark stays');
    await t.cleanup();
  });

  test('persistent spreads to dependencies; a factory reset keeps them and only persistent feeds', async () => {
    await t.device.setFeed({ name: 'kept', url: 'media://external/feed', persistent: true });
    await install('tool');
    await install('app', { persistent: true });
    const stored = await records();
    assert.deepEqual(
      ['app', 'liba', 'libb', 'tool'].map((n) => `${n}=${stored.get(n)!.persistent}`),
      ['app=true', 'liba=true', 'libb=true', 'tool=false'],
    );
    await t.device.factoryReset();
    assert.deepEqual([...(await records()).keys()].sort(), ['app', 'liba', 'libb']);
    const feeds = await t.device.feeds();
    assert.deepEqual(
      feeds.map((f) => f.name),
      ['kept'],
    );
    await t.cleanup();
  });

  test('a plan made before the installed packages changed is refused', async () => {
    const plan = await t.device.planFeeds({ requests: [{ kind: 'install', name: 'app' }] });
    await install('tool');
    await rejectsWith(t.device.applyPlan(plan, { fetcher: mediaFetcher(t.device) }), 'DEVICE_CHANGED');
    assert.deepEqual([...(await records()).keys()], ['tool']);
    await t.cleanup();
  });

  test('a package whose bytes differ from the index is not installed, nor the rest of its plan', async () => {
    const plan = await t.device.planFeeds({ requests: [{ kind: 'install', name: 'app' }] });
    const libb = plan.steps.find((s) => s.name === 'libb')!.download!;
    await writeFile(join(feed, libb.filename), Buffer.alloc(libb.size, 0x41));
    await rejectsWith(
      t.device.applyPlan(plan, { fetcher: mediaFetcher(t.device) }),
      'DEVICE_DOWNLOAD_MISMATCH',
    );
    assert.deepEqual([...(await records()).keys()], []);
    await t.cleanup();
  });

  test('the boot activates a plan together or not at all: one package that may not run holds the rest', async () => {
    await publish(packages({ libb: { unsigned: true } }));
    const result = await install('app');
    assert.deepEqual(
      result.steps.map((s) => `${s.name} ${s.verification} ${s.willActivate}`),
      ['liba Signed true', 'libb Unsigned false', 'app Signed true'],
    );
    const report = await t.device.boot();
    const reasons = Object.fromEntries(report.lines.map((l) => [l.name, `${l.activated} ${l.reason}`]));
    assert.match(reasons.libb!, /^false unsigned/);
    assert.match(reasons.app!, /^false needs libb 2\.1, which may not be activated \(unsigned/);
    assert.match(reasons.liba!, /^false installed together with libb 2\.1, which may not be activated/);
    await t.cleanup();
  });

  test('a failed activation leaves the packages that need it not activated, with the reason', async () => {
    await publish(packages({ libb: { scripts: { postinst: '#!/bin/sh\nexit 3\n' } } }));
    await install('app');
    const report = await t.device.boot();
    const reasons = Object.fromEntries(report.lines.map((l) => [l.name, `${l.activated} ${l.reason}`]));
    assert.match(reasons.libb!, /^false postinst failed/);
    assert.match(reasons.app!, /^false needs libb 2\.1, which was not activated \(postinst failed/);
    assert.equal(reasons.liba, 'true activated');
    await t.cleanup();
  });

  test("what cannot be planned says why, in the operator's words", async () => {
    await rejectsWith(
      t.device.planFeeds({ requests: [{ kind: 'install', name: 'zz' }] }),
      'DEVICE_NOT_AVAILABLE',
    );
    await publish([
      ...packages(),
      { name: 'needy', version: '1', depends: 'liba (>= 2.0)', sign: t.vendorKey },
    ]);
    await rejectsWith(
      t.device.planFeeds({ requests: [{ kind: 'install', name: 'needy' }] }),
      'DEVICE_UNRESOLVABLE',
      /^cannot install needy: needy 1 depends on liba \(>= 2\.0\); the feeds have liba 1\.0 only$/,
    );
    await t.device.removeFeed('main');
    await rejectsWith(t.device.planFeeds({ requests: [{ kind: 'install', name: 'app' }] }), 'DEVICE_NO_FEED');
    await t.cleanup();
  });

  test('request hooks hear install by name and remove', async () => {
    const heard: RequestRecord[] = [];
    const off = t.device.onRequests(async (records) => {
      heard.push(...records);
    });
    await install('tool');
    await t.device.remove('tool');
    off();
    await install('liba');
    assert.deepEqual(
      heard.map((r) => `${r.kind} ${r.name}`),
      ['install tool', 'uninstall tool'],
    );
    await t.cleanup();
  });
});
