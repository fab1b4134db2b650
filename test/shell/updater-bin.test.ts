// `edgesh-updater` as cron runs it (bin/edgesh-updater, the shell script, then node): exit statuses 0/1/2,
// one line of output, the shortcut that asks one conditional request per feed and leaves node asleep.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ROOT } from '../../lab/paths.js';
import { makeTestDevice, type TestDevice } from '../helpers/device-fixtures.js';
import { type ServedFeed, serveFeed } from '../helpers/updater-fixtures.js';

const SCRIPT = join(ROOT, 'bin/edgesh-updater');
/** Whether the shortcut can run here (it needs curl; without it every run is a full one). */
const CURL = spawnSync('sh', ['-c', 'command -v curl']).status === 0;

interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the script as cron would: no terminal, a bounded time. */
function updater(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(SCRIPT, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('edgesh-updater', () => {
  let t: TestDevice;
  let feed: ServedFeed;

  before(async () => {
    t = await makeTestDevice();
    feed = await serveFeed(join(t.root, 'feed'), t.vendorKey);
    await feed.add({ name: 'a', version: '1.0' });
    await feed.publish();
    await t.device.setFeed({ name: 'main', url: feed.url, persistent: false });
    await t.device.updater.setRequest({ kind: 'install', name: 'a', priority: 50 });
  });
  after(async () => {
    await feed.close();
    await t.cleanup();
  });

  test('a plan to apply: status 0 and one line', async () => {
    const ran = await updater(['--device', t.dir]);
    assert.equal(ran.status, 0, ran.stderr);
    assert.match(
      ran.stdout,
      /^edgesh-updater: applied plan [0-9a-f]{12} \(1 step\); takes effect at the next reboot\n$/,
    );
    assert.equal(ran.stderr, '');
  });

  test('nothing changed: status 0, silent, one conditional request, no full run', async () => {
    // The run that finds nothing to do leaves the shortcut; the one after uses it.
    assert.equal((await updater(['--device', t.dir])).status, 0);
    const last = (await t.device.updater.status()).lastRun;
    feed.clear();
    const ran = await updater(['--device', t.dir, '--jitter', '0']);
    assert.equal(ran.status, 0, ran.stderr);
    assert.equal(ran.stdout, '');
    const seen = feed.requests().map((r) => `${r.method} ${r.path} ${r.status}`);
    if (CURL) {
      assert.deepEqual(seen, ['HEAD /main/Packages.sig 304']);
      assert.deepEqual((await t.device.updater.status()).lastRun, last, 'node did not run');
      const log = await t.device.eventLog();
      assert.match(
        log.at(-1)!,
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d updater run \(edgesh-updater\): feeds unchanged, plan [0-9a-f]{12}: nothing to do$/,
      );
    } else {
      assert.deepEqual(seen, ['GET /main/Packages.sig 304']);
    }
  });

  test('a configuration file edited by hand sends the next run to node', async () => {
    const requests = join(t.dir, 'etc/updater/requests');
    await writeFile(requests, await readFile(requests));
    const later = new Date(Date.now() + 5000);
    await utimes(requests, later, later);
    feed.clear();
    assert.equal((await updater(['--device', t.dir])).status, 0);
    assert.deepEqual(
      feed.requests().map((r) => `${r.method} ${r.path}`),
      ['GET /main/Packages.sig'],
    );
  });

  test('a plan waiting for approval: status 2, said on stdout, again from the shortcut', async () => {
    await t.device.updater.setApproval(true);
    await feed.add({ name: 'a', version: '1.1' });
    await feed.publish();
    const ran = await updater(['--device', t.dir]);
    assert.equal(ran.status, 2, ran.stderr);
    assert.match(
      ran.stdout,
      /^edgesh-updater: plan ([0-9a-f]{12}) waits for approval \(updater approve \1\)\n$/,
    );
    const again = await updater(['--device', t.dir]);
    assert.equal(again.status, 2);
    assert.equal(again.stdout, ran.stdout);
    await t.device.updater.setApproval(false);
  });

  test('a failure: status 1, one Error line, nothing changed', async () => {
    await feed.add({ name: 'a', version: '1.2' });
    await feed.publish();
    // Packages changed after signing: its signature no longer verifies.
    feed.tamper('Packages.gz', () => gzipSync('Package: a\nVersion: 9.9\n'));
    const ran = await updater(['--device', t.dir]);
    assert.equal(ran.status, 1);
    assert.match(ran.stderr, /^Error: feed main: .*; nothing was changed\n$/);
    assert.equal(ran.stdout, '');
    await feed.publish();
  });

  test('bad use: not a device, a bad jitter, an unknown option: status 1', async () => {
    const notDevice = await updater(['--device', join(t.root, 'nowhere')]);
    assert.equal(notDevice.status, 1);
    assert.match(notDevice.stderr, /^Error: .*nowhere is not a device directory \(no device\.json\)\n$/);
    const jitter = await updater(['--device', t.dir, '--jitter', 'soon']);
    assert.equal(jitter.status, 1);
    assert.match(jitter.stderr, /^Error: --jitter takes whole seconds/);
    const unknown = await updater(['--frobnicate']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /^Error: Unknown option '--frobnicate'/);
  });

  test('NODE_EXTRA_CA_CERTS never reaches node: one that cannot be read adds no warning', async () => {
    // node 20 would load it at start, and say `Warning: Ignoring extra certs from …` when it cannot.
    const ran = await updater(['--frobnicate'], { NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' });
    assert.equal(ran.status, 1);
    assert.match(ran.stderr, /^Error: Unknown option '--frobnicate'[^\n]*\n$/);
  });
});
