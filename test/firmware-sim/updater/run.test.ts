// The updater on a real device against a feed served over http on loopback: plan, run, approvals,
// conditional requests, automatic requests, a feed that fails verification, reboot auto.
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { FeedFetcher } from '../../../firmware-sim/api.js';
import { DeviceError } from '../../../firmware-sim/errors.js';
import { loadRecords } from '../../../firmware-sim/store/packages.js';
import { updaterPaths } from '../../../firmware-sim/updater/paths.js';
import { formatUpdaterStep } from '../../../firmware-sim/updater/words.js';
import { installFile, makeTestDevice, type TestDevice } from '../../helpers/device-fixtures.js';
import { buildPackage, strangerKey } from '../../helpers/package-fixtures.js';
import { type ServedFeed, serveFeed, transportFetcher } from '../../helpers/updater-fixtures.js';

/** The store as `name@version (feed|local)`. */
async function store(t: TestDevice): Promise<string[]> {
  const { records } = await loadRecords(t.device.paths);
  return [...records.values()].map((r) => `${r.name}@${r.version}${r.feed ? '' : ' (local)'}`).sort();
}

/** The event log from the last block of the updater on. */
async function lastBlock(t: TestDevice): Promise<string[]> {
  const log = await t.device.eventLog();
  const start = log.findLastIndex((l) => l.includes('---- updater run'));
  return log.slice(start).map((l) => l.slice(20));
}

