// tftp against the tftp package's server and a small fault-injecting server, both in-process on loopback.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type RunningTftpServer,
  startClassicTftpServer,
  startPackageTftpServer,
} from '../../lab/tftp-server.js';
import { tftpTransport } from '../../transports/tftp.js';
import type { TransportContext } from '../../transports/types.js';
import {
  contextsFor,
  drain,
  drainError,
  faultyFiles,
  listDir,
  payload,
  scratch,
  storeTo,
} from '../helpers/transport-fixtures.js';

const good = payload(300 * 1024 + 5);
const faulty = {
  'good.wmopkg': good.data,
  ...faultyFiles(good.data, { dropAfter: 20 * 1468, stallAfter: 10 * 1468, liarAnnounces: 100 * 1024 }),
};

describe('tftp', () => {
  let work: Awaited<ReturnType<typeof scratch>>;
  let pkgServer: RunningTftpServer;
  let classic: RunningTftpServer;
  let legacy: RunningTftpServer;
  let ctx: (over?: Partial<TransportContext>) => TransportContext;

  before(async () => {
    work = await scratch();
    const root = join(work.dir, 'tftproot');
    await mkdir(root);
    pkgServer = await startPackageTftpServer(root, { 'good.wmopkg': good.data });
    classic = await startClassicTftpServer({ files: faulty });
    legacy = await startClassicTftpServer({ files: faulty, options: false });
    ctx = contextsFor(work.dir, { tftp: pkgServer.port });
  });
  after(async () => {
    await pkgServer.close();
    await classic.close();
    await legacy.close();
    await work.cleanup();
  });

  test('downloads from the tftp package server; SHA-256 matches; the origin names the port used', async () => {
    const transfer = await tftpTransport.open(
      { proto: 'tftp', host: '127.0.0.1', path: 'good.wmopkg' },
      ctx(),
    );
    assert.deepEqual(transfer.origin, {
      kind: 'remote',
      proto: 'tftp',
      host: '127.0.0.1',
      port: pkgServer.port,
    });
    assert.equal(transfer.size, good.data.length);
    assert.deepEqual(await drain(transfer), { sha256: good.sha256, bytes: good.data.length });
  });

  test('asks for blksize 1468 and tsize, never the timeout option (the library would send milliseconds)', async () => {
    const transfer = await tftpTransport.open(
      { proto: 'tftp', host: '127.0.0.1', port: classic.port, path: 'good.wmopkg' },
      ctx(),
    );
    assert.equal((await drain(transfer)).sha256, good.sha256);
    const options = classic.requests.at(-1)?.options;
    assert.equal(options?.blksize, '1468');
    assert.equal(options?.tsize, '0');
    assert.equal(options?.timeout, undefined);
  });

  test('falls back to 512-byte blocks with a server that ignores options', async () => {
    const transfer = await tftpTransport.open(
      { proto: 'tftp', host: '127.0.0.1', port: legacy.port, path: 'good.wmopkg' },
      ctx(),
    );
    assert.equal(transfer.size, undefined);
    assert.deepEqual(await drain(transfer), { sha256: good.sha256, bytes: good.data.length });
  });

  test('a missing file: "file not found" with its name', async () => {
    await assert.rejects(tftpTransport.open({ proto: 'tftp', host: '127.0.0.1', path: 'x.wmopkg' }, ctx()), {
      code: 'TRANSPORT_NOT_FOUND',
      message: 'tftp 127.0.0.1: file not found: x.wmopkg',
    });
    await assert.rejects(
      tftpTransport.open({ proto: 'tftp', host: '127.0.0.1', port: classic.port, path: 'x.wmopkg' }, ctx()),
      { code: 'TRANSPORT_NOT_FOUND', message: `tftp 127.0.0.1:${classic.port}: file not found: x.wmopkg` },
    );
  });

  test('a server that breaks off mid-transfer fails the stream; nothing is left behind', async () => {
    const transfer = await tftpTransport.open(
      { proto: 'tftp', host: '127.0.0.1', port: classic.port, path: 'drop.wmopkg' },
      ctx(),
    );
    const dest = join(work.dir, 'store');
    await mkdir(dest);
    await assert.rejects(storeTo(transfer, join(dest, 'drop.wmopkg')), {
      code: 'TRANSPORT_TRUNCATED',
      message: /Server shutting down/,
    });
    assert.deepEqual(await listDir(dest), []);
  });

  test('a server that falls silent ends with the stall timeout', async () => {
    const transfer = await tftpTransport.open(
      { proto: 'tftp', host: '127.0.0.1', port: classic.port, path: 'stall.wmopkg' },
      ctx(),
    );
    const error = await drainError(transfer);
    assert.equal(error.code, 'TRANSPORT_STALLED');
  });

  test('a host name that does not resolve: "host name not found", not the library\'s TypeError', async () => {
    // A label over 63 bytes is refused by the resolver itself: no query leaves the machine.
    const host = `${'a'.repeat(64)}.invalid`;
    await assert.rejects(tftpTransport.open({ proto: 'tftp', host, path: 'x.wmopkg' }, ctx()), {
      code: 'TRANSPORT_CONNECT',
      message: `tftp ${host}: host name not found`,
    });
  });

  test('a server that never answers ends with the connect timeout', async () => {
    // A bound UDP socket that reads nothing: the request is retransmitted into silence.
    const { createSocket } = await import('node:dgram');
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      await assert.rejects(
        tftpTransport.open(
          { proto: 'tftp', host: '127.0.0.1', port: silent.address().port, path: 'x.wmopkg' },
          ctx({ connectTimeoutMs: 300 }),
        ),
        { code: 'TRANSPORT_CONNECT_TIMEOUT', message: /no answer within 300 ms/ },
      );
    } finally {
      silent.close();
    }
  });

  test('more than the announced tsize is an error', async () => {
    const transfer = await tftpTransport.open(
      { proto: 'tftp', host: '127.0.0.1', port: classic.port, path: 'liar.wmopkg' },
      ctx(),
    );
    assert.equal(transfer.size, 100 * 1024);
    assert.equal((await drainError(transfer)).code, 'TRANSPORT_SIZE_MISMATCH');
  });

  test('an announced tsize over the cap is refused; endless data is cut at the cap', async () => {
    await assert.rejects(
      tftpTransport.open(
        { proto: 'tftp', host: '127.0.0.1', port: classic.port, path: 'huge.wmopkg' },
        ctx(),
      ),
      {
        code: 'TRANSPORT_TOO_LARGE',
      },
    );
    const transfer = await tftpTransport.open(
      { proto: 'tftp', host: '127.0.0.1', port: classic.port, path: 'endless.wmopkg' },
      ctx({ maxBytes: 1024 * 1024 }),
    );
    assert.equal((await drainError(transfer)).code, 'TRANSPORT_TOO_LARGE');
  });

  test('abort mid-transfer: TRANSPORT_ABORTED and no file left', async () => {
    const controller = new AbortController();
    const transfer = await tftpTransport.open(
      { proto: 'tftp', host: '127.0.0.1', port: classic.port, path: 'endless.wmopkg' },
      ctx({ signal: controller.signal, onProgress: () => controller.abort() }),
    );
    const dest = join(work.dir, 'abort');
    await mkdir(dest);
    await assert.rejects(storeTo(transfer, join(dest, 'x.wmopkg')), { code: 'TRANSPORT_ABORTED' });
    assert.deepEqual(await listDir(dest), []);
  });

  test('IPv6 ::1', async () => {
    const v6 = await startClassicTftpServer({ files: faulty, host: '::1' });
    try {
      const transfer = await tftpTransport.open(
        { proto: 'tftp', host: '::1', port: v6.port, path: 'good.wmopkg' },
        ctx(),
      );
      assert.deepEqual(transfer.origin, { kind: 'remote', proto: 'tftp', host: '::1', port: v6.port });
      assert.equal((await drain(transfer)).sha256, good.sha256);
    } finally {
      await v6.close();
    }
  });
});
