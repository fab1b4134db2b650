// The registry and openRemote: lazy loading, the ftp→tftp policy over real loopback servers, bad sources.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RunningTftpServer, startPackageTftpServer } from '../../lab/tftp-server.js';
import {
  createOpenRemote,
  DEFAULT_POLICY,
  FALLBACK_REACH_TIMEOUT_MS,
  formatHostPort,
  openRemote,
  registry,
  TransportError,
} from '../../transports/index.js';
import type { PolicyStep, Transport, TransportContext } from '../../transports/types.js';
import {
  contextsFor,
  drain,
  payload,
  scratch,
  testContext,
  UNUSED_PORTS,
} from '../helpers/transport-fixtures.js';

const good = payload(100 * 1024);

describe('formatHostPort', () => {
  const cases = [
    { title: 'IPv4 with port', input: ['192.0.2.1', 21], expected: '192.0.2.1:21' },
    { title: 'IPv6 with port', input: ['2001:db8::1', 21], expected: '[2001:db8::1]:21' },
    { title: 'IPv6 loopback alone', input: ['::1', undefined], expected: '[::1]' },
    { title: 'host name alone', input: ['files.example', undefined], expected: 'files.example' },
  ] as const;
  for (const { title, input, expected } of cases) {
    test(title, () => assert.equal(formatHostPort(input[0], input[1]), expected));
  }
});