describe('updater runs against a feed on loopback', () => {
  let t: TestDevice;
  let feed: ServedFeed;
  let fetcher: FeedFetcher;

  before(async () => {
    t = await makeTestDevice();
    feed = await serveFeed(join(t.root, 'feed'), t.vendorKey);
    await feed.add({ name: 'a', version: '1.0', depends: 'b (>= 2.0)' });
    await feed.add({ name: 'b', version: '1.4' });
    await feed.add({ name: 'b', version: '2.1' });
    await feed.add({ name: 'x', version: '1.0' });
    await feed.publish();
    await t.device.setFeed({ name: 'main', url: feed.url, persistent: false });
    fetcher = transportFetcher(t.device);
  });
  after(async () => {
    await feed.close();
    await t.cleanup();
  });

  test('plan: each step with its reason and an id; nothing changes', async () => {
    await t.device.updater.setRequest({ kind: 'install', name: 'a', priority: 50 });
    const plan = await t.device.updater.plan({ fetcher });
    assert.deepEqual(
      plan.steps.map((s) => formatUpdaterStep(s)),
      ['install b 2.1: dependency of a', 'install a 1.0: requested'],
    );
    assert.match(plan.id, /^[0-9a-f]{12}$/);
    assert.deepEqual(plan.approval, { kind: 'not-needed' });
    assert.deepEqual(plan.feeds, [{ feed: 'main', result: 'updated' }]);
    assert.deepEqual(await store(t), [], 'plan installs nothing');
  });

  test('run applies the plan at once (approval off) and logs one block', async () => {
    const outcome = await t.device.updater.run({ fetcher, trigger: 'cli' });
    assert.equal(outcome.result, 'applied');
    assert.equal(outcome.steps, 2);
    assert.equal(outcome.reboot, 'pending');
    assert.deepEqual(await store(t), ['a@1.0', 'b@2.1']);
    const block = await lastBlock(t);
    assert.equal(block[0], '---- updater run (run) ----');
    assert.ok(
      block.includes(
        `updater: plan ${outcome.planId}: 2 steps, ${block.find((l) => l.includes('to download'))?.split(', ')[1]}`,
      ),
    );
    assert.ok(block.includes('updater: install b 2.1: dependency of a'), block.join('\n'));
    assert.ok(
      block.some((l) => /^install b 2\.1 \(feed main: .*\) Signed: OK; dependency of a/.test(l)),
      block.join('\n'),
    );
    assert.equal(
      block.at(-1),
      `updater: result: applied plan ${outcome.planId} (2 steps); takes effect at the next reboot`,
    );
    const status = await t.device.updater.status();
    assert.equal(status.lastRun?.result, 'applied');
  });

  test('an unchanged feed costs one conditional request and no index download', async () => {
    feed.clear();
    const outcome = await t.device.updater.run({ fetcher, trigger: 'timer' });
    assert.equal(outcome.result, 'nothing-to-do');
    assert.deepEqual(
      feed.requests().map((r) => `${r.method} ${r.path} ${r.status}`),
      ['GET /main/Packages.sig 304'],
    );
    const current = await readFile(updaterPaths(t.device.paths).currentFile, 'utf8');
    assert.match(
      current,
      /^edgesh-updater-current 1\nuntil 0\nresult nothing-to-do [0-9a-f]{12}\nprobe http:\/\/127\.0\.0\.1:\d+\/main\/Packages\.sig "[0-9a-f]{16}" .+ GMT\n$/,
    );
  });

  test('a changed feed: the file the probe received is not asked again, the index once', async () => {
    await feed.add({ name: 'y', version: '1.0' });
    await feed.publish();
    feed.clear();
    const outcome = await t.device.updater.run({ fetcher, trigger: 'timer' });
    assert.equal(outcome.result, 'nothing-to-do');
    // Packages.sig was asked twice (the probe, then the update) before the update took the probe's bytes.
    assert.deepEqual(
      feed.requests().map((r) => `${r.method} ${r.path} ${r.status ?? 'not served'}`),
      // (The lab server records the status of what it served: this feed has no Release.)
      ['GET /main/Packages.sig 200', 'GET /main/Release not served', 'GET /main/Packages.gz 200'],
    );
    assert.ok((await t.device.feedNames()).includes('y'), 'the new index is kept');
    feed.clear();
    await t.device.updater.run({ fetcher, trigger: 'timer' });
    assert.deepEqual(
      feed.requests().map((r) => `${r.method} ${r.path} ${r.status}`),
      ['GET /main/Packages.sig 304'],
      'the probe learnt the new validators',
    );
  });

  test('any change under the lock removes the shortcut of edgesh-updater', async () => {
    await t.device.updater.setRequest({ kind: 'install', name: 'x', priority: 50 });
    await assert.rejects(access(updaterPaths(t.device.paths).currentFile));
    await t.device.updater.dropRequest('install', 'x');
  });

  test('approval on: a new version waits; approve PLAN-ID; the next run applies it', async () => {
    await t.device.updater.setApproval(true);
    await feed.add({ name: 'a', version: '1.1', depends: 'b (>= 2.0)' });
    await feed.publish();
    const waiting = await t.device.updater.run({ fetcher, trigger: 'timer' });
    assert.equal(waiting.result, 'waiting');
    assert.match(waiting.message ?? '', /waits for approval \(updater approve [0-9a-f]{12}\)/);
    assert.deepEqual(await store(t), ['a@1.0', 'b@2.1'], 'nothing changed');
    const status = await t.device.updater.status();
    assert.equal(status.pending?.id, waiting.planId);
    await t.device.updater.approve(waiting.planId!);
    const applied = await t.device.updater.run({ fetcher, trigger: 'timer' });
    assert.equal(applied.result, 'applied');
    assert.equal(applied.planId, waiting.planId);
    assert.deepEqual(await store(t), ['a@1.1', 'b@2.1']);
    assert.deepEqual((await t.device.updater.status()).approved, [], 'the approval is used');
    await t.device.updater.setApproval(false);
  });

  test('dropping a request removes its package and what only it needed: "not requested"', async () => {
    await t.device.updater.dropRequest('install', 'a');
    const plan = await t.device.updater.plan({ fetcher });
    assert.deepEqual(
      plan.steps.map((s) => formatUpdaterStep(s)),
      ['remove a 1.1: not requested', 'remove b 2.1: not requested'],
    );
    await t.device.updater.setRequest({ kind: 'install', name: 'a', priority: 50 });
  });

  test('package install NAME records a request, package remove drops it; a file install is a local request', async () => {
    const plan = await t.device.planFeeds({ requests: [{ kind: 'install', name: 'x' }] });
    await t.device.applyPlan(plan, { fetcher });
    let status = await t.device.updater.status();
    assert.deepEqual(
      status.requests.map((r) => `${r.source} ${r.kind} ${r.name}`),
      ['explicit install a', 'package install x'],
    );
    const removal = await t.device.planRemove(['x']);
    await t.device.applyPlan(removal, { fetcher });
    await installFile(
      t.device,
      await buildPackage(t.root, { name: 'hello', version: '1.2.0', sign: t.vendorKey }),
    );
    status = await t.device.updater.status();
    assert.deepEqual(
      status.requests.map(
        (r) =>
          `${r.source} ${r.kind} ${r.name}${r.constraint ? ` ${r.constraint.relation} ${r.constraint.version}` : ''}`,
      ),
      ['explicit install a', 'local install hello = 1.2.0'],
    );
    const run = await t.device.updater.run({ fetcher, trigger: 'cli' });
    assert.equal(run.result, 'nothing-to-do', 'the local package is never removed for lack of a feed');
    assert.ok((await store(t)).includes('hello@1.2.0 (local)'));
  });

  test('requests of equal priority in conflict: plan fails naming both', async () => {
    await t.device.updater.setRequest({ kind: 'uninstall', name: 'b', priority: 50 });
    await assert.rejects(
      () => t.device.updater.plan({ fetcher }),
      (e: unknown) =>
        e instanceof DeviceError &&
        e.code === 'DEVICE_UNRESOLVABLE' &&
        /install a \(priority 50\) and uninstall b \(priority 50\) contradict each other/.test(e.message),
    );
    await t.device.updater.setRequest({ kind: 'uninstall', name: 'b', priority: 40 });
    const plan = await t.device.updater.plan({ fetcher });
    assert.deepEqual(plan.lost, [
      {
        request: { kind: 'uninstall', name: 'b', priority: 40 },
        to: [{ kind: 'install', name: 'a', priority: 50 }],
        installed: '2.1',
      },
    ]);
    await t.device.updater.dropRequest('uninstall', 'b');
  });

  test('a run against a feed that fails verification changes nothing', async () => {
    await feed.add({ name: 'a', version: '1.2', depends: 'b (>= 2.0)' });
    await feed.publish();
    // Packages changed after signing: the signature no longer verifies.
    feed.tamper('Packages.gz', () => gzipSync('Package: a\nVersion: 9.9\n'));
    const before = await store(t);
    await assert.rejects(
      () => t.device.updater.run({ fetcher, trigger: 'timer' }),
      (e: unknown) =>
        e instanceof DeviceError &&
        e.code === 'DEVICE_UPDATER_FEED' &&
        /feed main: .*nothing was changed/.test(e.message),
    );
    assert.deepEqual(await store(t), before);
    assert.equal((await t.device.updater.status()).lastRun?.result, 'failed');
    assert.match((await lastBlock(t)).at(-1)!, /^updater: result: failed: feed main: /);
    await feed.publish();
  });

  test('a run whose package fails verification changes nothing: a file changed after indexing, a stranger key', async () => {
    const before = await store(t);
    const requests = (await t.device.updater.status()).requests;
    const spoiled: ReadonlyArray<readonly [string, () => Promise<void>, string, RegExp]> = [
      [
        'a file changed after indexing',
        async () => {
          feed.tamper('a_1.2_all.wmopkg', (bytes) => {
            const copy = Buffer.from(bytes);
            copy[copy.length - 100]! ^= 0x40;
            return copy;
          });
        },
        'DEVICE_DOWNLOAD_MISMATCH',
        /^a 1\.2 from feed main \(a_1\.2_all\.wmopkg\) does not match the SHA-256 of its index/,
      ],
      [
        'signed by a key the device does not trust, indexed by the vendor',
        async () => {
          await feed.add({ name: 'a', version: '1.2', depends: 'b (>= 2.0)', sign: strangerKey() });
          await feed.publish();
        },
        // Stored, it would wait for a boot that refuses it: the device would stay on 1.1 for good.
        'DEVICE_UNTRUSTED',
        /^a 1\.2 of feed main would not be activated \(untrusted key [0-9a-f]+/,
      ],
    ];
    for (const [what, spoil, code, message] of spoiled) {
      await spoil();
      await assert.rejects(
        () => t.device.updater.run({ fetcher, trigger: 'timer' }),
        (e: unknown) =>
          e instanceof DeviceError &&
          e.code === code &&
          message.test(e.message) &&
          /; nothing was (changed|installed)$/.test(e.message),
        what,
      );
      assert.deepEqual(await store(t), before, what);
      assert.deepEqual((await t.device.updater.status()).requests, requests, what);
      assert.equal((await t.device.updater.status()).lastRun?.result, 'failed', what);
    }
    await feed.add({ name: 'a', version: '1.2', depends: 'b (>= 2.0)' });
    await feed.publish();
  });

  test('reboot auto: an applied plan boots the device', async () => {
    await t.device.updater.setReboot('auto');
    const outcome = await t.device.updater.run({ fetcher, trigger: 'cli' });
    assert.equal(outcome.result, 'applied');
    assert.equal(outcome.reboot, 'done');
    assert.ok(outcome.boot?.lines.some((l) => l.name === 'a' && l.version === '1.2' && l.activated));
    await t.device.updater.setReboot('manual');
  });
});

describe('updater and factory reset', () => {
  test('requests go but those recorded for persistent packages; settings and memory start again', async () => {
    const t = await makeTestDevice();
    const feed = await serveFeed(join(t.root, 'feed'), t.vendorKey);
    try {
      await feed.add({ name: 'keep', version: '1.0' });
      await feed.add({ name: 'lose', version: '1.0' });
      await feed.publish();
      await t.device.setFeed({ name: 'main', url: feed.url, persistent: true });
      const fetcher = transportFetcher(t.device);
      await t.device.updateFeeds({ fetcher });
      await t.device.applyPlan(await t.device.planFeeds({ requests: [{ kind: 'install', name: 'keep' }] }), {
        fetcher,
        persistent: true,
      });
      await t.device.applyPlan(await t.device.planFeeds({ requests: [{ kind: 'install', name: 'lose' }] }), {
        fetcher,
      });
      await t.device.updater.setRequest({ kind: 'uninstall', name: 'telnetd', priority: 60 });
      await t.device.updater.setApproval(true);
      await t.device.updater.setReboot('auto');
      assert.equal((await t.device.updater.run({ fetcher, trigger: 'cli' })).result, 'nothing-to-do');
      await t.device.factoryReset();
      const status = await t.device.updater.status();
      assert.deepEqual(
        status.requests.map((r) => `${r.source} ${r.kind} ${r.name}`),
        ['package install keep'],
      );
      assert.deepEqual(status.settings, { approval: false, delayHours: 0, reboot: 'manual' });
      assert.equal(status.lastRun, undefined);
    } finally {
      await feed.close();
      await t.cleanup();
    }
  });
});
