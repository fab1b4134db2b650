// update on a real device: feeds over the stick and the in-process servers, conditional fetches, and every attack
// of the issue (a tampered index, an untrusted or revoked key, an expired or rolled-back Release, a huge stanza, a stall).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { FeedUpdateResult } from '../../../firmware-sim/api.js';
import {
  formatPublicKey,
  formatSignature,
  generateKeyPair,
  signMessage,
} from '../../../firmware-sim/format/index.js';
import { startFtpServer } from '../../../lab/ftp-server.js';
import { startHttpServer } from '../../../lab/http-server.js';
import { sshKeyPair, startSshServer } from '../../../lab/ssh-server.js';
import { startClassicTftpServer } from '../../../lab/tftp-server.js';
import { makeTestDevice, rejectsWith, type TestDevice } from '../../helpers/device-fixtures.js';
import { mediaFetcher, networkFetcher, servedTree, writeFeed } from '../../helpers/feed-device.js';

const DAY = 24 * 60 * 60 * 1000;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function outcome(results: readonly FeedUpdateResult[], name: string): FeedUpdateResult {
  const r = results.find((x) => x.name === name);
  assert.ok(r, `no result for ${name}`);
  return r;
}

function failed(r: FeedUpdateResult, code: string): void {
  assert.equal(r.outcome, 'failed', JSON.stringify(r));
  assert.equal(r.outcome === 'failed' && r.code, code, JSON.stringify(r));
}

