// scp and sftp against an in-process ssh2 server: host keys, logins, and the same faults as every transport.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { takeReturn } from '../../common/lent.js';
import { type RunningSshServer, sshKeyPair, startSshServer } from '../../lab/ssh-server.js';
import { fingerprintOf } from '../../transports/known-hosts.js';
import { scpTransport } from '../../transports/scp.js';
import { sftpTransport } from '../../transports/sftp.js';
import type { HostKeyInfo, RemoteSource, Transport, TransportContext } from '../../transports/types.js';
import {
  drain,
  drainError,
  faultyFiles,
  listDir,
  payload,
  scratch,
  storeTo,
  testContext,
  UNUSED_PORTS,
  until,
} from '../helpers/transport-fixtures.js';

const good = payload(2 * 1024 * 1024 + 3);
/** What liar.wmopkg announces; it sends more. */
const LIAR_ANNOUNCES = 512 * 1024;
/** More than LIAR_ANNOUNCES, and the byte after them looks like an scp status (then binary follows). */
const looksLikeStatus = (status: number) => {
  const data = Buffer.from(good.data);
  data[LIAR_ANNOUNCES] = status;
  data[LIAR_ANNOUNCES + 1] = 0x07;
  data[LIAR_ANNOUNCES + 2] = 0x0a;
  return { data, announce: LIAR_ANNOUNCES };
};
const files = {
  'pkg/good.wmopkg': good.data,
  "it's here.wmopkg": good.data,
  ...faultyFiles(good.data, { dropAfter: 256 * 1024, stallAfter: 128 * 1024, liarAnnounces: LIAR_ANNOUNCES }),
  'liar-status-0.wmopkg': looksLikeStatus(0),
  'liar-status-1.wmopkg': looksLikeStatus(1),
};
const clientKey = sshKeyPair();

