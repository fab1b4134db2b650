// http and https against node's own servers on loopback: statuses, redirects, Basic auth, certificates, faults.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTestPki, type TestPki } from '../../lab/certs.js';
import { type RunningHttpServer, startHttpServer } from '../../lab/http-server.js';
import type { TransportError } from '../../transports/errors.js';
import { httpsTransport, httpTransport } from '../../transports/http.js';
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
  UNUSED_PORTS,
  until,
} from '../helpers/transport-fixtures.js';

const good = payload(3 * 1024 * 1024 + 1);
const files = {
  'pkg/good.wmopkg': good.data,
  'my pkg.wmopkg': good.data,
  ...faultyFiles(good.data, { dropAfter: 300 * 1024, stallAfter: 100 * 1024, liarAnnounces: 1024 * 1024 }),
};

describe('http and https', () => {
  let work: Awaited<ReturnType<typeof scratch>>;
  let pki: TestPki;
  let http: RunningHttpServer;
  let https: RunningHttpServer;
  let authed: RunningHttpServer;
  let ctx: (over?: Partial<TransportContext>) => TransportContext;

  before(async () => {
    work = await scratch();
    pki = makeTestPki();
    http = await startHttpServer({
      files,
      redirects: { '/loop-a': '/loop-b', '/loop-b': '/loop-a', '/moved.wmopkg': '/pkg/good.wmopkg' },
    });
    https = await startHttpServer({
      files,
      tls: { key: pki.serverKey, cert: pki.serverCert },
      redirects: {},
    });
    authed = await startHttpServer({ files, auth: { user: 'admin', password: 'secret' } });
    await mkdir(join(work.dir, 'certs'));
    await writeFile(join(work.dir, 'certs', 'test-ca.pem'), pki.caCert);
    await writeFile(join(work.dir, 'certs', 'README'), 'not a certificate\n');
    ctx = contextsFor(work.dir, { http: http.port, https: https.port }, { user: 'admin' });
  });
  after(async () => {
    for (const s of [http, https, authed]) await s.close();
    await work.cleanup();
  });

  test('http: good download; SHA-256 and Content-Length match', async () => {
    const transfer = await httpTransport.open(
      { proto: 'http', host: '127.0.0.1', path: 'pkg/good.wmopkg' },
      ctx(),
    );
    assert.deepEqual(transfer.origin, { kind: 'remote', proto: 'http', host: '127.0.0.1', port: http.port });
    assert.equal(transfer.size, good.data.length);
    assert.deepEqual(await drain(transfer), { sha256: good.sha256, bytes: good.data.length });
  });

  test('a path with a space is sent percent-encoded', async () => {
    const transfer = await httpTransport.open(
      { proto: 'http', host: '127.0.0.1', path: '/my pkg.wmopkg' },
      ctx(),
    );
    assert.equal((await drain(transfer)).sha256, good.sha256);
  });

  test('https with the test CA in the device CA directory', async () => {
    const transfer = await httpsTransport.open(
      { proto: 'https', host: '127.0.0.1', path: 'pkg/good.wmopkg' },
      ctx(),
    );
    assert.equal((await drain(transfer)).sha256, good.sha256);
  });

  test('https without the CA: refused, with what to do', async () => {
    await assert.rejects(
      httpsTransport.open(
        { proto: 'https', host: '127.0.0.1', path: 'pkg/good.wmopkg' },
        ctx({ caDir: join(work.dir, 'no-certs') }),
      ),
      {
        code: 'TRANSPORT_TLS',
        message: `https 127.0.0.1:${https.port}: certificate not trusted (issuer unknown); add its CA to etc/ssl/certs/`,
      },
    );
  });

  // The operator sees one line saying what is wrong and what to do, never OpenSSL's text or codes.
  const tlsCases = [
    {
      title: 'a self-signed server certificate',
      cert: () => pki.selfSignedCert,
      message: 'certificate not trusted (self-signed); add its CA to etc/ssl/certs/',
    },
    {
      title: 'a chain that ends in a CA the device does not trust',
      cert: () => `${pki.serverCert}${pki.caCert}`,
      message: 'certificate not trusted (self-signed CA); add its CA to etc/ssl/certs/',
    },
  ];
  for (const { title, cert, message } of tlsCases) {
    test(`https refuses ${title}, in an operator's words`, async () => {
      const server = await startHttpServer({
        files,
        tls: { key: pki.serverKey, cert: cert() },
        redirects: {},
      });
      try {
        await assert.rejects(
          httpsTransport.open(
            { proto: 'https', host: '127.0.0.1', path: 'pkg/good.wmopkg' },
            ctx({ caDir: join(work.dir, 'no-certs'), defaultPorts: { ...UNUSED_PORTS, https: server.port } }),
          ),
          (error: TransportError) => {
            assert.equal(error.code, 'TRANSPORT_TLS');
            assert.equal(error.message, `https 127.0.0.1:${server.port}: ${message}`);
            return true;
          },
        );
      } finally {
        await server.close();
      }
    });
  }

  test('https to a plain http port: "does not speak TLS", not OpenSSL\'s record error', async () => {
    await assert.rejects(
      httpsTransport.open(
        { proto: 'https', host: '127.0.0.1', path: 'pkg/good.wmopkg' },
        ctx({ defaultPorts: { ...UNUSED_PORTS, https: http.port } }),
      ),
      (error: TransportError) => {
        assert.equal(error.code, 'TRANSPORT_TLS');
        assert.equal(
          error.message,
          `https 127.0.0.1:${http.port}: the server does not speak TLS on this port (plain http?)`,
        );
        assert.doesNotMatch(error.message, /SSL routines|error:[0-9A-F]{8}/);
        return true;
      },
    );
  });

  test('404 is "file not found", 403 "access denied"', async () => {
    await assert.rejects(httpTransport.open({ proto: 'http', host: '127.0.0.1', path: 'x.wmopkg' }, ctx()), {
      code: 'TRANSPORT_NOT_FOUND',
      message: `http 127.0.0.1:${http.port}: file not found: x.wmopkg (HTTP 404 Not Found)`,
    });
    await assert.rejects(
      httpTransport.open({ proto: 'http', host: '127.0.0.1', path: 'forbidden.wmopkg' }, ctx()),
      {
        code: 'TRANSPORT_ACCESS_DENIED',
      },
    );
  });

  test('a redirect is followed', async () => {
    const transfer = await httpTransport.open(
      { proto: 'http', host: '127.0.0.1', path: 'moved.wmopkg' },
      ctx(),
    );
    assert.equal((await drain(transfer)).sha256, good.sha256);
  });

  test('a redirect loop and an endless chain of redirects are refused', async () => {
    await assert.rejects(httpTransport.open({ proto: 'http', host: '127.0.0.1', path: 'loop-a' }, ctx()), {
      code: 'TRANSPORT_REDIRECT',
      message: /redirect loop/,
    });
    await assert.rejects(httpTransport.open({ proto: 'http', host: '127.0.0.1', path: 'hop/1' }, ctx()), {
      code: 'TRANSPORT_REDIRECT',
      message: /more than 5 redirects/,
    });
  });

  test('an https→http redirect is refused', async () => {
    const down = await startHttpServer({
      files,
      tls: { key: pki.serverKey, cert: pki.serverCert },
      redirects: { '/pkg.wmopkg': `http://127.0.0.1:${http.port}/pkg/good.wmopkg` },
    });
    try {
      const before = http.requests.length;
      await assert.rejects(
        httpsTransport.open(
          { proto: 'https', host: '127.0.0.1', port: down.port, path: 'pkg.wmopkg' },
          ctx(),
        ),
        {
          code: 'TRANSPORT_REDIRECT',
          message: /redirect from https to http refused/,
        },
      );
      assert.equal(http.requests.length, before, 'the http server was never asked');
    } finally {
      await down.close();
    }
  });

  test('Basic auth: given credentials are sent; a 401 asks for the password; a wrong one is refused', async () => {
    const port = authed.port;
    const direct = await httpTransport.open(
      { proto: 'http', host: '127.0.0.1', port, path: 'pkg/good.wmopkg', password: 'secret' },
      ctx(),
    );
    assert.equal((await drain(direct)).sha256, good.sha256);

    const prompts: string[] = [];
    const asked = await httpTransport.open(
      { proto: 'http', host: '127.0.0.1', port, path: 'pkg/good.wmopkg' },
      ctx({
        getPassword: async (p) => {
          prompts.push(p);
          return 'secret';
        },
      }),
    );
    assert.equal((await drain(asked)).sha256, good.sha256);
    assert.deepEqual(prompts, ["admin@127.0.0.1's password: "]);

    await assert.rejects(
      httpTransport.open(
        { proto: 'http', host: '127.0.0.1', port, path: 'pkg/good.wmopkg', password: 'bad-pw-7' },
        ctx(),
      ),
      (e: Error & { code: string }) => {
        assert.equal(e.code, 'TRANSPORT_AUTH');
        assert.equal(
          e.message,
          `http 127.0.0.1:${port}: login refused for user admin (HTTP 401 Unauthorized)`,
        );
        assert.ok(!e.message.includes('bad-pw-7'));
        return true;
      },
    );
  });

  test('credentials are not forwarded to another server by a redirect', async () => {
    const hop = await startHttpServer({
      files,
      redirects: { '/away.wmopkg': `http://localhost:${http.port}/pkg/good.wmopkg` },
    });
    try {
      const transfer = await httpTransport.open(
        { proto: 'http', host: '127.0.0.1', port: hop.port, path: 'away.wmopkg', password: 'secret' },
        ctx(),
      );
      assert.equal((await drain(transfer)).sha256, good.sha256);
      assert.equal(hop.requests.at(-1)?.authorized, true);
      assert.equal(http.requests.at(-1)?.authorized, false);
    } finally {
      await hop.close();
    }
  });

  test('a server that drops the connection mid-body fails the stream; nothing is left behind', async () => {
    const transfer = await httpTransport.open(
      { proto: 'http', host: '127.0.0.1', path: 'drop.wmopkg' },
      ctx(),
    );
    const dest = join(work.dir, 'store');
    await mkdir(dest);
    await assert.rejects(storeTo(transfer, join(dest, 'drop.wmopkg')), { code: 'TRANSPORT_TRUNCATED' });
    assert.deepEqual(await listDir(dest), []);
  });

  test('a stalled body ends with the stall timeout', async () => {
    const transfer = await httpTransport.open(
      { proto: 'http', host: '127.0.0.1', path: 'stall.wmopkg' },
      ctx(),
    );
    assert.equal((await drainError(transfer)).code, 'TRANSPORT_STALLED');
  });

  test('bytes past Content-Length never reach the reader', async () => {
    // HTTP frames the body by Content-Length: the excess is not part of the file (undici treats it as a
    // broken next response). Either the body ends at the announced size or the transfer fails; never more.
    const transfer = await httpTransport.open(
      { proto: 'http', host: '127.0.0.1', path: 'liar.wmopkg' },
      ctx(),
    );
    assert.equal(transfer.size, 1024 * 1024);
    const result = await drain(transfer).catch((e: Error & { code?: string }) => e);
    if (result instanceof Error) assert.match(String(result.code), /^TRANSPORT_/);
    else assert.equal(result.bytes, 1024 * 1024);
  });

  test('an announced size over the cap is refused; endless chunked data is cut at the cap', async () => {
    await assert.rejects(
      httpTransport.open({ proto: 'http', host: '127.0.0.1', path: 'huge.wmopkg' }, ctx()),
      { code: 'TRANSPORT_TOO_LARGE' },
    );
    const transfer = await httpTransport.open(
      { proto: 'http', host: '127.0.0.1', path: 'endless.wmopkg' },
      ctx({ maxBytes: 8 * 1024 * 1024 }),
    );
    assert.equal(transfer.size, undefined);
    assert.equal((await drainError(transfer)).code, 'TRANSPORT_TOO_LARGE');
  });

  test('abort mid-transfer: TRANSPORT_ABORTED, connection closed, no file left', async () => {
    const controller = new AbortController();
    const transfer = await httpTransport.open(
      { proto: 'http', host: '127.0.0.1', path: 'endless.wmopkg' },
      ctx({ signal: controller.signal, onProgress: () => controller.abort() }),
    );
    const dest = join(work.dir, 'abort');
    await mkdir(dest);
    await assert.rejects(storeTo(transfer, join(dest, 'x.wmopkg')), { code: 'TRANSPORT_ABORTED' });
    assert.deepEqual(await listDir(dest), []);
    await until(() => http.connections() === 0, 'the connection to close');
  });

  test('IPv6 [::1] over https (the certificate names ::1)', async () => {
    const v6 = await startHttpServer({
      files,
      host: '::1',
      tls: { key: pki.serverKey, cert: pki.serverCert },
    });
    try {
      const transfer = await httpsTransport.open(
        { proto: 'https', host: '::1', port: v6.port, path: 'pkg/good.wmopkg' },
        ctx(),
      );
      assert.deepEqual(transfer.origin, { kind: 'remote', proto: 'https', host: '::1', port: v6.port });
      assert.equal((await drain(transfer)).sha256, good.sha256);
    } finally {
      await v6.close();
    }
  });
});