describe('update', () => {
  let t: TestDevice;
  let stick: string;
  const stranger = generateKeyPair('stranger');
  const revoked = generateKeyPair('old vendor');

  before(async () => {
    t = await makeTestDevice();
    stick = t.device.paths.usbStick;
    // A key the device has and has revoked.
    await writeFile(join(t.device.paths.keysDir, 'old.pub'), formatPublicKey(revoked.publicKey));
    await writeFile(t.device.paths.revokedFile, `${revoked.publicKey.keyNumber.toString('hex')}\n`);
  });
  after(() => t.cleanup());

  /** A fresh feed on the stick under `name`, configured as `media://external/name`. */
  async function stickFeed(name: string, options: Parameters<typeof writeFeed>[2] = {}) {
    const dir = join(stick, name);
    await rm(dir, { recursive: true, force: true });
    await writeFeed(dir, [{ name: `${name}-a`, version: '1.0', sign: t.vendorKey }], {
      sign: t.vendorKey,
      validForDays: 7,
      ...options,
    });
    await t.device.setFeed({ name, url: `media://external/${name}`, persistent: false });
    return dir;
  }

  test('a feed on the stick: updated, then unchanged; show feeds says when, how many, how fresh', async () => {
    await stickFeed('plain');
    const first = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['plain'] });
    assert.equal(first[0]!.outcome, 'updated');
    const second = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['plain'] });
    assert.equal(second[0]!.outcome, 'unchanged');
    const status = (await t.device.feeds()).find((f) => f.name === 'plain')!;
    assert.equal(status.packages, 1);
    assert.equal(status.freshness?.state, 'protected');
    assert.equal(status.failure, undefined);
    assert.deepEqual(await t.device.feedNames().then((n) => n.includes('plain-a')), true);
  });

  test('a catalog kept by an earlier version is written again by the next update, though the index is the same', async () => {
    await stickFeed('older');
    await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['older'] });
    const stateFile = join(t.device.paths.feedsDir, 'older', 'state.json');
    const state = JSON.parse(await readFile(stateFile, 'utf8'));
    assert.equal(state.index.catalogFormat, 4);
    // As an earlier version left it: a catalog of format 3, no format in the state.
    const { catalogFormat: _, ...earlier } = state.index;
    await writeFile(join(t.device.paths.feedsDir, 'older', state.index.catalog), '["edgesh-catalog",3,0]\n');
    await writeFile(stateFile, JSON.stringify({ ...state, index: earlier }));
    await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['older'] });
    const again = JSON.parse(await readFile(stateFile, 'utf8'));
    assert.equal(again.index.catalogFormat, 4);
    assert.notEqual(again.index.catalog, state.index.catalog);
    const catalog = await readFile(join(t.device.paths.feedsDir, 'older', again.index.catalog), 'latin1');
    assert.match(catalog, /^\["edgesh-catalog",4,/);
    // The third update has nothing to write.
    const [third] = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['older'] });
    assert.equal(third!.outcome, 'unchanged');
  });

  test('without Release the feed has no freshness protection, and show feeds says so', async () => {
    const dir = join(stick, 'bare');
    await writeFeed(dir, [{ name: 'bare-a', version: '1', sign: t.vendorKey }], { sign: t.vendorKey });
    await t.device.setFeed({ name: 'bare', url: 'media://external/bare', persistent: false });
    const [r] = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['bare'] });
    assert.equal(r!.outcome === 'updated' && r!.freshness.state, 'none');
  });

  test('the signature is judged before the text: an index that does not read is refused for its signature when changed', async () => {
    // The index is scanned while its signature is checked on another thread; the order of the rules holds.
    const dir = await stickFeed('order');
    for (const file of ['Packages.gz', 'Release', 'Release.sig']) await rm(join(dir, file));
    const bad = Buffer.from('Package: order-a\nVersion: 1\nnot a field\n');
    await writeFile(join(dir, 'Packages'), bad);
    await writeFile(join(dir, 'Packages.sig'), formatSignature(signMessage(bad, t.vendorKey)));
    const [signed] = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['order'] });
    failed(signed!, 'FEED_BAD_INDEX');
    await writeFile(join(dir, 'Packages'), Buffer.from('Package: order-b\nVersion: 1\nnot a field\n'));
    const [changed] = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['order'] });
    failed(changed!, 'FEED_BAD_SIGNATURE');
    await writeFile(join(dir, 'Packages.sig'), formatSignature(signMessage(bad, stranger.secretKey)));
    const [unknown] = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['order'] });
    failed(unknown!, 'FEED_UNTRUSTED');
  });

  test('a bad feed keeps its previous index and the others are still updated', async () => {
    const good = await stickFeed('good');
    const bad = await stickFeed('bad');
    await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['good', 'bad'] });
    // The good feed gains a package; the bad one's Packages is changed after signing, and its Release
    // rewritten to match (which its signature then does not).
    await writeFeed(good, [{ name: 'good-b', version: '1', sign: t.vendorKey }], {
      sign: t.vendorKey,
      validForDays: 7,
    });
    const original = await readFile(join(bad, 'Packages'));
    const changed = Buffer.from(original.toString().replace('Version: 1.0', 'Version: 9.0'));
    await writeFile(join(bad, 'Packages'), changed);
    await rm(join(bad, 'Packages.gz'));
    const release = (await readFile(join(bad, 'Release'), 'utf8'))
      .replace(sha256(original), sha256(changed))
      .replace(/^.* Packages\.gz\n/m, '');
    await writeFile(join(bad, 'Release'), release);
    const results = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['good', 'bad'] });
    assert.equal(outcome(results, 'good').outcome, 'updated');
    failed(outcome(results, 'bad'), 'FEED_BAD_SIGNATURE');
    const r = outcome(results, 'bad');
    assert.ok(r.outcome === 'failed' && r.kept);
    const feeds = await t.device.feeds();
    assert.equal(feeds.find((f) => f.name === 'good')!.packages, 2);
    const badStatus = feeds.find((f) => f.name === 'bad')!;
    assert.equal(badStatus.packages, 1, 'the previous index is kept');
    assert.equal(badStatus.failure?.code, 'FEED_BAD_SIGNATURE');
    const versions = await t.device.availablePackages({ names: ['bad-a'] });
    assert.equal(versions[0]!.version, '1.0', 'the kept index still serves');
  });

  test('a tampered Packages (no Release to catch it first) fails its signature', async () => {
    const dir = join(stick, 'tampered');
    await writeFeed(dir, [{ name: 'tampered-a', version: '1', sign: t.vendorKey }], { sign: t.vendorKey });
    await t.device.setFeed({ name: 'tampered', url: 'media://external/tampered', persistent: false });
    const packages = await readFile(join(dir, 'Packages'), 'utf8');
    await writeFile(join(dir, 'Packages'), packages.replace('Version: 1', 'Version: 2'));
    await writeFile(join(dir, 'Packages.gz'), gzipSync(await readFile(join(dir, 'Packages'))));
    const [r] = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['tampered'] });
    failed(r!, 'FEED_BAD_SIGNATURE');
    assert.ok(r!.outcome === 'failed' && !r!.kept);
  });

  test('an index signed by an unknown key, or by a revoked key, is refused', async () => {
    await stickFeed('unknown', { sign: stranger.secretKey });
    await stickFeed('revoked', { sign: revoked.secretKey });
    const results = await t.device.updateFeeds({
      fetcher: mediaFetcher(t.device),
      names: ['unknown', 'revoked'],
    });
    failed(outcome(results, 'unknown'), 'FEED_UNTRUSTED');
    failed(outcome(results, 'revoked'), 'FEED_UNTRUSTED');
    assert.match((outcome(results, 'revoked') as { message: string }).message, /revoked key/);
  });

  test('an expired Release is refused (a stale or frozen feed)', async () => {
    await stickFeed('expired', { now: new Date(Date.now() - 10 * DAY), validForDays: 2 });
    const [r] = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['expired'] });
    failed(r!, 'FEED_EXPIRED');
  });

  test('a Release older than the last accepted is refused as a rollback, and so is one that goes away', async () => {
    const dir = await stickFeed('rollback');
    const old = join(t.root, 'rollback-old');
    await rm(old, { recursive: true, force: true });
    await cp(dir, old, { recursive: true });
    // The old copy is re-dated a day earlier (as a mirror serving yesterday's feed would be).
    await writeFeed(old, [], { sign: t.vendorKey, validForDays: 30, now: new Date(Date.now() - DAY) });
    await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['rollback'] });
    await rm(dir, { recursive: true });
    await cp(old, dir, { recursive: true });
    const [r] = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['rollback'] });
    failed(r!, 'FEED_ROLLBACK');
    await rm(join(dir, 'Release'));
    await rm(join(dir, 'Release.sig'));
    const [dropped] = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['rollback'] });
    failed(dropped!, 'FEED_ROLLBACK');
  });

  test('an index of 10 MB with one huge stanza is refused at its limit, signed or not', async () => {
    const dir = join(stick, 'huge');
    await mkdir(dir, { recursive: true });
    const stanza = (i: number) =>
      `Package: p${i}\nVersion: 1\nArchitecture: all\nFilename: p${i}.wmopkg\nSize: 10\nSHA256sum: ${'ab'.repeat(32)}\nDescription: package ${i}\n ${'x'.repeat(900)}\n`;
    const parts = Array.from({ length: 9000 }, (_, i) => stanza(i));
    parts.splice(
      4500,
      0,
      `Package: huge\nVersion: 1\nArchitecture: all\nFilename: h.wmopkg\nSize: 1\nSHA256sum: ${'cd'.repeat(32)}\nDescription: huge\n${` ${'y'.repeat(1000)}\n`.repeat(1500)}`,
    );
    const packages = Buffer.from(parts.join('\n'));
    assert.ok(packages.length > 10 * 1024 * 1024);
    await writeFile(join(dir, 'Packages'), packages);
    await writeFile(join(dir, 'Packages.sig'), formatSignature(signMessage(packages, t.vendorKey)));
    await t.device.setFeed({ name: 'huge', url: 'media://external/huge', persistent: false });
    const [r] = await t.device.updateFeeds({ fetcher: mediaFetcher(t.device), names: ['huge'] });
    failed(r!, 'FEED_TOO_LARGE');
    assert.match((r as { message: string }).message, /huge/);
    // Packages was being written while it was scanned: the refusal leaves no file of it behind.
    const left = await readdir(join(t.device.paths.feedsDir, 'huge'));
    assert.deepEqual(left, ['state.json']);
  });

  test('a password in a feed URL is refused', async () => {
    await rejectsWith(
      t.device.setFeed({ name: 'secret', url: 'ftp://admin:hunter2@192.0.2.1/feed', persistent: false }),
      'DEVICE_BAD_FEED',
    );
    assert.ok(!(await readFile(t.device.paths.feedsFile, 'utf8')).includes('hunter2'));
  });
});

