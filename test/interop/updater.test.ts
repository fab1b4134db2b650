// Interop: the updater against a feed on nginx (.ci/setup.d/50-updater.sh). Requests set from the CLI,
// plan, approve, run; a new version published with `wmopkg index --rollout a=100` and taken by
// edgesh-updater; the 304 of the next run in nginx's access log. Variables missing: the tests fail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadVendorSecretKey, openDevice, vendorKeyFiles } from '../../firmware-sim/index.js';
import { loadRecords } from '../../firmware-sim/store/packages.js';
import { buildPackage } from '../../lab/packages.js';
import { BIN, ROOT } from '../../lab/paths.js';

function need(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: .ci/setup.d/50-updater.sh must run first`);
  return value;
}

const port = need('UPDATER_HTTP_PORT');
const host = need('UPDATER_HOST');
const srv = need('UPDATER_SRV');
const accessLog = need('UPDATER_ACCESS_LOG');

/** Runs a program to its end, bounded. */
function run(command: string, args: readonly string[], input = '') {
  const r = spawnSync(command, args, { input, encoding: 'utf8', timeout: 120_000 });
  if (r.error !== undefined) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('the updater against a feed on nginx', () => {
  let work: string;
  let device: string;
  let vendor: string;
  let feedDir: string;
  let feedPath: string;
  let logAt = 0;

  const edgesh = (lines: readonly string[]) =>
    run(process.execPath, [BIN, '--device', device, '--user', 'admin'], `${lines.join('\n')}\n`);
  const updater = () => run(join(ROOT, 'bin/edgesh-updater'), ['--device', device]);
  const wmopkg = (args: readonly string[]) =>
    run(process.execPath, [join(ROOT, 'dist/bin/wmopkg.js'), ...args]);
  /** nginx's access log since the last call, one `METHOD PATH STATUS BYTES` per request to this feed. */
  const newRequests = async (): Promise<string[]> => {
    const text = await readFile(accessLog, 'utf8');
    const fresh = text.slice(logAt);
    logAt = text.length;
    return fresh.split('\n').filter((l) => l.includes(feedPath));
  };
  const store = async () =>
    [
      ...(
        await loadRecords(
          (
            await openDevice(device, { session: { user: 't', id: 't' }, vendorDir: vendor })
          ).paths,
        )
      ).records.values(),
    ]
      .map((r) => `${r.name}@${r.version}`)
      .sort();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'edgesh-updater-interop-'));
    device = join(work, 'device');
    vendor = join(work, 'vendor');
    await openDevice(device, { session: { user: 'admin', id: 'setup' }, vendorDir: vendor });
    feedPath = `/feed-${process.pid}`;
    feedDir = join(srv, feedPath);
    await mkdir(feedDir, { recursive: true });
    const key = await loadVendorSecretKey(vendor);
    await buildPackage(feedDir, { name: 'a', version: '1.0', depends: 'b', sign: key }, 'a_1.0_all.wmopkg');
    await buildPackage(feedDir, { name: 'b', version: '1.0', sign: key }, 'b_1.0_all.wmopkg');
    const indexed = wmopkg(['index', feedDir, '--sign', vendorKeyFiles(vendor).secret, '--valid-for', '7']);
    assert.equal(indexed.status, 0, indexed.stderr);
    await newRequests();
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
    await rm(feedDir, { recursive: true, force: true });
  });

  let planId = '';

  test('requests set from the CLI; plan shows the steps and the id', async () => {
    const r = edgesh([
      `package feed main http://${host}:${port}${feedPath}`,
      'updater',
      'approval on',
      'install a',
      'plan',
    ]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const m = /^Plan ([0-9a-f]{12}) \(2 steps, .* to download\):$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    planId = m[1]!;
    assert.match(r.stdout, /^ {2}install b 1\.0: dependency of a$/m);
    assert.match(r.stdout, new RegExp(`^Waits for approval: updater approve ${planId}\\.$`, 'm'));
    assert.deepEqual(await store(), []);
    const fetched = await newRequests();
    assert.ok(
      fetched.some((l) => /^GET \S+\/Packages\.gz 200 \d+$/.test(l)),
      fetched.join('\n'),
    );
  });

  test('run waits for approval; approve PLAN-ID; run applies it', async () => {
    const waiting = edgesh(['updater run']);
    assert.equal(waiting.status, 0, waiting.stderr);
    assert.match(
      waiting.stdout,
      new RegExp(`^Plan ${planId} waits for approval .*nothing was changed\\.$`, 'm'),
    );
    const r = edgesh(['updater', `approve ${planId}`, 'run', 'approval off', 'show']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^Applied plan ${planId} \\(2 steps\\)\\. Changes are applied after reboot\\.$`, 'm'),
    );
    assert.deepEqual(await store(), ['a@1.0', 'b@1.0']);
  });

  test('a new version published with Rollout: 100 is taken by edgesh-updater', async () => {
    const key = await loadVendorSecretKey(vendor);
    await buildPackage(feedDir, { name: 'a', version: '1.1', depends: 'b', sign: key }, 'a_1.1_all.wmopkg');
    // nginx's validators have one-second resolution: the new index must be newer than the last fetch.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const indexed = wmopkg([
      'index',
      feedDir,
      '--sign',
      vendorKeyFiles(vendor).secret,
      '--valid-for',
      '7',
      '--rollout',
      'a=100',
    ]);
    assert.equal(indexed.status, 0, indexed.stderr);
    assert.match(
      await readFile(join(feedDir, 'Packages'), 'utf8'),
      /Package: a\nVersion: 1\.1\n[\s\S]*?Rollout: 100\n/,
    );
    await newRequests();
    const r = updater();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^edgesh-updater: applied plan [0-9a-f]{12} \(1 step\); takes effect at the next reboot\n$/,
    );
    assert.deepEqual(await store(), ['a@1.1', 'b@1.0']);
    const fetched = await newRequests();
    assert.ok(
      fetched.some((l) => /^GET \S+\/a_1\.1_all\.wmopkg 200 \d+$/.test(l)),
      fetched.join('\n'),
    );
  });

  test('the next runs: 304 in nginx log, and the one after that only a HEAD', async () => {
    const second = updater();
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, '');
    const asked = await newRequests();
    assert.deepEqual(asked, [`GET ${feedPath}/Release 304 0`]);
    const third = updater();
    assert.equal(third.status, 0, third.stderr);
    assert.deepEqual(await newRequests(), [`HEAD ${feedPath}/Release 304 0`]);
    await stat(join(device, 'var/lib/updater/current'));
    const log = edgesh(['show log | include updater']);
    assert.match(
      log.stdout,
      /updater run \(edgesh-updater\): feeds unchanged, plan [0-9a-f]{12}: nothing to do$/m,
    );
  });
});