describe('registry', () => {
  test('has one lazy loader per protocol, and each loads a transport of that name', async () => {
    assert.deepEqual(Object.keys(registry).sort(), ['ftp', 'http', 'https', 'scp', 'sftp', 'tftp']);
    for (const [name, load] of Object.entries(registry)) {
      assert.equal((await load()).name, name);
    }
  });

  test('loading transports/index.js loads none of basic-ftp, ssh2, undici, tftp', async () => {
    const index = fileURLToPath(new URL('../../transports/index.js', import.meta.url));
    const script = `
      const { createRequire } = await import('node:module');
      await import(${JSON.stringify(index)});
      const cache = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(cache.filter((p) => p.includes('node_modules'))));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    assert.deepEqual(JSON.parse(stdout), []);
  });
});

describe('openRemote', () => {
  let work: Awaited<ReturnType<typeof scratch>>;
  let tftp: RunningTftpServer;
  let refused: number;
  let ctx: (over?: Partial<TransportContext>) => TransportContext;

  before(async () => {
    work = await scratch();
    const root = join(work.dir, 'root');
    await mkdir(root);
    tftp = await startPackageTftpServer(root, { 'good.wmopkg': good.data });
    // A port that refuses connections: bind, note it, close.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    refused = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    ctx = contextsFor(work.dir, { ftp: refused, tftp: tftp.port });
  });
  after(async () => {
    await tftp.close();
    await work.cleanup();
  });

  test('no protocol: ftp is down, so tftp serves the file', async () => {
    const transfer = await openRemote({ host: '127.0.0.1', path: 'good.wmopkg' }, ctx());
    assert.deepEqual(transfer.origin, { kind: 'remote', proto: 'tftp', host: '127.0.0.1', port: tftp.port });
    assert.equal((await drain(transfer)).sha256, good.sha256);
  });

  test('no protocol, a port typed for ftp: the origin after the fallback is tftp at its own port', async () => {
    const transfer = await openRemote(
      { host: '127.0.0.1', port: refused, path: 'good.wmopkg' },
      ctx({ defaultPorts: { ...UNUSED_PORTS, tftp: tftp.port } }),
    );
    assert.deepEqual(transfer.origin, { kind: 'remote', proto: 'tftp', host: '127.0.0.1', port: tftp.port });
    assert.equal((await drain(transfer)).sha256, good.sha256);
  });

  test('no protocol: each step of the policy is told, with why the one before failed', async () => {
    const steps: PolicyStep[] = [];
    const transfer = await openRemote(
      { host: '127.0.0.1', path: 'good.wmopkg' },
      ctx({ onPolicyStep: (step) => steps.push(step) }),
    );
    await drain(transfer);
    assert.deepEqual(steps, [
      { origin: `ftp 127.0.0.1:${refused}` },
      {
        origin: 'tftp 127.0.0.1',
        previous: { origin: `ftp 127.0.0.1:${refused}`, reason: 'connection refused' },
      },
    ]);
    // A named protocol is no policy: nothing to tell.
    steps.length = 0;
    await drain(
      await openRemote(
        { proto: 'tftp', host: '127.0.0.1', path: 'good.wmopkg' },
        ctx({ onPolicyStep: (step) => steps.push(step) }),
      ),
    );
    assert.deepEqual(steps, []);
  });

  test('no protocol and both fail: one message naming both failures', async () => {
    await assert.rejects(
      openRemote({ host: '127.0.0.1', path: 'x.wmopkg' }, ctx()),
      (error: TransportError) => {
        assert.equal(error.code, 'TRANSPORT_ALL_FAILED');
        assert.equal(
          error.message,
          `ftp 127.0.0.1:${refused}: connection refused; tftp 127.0.0.1: file not found: x.wmopkg`,
        );
        assert.deepEqual(
          error.failures.map((f) => f.code),
          ['TRANSPORT_CONNECT', 'TRANSPORT_NOT_FOUND'],
        );
        return true;
      },
    );
  });

  test('an explicit port is for ftp; the tftp fallback keeps its default port', async () => {
    const transfer = await openRemote(
      { host: '127.0.0.1', port: refused, path: 'good.wmopkg' },
      ctx({ defaultPorts: { ...UNUSED_PORTS, tftp: tftp.port } }),
    );
    assert.equal((await drain(transfer)).sha256, good.sha256);
  });

  test('a named protocol is used alone, with no fallback', async () => {
    await assert.rejects(openRemote({ proto: 'ftp', host: '127.0.0.1', path: 'good.wmopkg' }, ctx()), {
      code: 'TRANSPORT_CONNECT',
      message: `ftp 127.0.0.1:${refused}: connection refused`,
    });
  });

  test('an abort is not followed by a fallback', async () => {
    const calls: string[] = [];
    const fake = (name: Transport['name']): Transport => ({
      name,
      open: async (source) => {
        calls.push(source.proto);
        throw new TransportError('TRANSPORT_ABORTED', `${source.proto}: transfer aborted`);
      },
    });
    const open = createOpenRemote({ ftp: async () => fake('ftp'), tftp: async () => fake('tftp') });
    await assert.rejects(open({ host: '127.0.0.1', path: 'x.wmopkg' }, ctx()), { code: 'TRANSPORT_ABORTED' });
    assert.deepEqual(calls, ['ftp']);
  });

  test('a protocol missing from the registry is unsupported', async () => {
    const open = createOpenRemote({});
    await assert.rejects(open({ proto: 'scp', host: '127.0.0.1', path: 'x.wmopkg' }, ctx()), {
      code: 'TRANSPORT_UNSUPPORTED',
    });
  });

  const bad = [
    {
      title: 'empty host',
      source: { proto: 'http', host: '', path: 'x.wmopkg' },
      message: /invalid server address/,
    },
    {
      title: 'port out of range',
      source: { proto: 'http', host: '127.0.0.1', port: 70000, path: 'x.wmopkg' },
      message: /invalid port 70000/,
    },
    {
      title: 'empty path',
      source: { proto: 'http', host: '127.0.0.1', path: '' },
      message: /invalid file path/,
    },
    {
      title: 'control characters in the path',
      source: { proto: 'ftp', host: '127.0.0.1', path: 'a\r\nDELE x' },
      message: /control characters/,
    },
    {
      title: 'a line break in the user name',
      source: { proto: 'ftp', host: '127.0.0.1', path: 'x', user: 'a\r\nDELE x' },
      message: /invalid user name/,
    },
  ] as const;
  for (const { title, source, message } of bad) {
    test(`refuses a bad source before connecting: ${title}`, async () => {
      await assert.rejects(openRemote(source, ctx()), { code: 'TRANSPORT_BAD_SOURCE', message });
    });
  }
});

describe('fallback from an ftp server that does not answer', () => {
  let work: Awaited<ReturnType<typeof scratch>>;
  let tftp: RunningTftpServer;
  let silent: Server;
  let slowLogin: Server;
  const sockets = new Set<Socket>();
  const portOf = (server: Server) => (server.address() as { port: number }).port;
  const listen = async (server: Server) => {
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  };

  before(async () => {
    work = await scratch();
    const root = join(work.dir, 'root');
    await mkdir(root);
    tftp = await startPackageTftpServer(root, { 'good.wmopkg': good.data });
    // Accepts the connection and never says a word (a firewall's proxy, a port of another service).
    silent = createServer(() => undefined);
    await listen(silent);
    // Greets at once, then takes a second to refuse the login: a slow server, not a silent one.
    slowLogin = createServer((socket) => {
      socket.write('220 slow server\r\n');
      socket.on('data', () => {
        setTimeout(() => socket.write('530 Login incorrect.\r\n'), 1000);
      });
    });
    await listen(slowLogin);
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all([silent, slowLogin].map((s) => new Promise((r) => s.close(r))));
    await tftp.close();
    await work.cleanup();
  });

  const ctx = (ftp: number) =>
    testContext(work.dir, {
      defaultPorts: { ...UNUSED_PORTS, ftp, tftp: tftp.port },
      // Far longer than the test may run: falling back must wait for neither.
      connectTimeoutMs: 120_000,
      stallTimeoutMs: 120_000,
    });

  test('no protocol: tftp serves the file once ftp has not greeted within the reach timeout, long before the connect timeout', {
    timeout: 30_000,
  }, async () => {
    assert.ok(FALLBACK_REACH_TIMEOUT_MS <= 5000);
    const transfer = await openRemote({ host: '127.0.0.1', path: 'good.wmopkg' }, ctx(portOf(silent)));
    assert.deepEqual(transfer.origin, { kind: 'remote', proto: 'tftp', host: '127.0.0.1', port: tftp.port });
    assert.equal((await drain(transfer)).sha256, good.sha256);
  });

  test('both fail: the message says ftp did not answer, and why tftp failed', {
    timeout: 30_000,
  }, async () => {
    const open = createOpenRemote(registry, DEFAULT_POLICY, { reachTimeoutMs: 300 });
    await assert.rejects(open({ host: '127.0.0.1', path: 'x.wmopkg' }, ctx(portOf(silent))), {
      code: 'TRANSPORT_ALL_FAILED',
      message: `ftp 127.0.0.1:${portOf(silent)}: no answer within 300 ms; tftp 127.0.0.1: file not found: x.wmopkg`,
    });
  });

  test('a server that greets in time keeps the whole connect timeout for its login', {
    timeout: 30_000,
  }, async () => {
    const open = createOpenRemote(registry, DEFAULT_POLICY, { reachTimeoutMs: 300 });
    await assert.rejects(
      open({ host: '127.0.0.1', path: 'x.wmopkg', password: 'pw' }, ctx(portOf(slowLogin))),
      {
        code: 'TRANSPORT_ALL_FAILED',
        message: `ftp 127.0.0.1:${portOf(slowLogin)}: login refused for user operator; tftp 127.0.0.1: file not found: x.wmopkg`,
      },
    );
  });

  test('a named protocol has no fallback to go to: it waits the connect timeout', {
    timeout: 30_000,
  }, async () => {
    const open = createOpenRemote(registry, DEFAULT_POLICY, { reachTimeoutMs: 100 });
    await assert.rejects(
      open(
        { proto: 'ftp', host: '127.0.0.1', path: 'x.wmopkg' },
        testContext(work.dir, {
          defaultPorts: { ...UNUSED_PORTS, ftp: portOf(silent) },
          connectTimeoutMs: 600,
          stallTimeoutMs: 120_000,
        }),
      ),
      {
        code: 'TRANSPORT_CONNECT_TIMEOUT',
        message: `ftp 127.0.0.1:${portOf(silent)}: no answer within 600 ms (connect timeout)`,
      },
    );
  });
});

describe('connect timeout', () => {
  let silent: Server;
  let port: number;
  let work: Awaited<ReturnType<typeof scratch>>;
  before(async () => {
    work = await scratch();
    // Accepts connections and never says a word: no FTP greeting, no SSH banner, no HTTP answer.
    silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    port = (silent.address() as { port: number }).port;
  });
  after(async () => {
    silent.close();
    await work.cleanup();
  });
  for (const proto of ['ftp', 'scp', 'sftp', 'http'] as const) {
    test(`${proto}: a server that accepts and stays silent ends with the connect timeout`, async () => {
      const ctx = testContext(work.dir, { connectTimeoutMs: 250, stallTimeoutMs: 5000 });
      await assert.rejects(
        openRemote({ proto, host: '127.0.0.1', port, path: 'x.wmopkg', password: 'pw' }, ctx),
        {
          code: 'TRANSPORT_CONNECT_TIMEOUT',
          message: `${proto} 127.0.0.1:${port}: no answer within 250 ms (connect timeout)`,
        },
      );
    });
  }
});