describe('update over the in-process servers', () => {
  let t: TestDevice;
  let served: Record<string, Buffer>;
  const closers: Array<() => Promise<void>> = [];

  before(async () => {
    t = await makeTestDevice();
    const dir = join(t.root, 'feed');
    await writeFeed(
      dir,
      [
        { name: 'liba', version: '1.0', sign: t.vendorKey },
        { name: 'app', version: '1.0', depends: 'liba', sign: t.vendorKey },
      ],
      { sign: t.vendorKey, validForDays: 7 },
    );
    served = await servedTree(dir, 'feed');
  });
  after(async () => {
    for (const close of closers) await close();
    await t.cleanup();
  });

  test('http: the second update asks only what changed, and the server answers 304', async () => {
    const http = await startHttpServer({ files: served });
    closers.push(() => http.close());
    await t.device.setFeed({ name: 'web', url: `http://127.0.0.1:${http.port}/feed`, persistent: false });
    const [first] = await t.device.updateFeeds({ fetcher: networkFetcher(t.device), names: ['web'] });
    assert.equal(first!.outcome, 'updated', JSON.stringify(first));
    const before = http.requests.length;
    const [second] = await t.device.updateFeeds({ fetcher: networkFetcher(t.device), names: ['web'] });
    assert.equal(second!.outcome, 'unchanged');
    const again = http.requests.slice(before);
    assert.deepEqual(
      again.map((r) => `${r.path} ${r.status}`),
      ['/feed/Release 304', '/feed/Release.sig 304', '/feed/Packages.sig 304'],
      'Packages.gz is not fetched again',
    );
  });

  test('ftp, tftp, sftp and scp feeds update too; a login asks its password once', async () => {
    const ftp = await startFtpServer({ files: served, user: 'feeder', password: 'pw' });
    const tftp = await startClassicTftpServer({ files: served });
    const key = sshKeyPair();
    const ssh = await startSshServer({
      files: served,
      user: 'feeder',
      password: 'pw',
      hostKey: key.privateKey,
    });
    closers.push(
      () => ftp.close(),
      () => tftp.close(),
      () => ssh.close(),
    );
    const feeds = {
      ftp: `ftp://feeder@127.0.0.1:${ftp.port}/feed`,
      tftp: `tftp://127.0.0.1:${tftp.port}/feed`,
      sftp: `sftp://feeder@127.0.0.1:${ssh.port}/feed`,
      scp: `scp://feeder@127.0.0.1:${ssh.port}/feed`,
    };
    for (const [name, url] of Object.entries(feeds)) await t.device.setFeed({ name, url, persistent: false });
    const asked: string[] = [];
    const fetcher = networkFetcher(t.device, {
      getPassword: async (prompt) => {
        asked.push(prompt);
        return 'pw';
      },
      confirmHostKey: async () => true,
    });
    const results = await t.device.updateFeeds({ fetcher, names: Object.keys(feeds) });
    for (const r of results) assert.equal(r.outcome, 'updated', JSON.stringify(r));
    assert.equal(asked.length, 3, `one password per server and protocol: ${asked.join(' | ')}`);
  });

  test('a feed that stalls fails on its stall timeout; the others are updated', async () => {
    const stalling = { ...served, 'feed/Packages.gz': { data: served['feed/Packages.gz']!, stallAfter: 10 } };
    const slow = await startHttpServer({ files: stalling });
    const fine = await startHttpServer({ files: served });
    closers.push(
      () => slow.close(),
      () => fine.close(),
    );
    await t.device.setFeed({ name: 'slow', url: `http://127.0.0.1:${slow.port}/feed`, persistent: false });
    await t.device.setFeed({ name: 'fine', url: `http://127.0.0.1:${fine.port}/feed`, persistent: false });
    const fetcher = networkFetcher(t.device, { stallTimeoutMs: 300 });
    const results = await t.device.updateFeeds({ fetcher, names: ['slow', 'fine'] });
    failed(outcome(results, 'slow'), 'TRANSPORT_STALLED');
    assert.equal(outcome(results, 'fine').outcome, 'updated');
  });
});
