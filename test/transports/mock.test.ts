// The mock transport the shell's tests use: files, failures, stalls, passwords, host keys, the real policy.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MESSAGE_MAX, type TransportError } from '../../transports/errors.js';
import { createMockOpenRemote } from '../../transports/mock.js';
import { drain, drainError, payload, scratch, testContext } from '../helpers/transport-fixtures.js';

const good = payload(200 * 1024);

describe('mock transport', () => {
  let work: Awaited<ReturnType<typeof scratch>>;
  before(async () => {
    work = await scratch();
    await writeFile(join(work.dir, 'local.wmopkg'), good.data);
  });
  after(() => work.cleanup());

  test('serves buffers and local files by path, through the default policy', async () => {
    const open = createMockOpenRemote({
      files: { 'a.wmopkg': good.data, 'b.wmopkg': { file: join(work.dir, 'local.wmopkg') } },
    });
    const ctx = testContext(work.dir);
    for (const path of ['a.wmopkg', 'b.wmopkg']) {
      const transfer = await open({ host: '192.0.2.1', path }, ctx);
      assert.deepEqual(transfer.origin, { kind: 'remote', proto: 'ftp', host: '192.0.2.1', port: 9 });
      assert.deepEqual(await drain(transfer), { sha256: good.sha256, bytes: good.data.length });
    }
    assert.deepEqual(
      open.transports.ftp.opened.map((s) => s.path),
      ['a.wmopkg', 'b.wmopkg'],
    );
  });

  test('ftp down: falls back to tftp; both down: one message with both', async () => {
    const ctx = testContext(work.dir);
    const fallback = createMockOpenRemote({ files: { 'a.wmopkg': good.data }, down: ['ftp'] });
    assert.deepEqual((await fallback({ host: '192.0.2.1', path: 'a.wmopkg' }, ctx)).origin, {
      kind: 'remote',
      proto: 'tftp',
      host: '192.0.2.1',
      port: 9,
    });
    const none = createMockOpenRemote({ files: {}, down: ['ftp'] });
    await assert.rejects(none({ host: '192.0.2.1', path: 'a.wmopkg' }, ctx), {
      code: 'TRANSPORT_ALL_FAILED',
      message: 'ftp 192.0.2.1:9: connection refused; tftp 192.0.2.1: file not found: a.wmopkg',
    });
  });

  test('a long path: both failures still show, each shortened to its share of the message', async () => {
    const none = createMockOpenRemote({ files: {} });
    const path = `${'d'.repeat(400)}/a.wmopkg`;
    const error = await none({ host: '192.0.2.1', path }, testContext(work.dir)).then(
      () => assert.fail('opened'),
      (e: TransportError) => e,
    );
    assert.equal(error.code, 'TRANSPORT_ALL_FAILED');
    assert.ok(error.message.length <= MESSAGE_MAX, `${error.message.length} characters`);
    const [ftp, tftp] = error.message.split('; ');
    assert.match(ftp ?? '', /^ftp 192\.0\.2\.1:9: file not found: d+…$/);
    assert.match(tftp ?? '', /^tftp 192\.0\.2\.1: file not found: d+…$/);
  });

  test('several servers by host: each answers its own protocols with its own files', async () => {
    const open = createMockOpenRemote({
      servers: {
        '192.0.2.1': { protos: ['http'], files: { 'a.wmopkg': good.data } },
        '192.0.2.2': { protos: ['tftp'], files: { 'b.wmopkg': good.data } },
      },
    });
    const ctx = testContext(work.dir);
    const a = await open({ proto: 'http', host: '192.0.2.1', path: 'a.wmopkg' }, ctx);
    assert.deepEqual(await drain(a), { sha256: good.sha256, bytes: good.data.length });
    await assert.rejects(open({ proto: 'http', host: '192.0.2.2', path: 'b.wmopkg' }, ctx), {
      code: 'TRANSPORT_CONNECT',
      message: 'http 192.0.2.2:9: connection refused',
    });
    await assert.rejects(open({ proto: 'ftp', host: '192.0.2.3', path: 'b.wmopkg' }, ctx), {
      code: 'TRANSPORT_CONNECT',
    });
    // No protocol named: ftp is refused there, tftp serves it.
    assert.deepEqual((await open({ host: '192.0.2.2', path: 'b.wmopkg' }, ctx)).origin, {
      kind: 'remote',
      proto: 'tftp',
      host: '192.0.2.2',
      port: 9,
    });
  });

  test('a delayed answer comes after its pause; an abort meanwhile ends the opening', async () => {
    const open = createMockOpenRemote({ files: { 'a.wmopkg': { data: good.data, delayMs: 60_000 } } });
    const controller = new AbortController();
    const opening = open(
      { proto: 'ftp', host: '192.0.2.1', path: 'a.wmopkg' },
      {
        ...testContext(work.dir),
        signal: controller.signal,
      },
    );
    controller.abort();
    await assert.rejects(opening, {
      code: 'TRANSPORT_ABORTED',
      message: 'ftp 192.0.2.1:9: transfer aborted',
    });
    const quick = createMockOpenRemote({ files: { 'a.wmopkg': { data: good.data, delayMs: 1 } } });
    const transfer = await quick(
      { proto: 'ftp', host: '192.0.2.1', path: 'a.wmopkg' },
      testContext(work.dir),
    );
    assert.deepEqual(await drain(transfer), { sha256: good.sha256, bytes: good.data.length });
  });

  test('password: asked when not given, refused when wrong', async () => {
    const open = createMockOpenRemote({ files: { 'a.wmopkg': good.data }, password: 'pw' });
    const prompts: string[] = [];
    const ctx = testContext(work.dir, {
      getPassword: async (p) => {
        prompts.push(p);
        return 'pw';
      },
    });
    await drain(await open({ proto: 'sftp', host: '192.0.2.1', path: 'a.wmopkg' }, ctx));
    assert.deepEqual(prompts, ["operator@192.0.2.1's password: "]);
    await assert.rejects(open({ proto: 'ftp', host: '192.0.2.1', path: 'a.wmopkg', password: 'no' }, ctx), {
      code: 'TRANSPORT_AUTH',
      message: 'ftp 192.0.2.1:9: login refused for user operator',
    });
  });

  test('an unknown host key is put to confirmHostKey for scp and sftp', async () => {
    const open = createMockOpenRemote({
      files: { 'a.wmopkg': good.data },
      unknownHostKey: { algorithm: 'ssh-ed25519', fingerprint: 'SHA256:abc' },
    });
    await assert.rejects(open({ proto: 'scp', host: '192.0.2.1', path: 'a.wmopkg' }, testContext(work.dir)), {
      code: 'TRANSPORT_HOST_KEY_UNKNOWN',
    });
    const transfer = await open(
      { proto: 'scp', host: '192.0.2.1', path: 'a.wmopkg' },
      testContext(work.dir, { confirmHostKey: async (k) => k.fingerprint === 'SHA256:abc' }),
    );
    assert.equal((await drain(transfer)).bytes, good.data.length);
  });

  test('faults: drop, stall, lying size, endless data, abort', async () => {
    const data = good.data;
    const open = createMockOpenRemote({
      files: {
        'drop.wmopkg': { data, failAfter: 1000 },
        'stall.wmopkg': { data, stallAfter: 1000 },
        'liar.wmopkg': { data, announce: 100 },
        'endless.wmopkg': { data, endless: true },
      },
    });
    const ctx = testContext(work.dir, { stallTimeoutMs: 100, maxBytes: 1024 * 1024 });
    const code = async (path: string, c = ctx) =>
      (await drainError(await open({ proto: 'http', host: 'h', path }, c))).code;
    assert.equal(await code('drop.wmopkg'), 'TRANSPORT_TRUNCATED');
    assert.equal(await code('stall.wmopkg'), 'TRANSPORT_STALLED');
    assert.equal(await code('liar.wmopkg'), 'TRANSPORT_SIZE_MISMATCH');
    assert.equal(await code('endless.wmopkg'), 'TRANSPORT_TOO_LARGE');
    const controller = new AbortController();
    assert.equal(
      await code('endless.wmopkg', {
        ...ctx,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      }),
      'TRANSPORT_ABORTED',
    );
  });
});