for (const transport of [scpTransport, sftpTransport] as Transport[]) {
  const proto = transport.name;
  describe(proto, () => {
    let work: Awaited<ReturnType<typeof scratch>>;
    let server: RunningSshServer;
    let kbd: RunningSshServer;
    let knownLine: string;
    const src = (path: string, over: Partial<RemoteSource> = {}): RemoteSource => ({
      proto,
      host: '127.0.0.1',
      path,
      user: 'admin',
      ...over,
    });

    before(async () => {
      work = await scratch();
      server = await startSshServer({
        files,
        user: 'admin',
        password: 'secret',
        authorizedKey: clientKey.publicKey,
      });
      kbd = await startSshServer({ files, user: 'admin', password: 'secret', keyboardInteractive: true });
      knownLine = `[127.0.0.1]:${server.port} ssh-ed25519 ${server.hostKeyBlob.toString('base64')}\n`;
      await writeFile(join(work.dir, 'id_ed25519'), clientKey.privateKey);
    });
    after(async () => {
      await server.close();
      await kbd.close();
      await work.cleanup();
    });

    /** A context whose known_hosts (in its own directory) holds `known` (default: the server's key). */
    const ctx = async (
      over: Partial<TransportContext> = {},
      known: string | null = knownLine,
    ): Promise<TransportContext> => {
      const dir = join(work.dir, randomBytes(4).toString('hex'));
      await mkdir(dir);
      if (known !== null) await writeFile(join(dir, 'known_hosts'), known);
      return testContext(dir, { defaultPorts: { ...UNUSED_PORTS, [proto]: server.port }, ...over });
    };

    test('downloads with a password given; SHA-256 and size match', async () => {
      const transfer = await transport.open(src('pkg/good.wmopkg', { password: 'secret' }), await ctx());
      assert.deepEqual(transfer.origin, { kind: 'remote', proto, host: '127.0.0.1', port: server.port });
      assert.equal(transfer.size, good.data.length);
      assert.deepEqual(await drain(transfer), { sha256: good.sha256, bytes: good.data.length });
    });

    test("the connection sends without Nagle's delay (small requests leave at once)", async () => {
      const calls: (boolean | undefined)[] = [];
      const original = Socket.prototype.setNoDelay;
      Socket.prototype.setNoDelay = function (this: Socket, noDelay?: boolean) {
        if (this.remotePort === server.port) calls.push(noDelay);
        return original.call(this, noDelay);
      };
      try {
        const transfer = await transport.open(src('pkg/good.wmopkg', { password: 'secret' }), await ctx());
        assert.equal((await drain(transfer)).sha256, good.sha256);
      } finally {
        Socket.prototype.setNoDelay = original;
      }
      assert.deepEqual(calls, [true]);
    });

    if (proto === 'sftp') {
      test('blocks given back by the reader are reused for later ones; the bytes stay right', async () => {
        const transfer = await transport.open(src('pkg/good.wmopkg', { password: 'secret' }), await ctx());
        const hash = createHash('sha256');
        const buffers = new Set<ArrayBufferLike>();
        let chunks = 0;
        for await (const chunk of transfer.stream as AsyncIterable<Buffer>) {
          hash.update(chunk);
          chunks += 1;
          buffers.add(chunk.buffer);
          const back = takeReturn(chunk);
          assert.ok(back, 'every block is lent');
          back();
        }
        assert.equal(hash.digest('hex'), good.sha256);
        assert.ok(chunks > 8, `${chunks} chunks`);
        assert.ok(buffers.size < chunks / 2, `${buffers.size} buffers for ${chunks} chunks`);
      });
    }

    test('a path with a quote and a space', async () => {
      const transfer = await transport.open(src("it's here.wmopkg", { password: 'secret' }), await ctx());
      assert.equal((await drain(transfer)).sha256, good.sha256);
    });

    test('key authentication with the device key: no password asked', async () => {
      let asked = 0;
      const c = await ctx({
        sshKeyFiles: [join(work.dir, 'missing_key'), join(work.dir, 'id_ed25519')],
        getPassword: async () => `${asked++}`,
      });
      const transfer = await transport.open(src('pkg/good.wmopkg'), c);
      assert.equal((await drain(transfer)).sha256, good.sha256);
      assert.equal(asked, 0);
      assert.ok(server.auth.includes('publickey:ok'));
    });

    test('the password is asked once, OpenSSH style, and the CLI user is the default login', async () => {
      const prompts: string[] = [];
      const c = await ctx({
        user: 'admin',
        getPassword: async (p) => {
          prompts.push(p);
          return 'secret';
        },
      });
      const transfer = await transport.open(src('pkg/good.wmopkg', { user: undefined as never }), c);
      assert.equal((await drain(transfer)).sha256, good.sha256);
      assert.deepEqual(prompts, ["admin@127.0.0.1's password: "]);
    });

    test('keyboard-interactive is answered with the password', async () => {
      const c = await ctx(
        { defaultPorts: { ...UNUSED_PORTS, [proto]: kbd.port }, getPassword: async () => 'secret' },
        `[127.0.0.1]:${kbd.port} ssh-ed25519 ${kbd.hostKeyBlob.toString('base64')}\n`,
      );
      const transfer = await transport.open(src('pkg/good.wmopkg'), c);
      assert.equal((await drain(transfer)).sha256, good.sha256);
      assert.ok(kbd.auth.includes('keyboard-interactive:ok'));
    });

    test('login refused names the user, never the password', async () => {
      await assert.rejects(
        transport.open(src('pkg/good.wmopkg', { password: 'wrong-pw-9' }), await ctx()),
        (error: Error & { code: string }) => {
          assert.equal(error.code, 'TRANSPORT_AUTH');
          assert.equal(error.message, `${proto} 127.0.0.1:${server.port}: login refused for user admin`);
          assert.ok(!error.message.includes('wrong-pw-9'));
          return true;
        },
      );
    });

    test('a missing file is "file not found"', async () => {
      await assert.rejects(transport.open(src('nope.wmopkg', { password: 'secret' }), await ctx()), {
        code: 'TRANSPORT_NOT_FOUND',
        message: `${proto} 127.0.0.1:${server.port}: file not found: nope.wmopkg`,
      });
    });

    test('unknown host key accepted: the operator sees the SHA256 fingerprint, known_hosts gets the key', async () => {
      const seen: HostKeyInfo[] = [];
      const c = await ctx(
        {
          confirmHostKey: async (k) => {
            seen.push(k);
            return true;
          },
        },
        null,
      );
      const transfer = await transport.open(src('pkg/good.wmopkg', { password: 'secret' }), c);
      assert.equal((await drain(transfer)).sha256, good.sha256);
      assert.deepEqual(seen, [
        {
          host: '127.0.0.1',
          port: server.port,
          algorithm: 'ssh-ed25519',
          fingerprint: fingerprintOf(server.hostKeyBlob),
        },
      ]);
      assert.match(seen[0]?.fingerprint ?? '', /^SHA256:[A-Za-z0-9+/]{43}$/);
      assert.equal(await readFile(c.knownHostsFile, 'utf8'), knownLine);
      // Known now: no second question.
      const again = await transport.open(src('pkg/good.wmopkg', { password: 'secret' }), {
        ...c,
        confirmHostKey: async () => assert.fail('asked twice'),
      });
      assert.equal((await drain(again)).bytes, good.data.length);
    });

    test('unknown host key refused (or nobody to ask): refused, known_hosts untouched', async () => {
      for (const confirmHostKey of [async () => false, undefined]) {
        const c = await ctx(confirmHostKey ? { confirmHostKey } : {}, null);
        await assert.rejects(transport.open(src('pkg/good.wmopkg', { password: 'secret' }), c), {
          code: 'TRANSPORT_HOST_KEY_UNKNOWN',
          message: /host key not accepted \(ssh-ed25519 SHA256:/,
        });
        assert.deepEqual(await listDir(join(c.knownHostsFile, '..')), []);
      }
    });

    test('changed host key: always refused, never asked', async () => {
      const other = sshKeyPair();
      const c = await ctx(
        { confirmHostKey: async () => assert.fail('a changed key must not be asked about') },
        `# device\n[127.0.0.1]:${server.port} ssh-ed25519 ${other.blob.toString('base64')}\n`,
      );
      await assert.rejects(transport.open(src('pkg/good.wmopkg', { password: 'secret' }), c), {
        code: 'TRANSPORT_HOST_KEY_CHANGED',
        message: `${proto} 127.0.0.1:${server.port}: host key changed (${fingerprintOf(server.hostKeyBlob)}); if the change is expected, remove line 2 of known_hosts`,
      });
    });

    test('a hashed known_hosts entry (ssh-keygen -H) is recognised', async () => {
      const salt = randomBytes(20);
      const hash = createHmac('sha1', salt).update(`[127.0.0.1]:${server.port}`).digest();
      const line = `|1|${salt.toString('base64')}|${hash.toString('base64')} ssh-ed25519 ${server.hostKeyBlob.toString('base64')}\n`;
      const transfer = await transport.open(
        src('pkg/good.wmopkg', { password: 'secret' }),
        await ctx({}, line),
      );
      assert.equal((await drain(transfer)).sha256, good.sha256);
    });

    test('a server that drops the connection mid-transfer fails the stream; nothing is left behind', async () => {
      const c = await ctx();
      const transfer = await transport.open(src('drop.wmopkg', { password: 'secret' }), c);
      const dest = join(work.dir, `store-${proto}`);
      await mkdir(dest);
      const error = await storeTo(transfer, join(dest, 'drop.wmopkg')).then(
        () => assert.fail('no error'),
        (e: Error & { code: string }) => e,
      );
      assert.equal(error.code, 'TRANSPORT_TRUNCATED');
      assert.deepEqual(await listDir(dest), []);
    });

    test('a stalled server ends with the stall timeout', async () => {
      const transfer = await transport.open(src('stall.wmopkg', { password: 'secret' }), await ctx());
      assert.equal((await drainError(transfer)).code, 'TRANSPORT_STALLED');
    });

    test('more than the announced size is an error', async () => {
      const transfer = await transport.open(src('liar.wmopkg', { password: 'secret' }), await ctx());
      assert.equal(transfer.size, LIAR_ANNOUNCES);
      assert.equal((await drainError(transfer)).code, 'TRANSPORT_SIZE_MISMATCH');
    });

    test('more than announced is an error even where the next byte looks like a status', async () => {
      for (const path of ['liar-status-0.wmopkg', 'liar-status-1.wmopkg']) {
        const transfer = await transport.open(src(path, { password: 'secret' }), await ctx());
        assert.equal((await drainError(transfer)).code, 'TRANSPORT_SIZE_MISMATCH', path);
      }
    });

    test('an announced size over the cap is refused before the transfer', async () => {
      await assert.rejects(transport.open(src('huge.wmopkg', { password: 'secret' }), await ctx()), {
        code: 'TRANSPORT_TOO_LARGE',
      });
    });

    test('endless data is cut at the cap', async () => {
      const transfer = await transport.open(
        src('endless.wmopkg', { password: 'secret' }),
        await ctx({ maxBytes: 5 * 1024 * 1024 }),
      );
      const error = await drainError(transfer);
      // scp announces a size (the data's), so endless data is more than announced; sftp announces none.
      assert.equal(error.code, proto === 'scp' ? 'TRANSPORT_SIZE_MISMATCH' : 'TRANSPORT_TOO_LARGE');
    });

    test('abort mid-transfer: TRANSPORT_ABORTED, connection closed, no file left', async () => {
      const controller = new AbortController();
      const before = server.connections();
      const transfer = await transport.open(
        src('endless.wmopkg', { password: 'secret' }),
        await ctx({ signal: controller.signal, onProgress: () => controller.abort() }),
      );
      const dest = join(work.dir, `abort-${proto}`);
      await mkdir(dest);
      await assert.rejects(storeTo(transfer, join(dest, 'x.wmopkg')), { code: 'TRANSPORT_ABORTED' });
      assert.deepEqual(await listDir(dest), []);
      await until(() => server.connections() < before + 1, 'the connection to close');
    });

    test('IPv6 ::1', async () => {
      const v6 = await startSshServer({ files, host: '::1', user: 'admin', password: 'secret' });
      try {
        const c = await ctx(
          { defaultPorts: { ...UNUSED_PORTS, [proto]: v6.port } },
          `[::1]:${v6.port} ssh-ed25519 ${v6.hostKeyBlob.toString('base64')}\n`,
        );
        const transfer = await transport.open(
          { proto, host: '::1', path: 'pkg/good.wmopkg', user: 'admin', password: 'secret' },
          c,
        );
        assert.deepEqual(transfer.origin, { kind: 'remote', proto, host: '::1', port: v6.port });
        assert.equal((await drain(transfer)).sha256, good.sha256);
      } finally {
        await v6.close();
      }
    });
  });
}
