// Interop: every transport against the real daemons started by .ci/setup.d/20-transports.sh (vsftpd,
// tftpd-hpa, OpenSSH, nginx). Variables missing means the setup did not run: the tests fail, they do not skip.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { openDevice } from '../../firmware-sim/index.js';
import { openRemote } from '../../transports/index.js';
import { fingerprintOf, removeKnownHost } from '../../transports/known-hosts.js';
import type { HostKeyInfo, RemoteRequest, TransportContext } from '../../transports/types.js';
import { drain, scratch, testContext } from '../helpers/transport-fixtures.js';

const NAMES = [
  'HOST',
  'FTP_PORT',
  'TFTP_PORT',
  'SSH_PORT',
  'HTTP_PORT',
  'HTTPS_PORT',
  'USER',
  'PASSWORD',
  'FILE',
  'SHA256',
  'KNOWN_HOSTS',
  'SSH_KEY',
  'CA_DIR',
] as const;
type Name = (typeof NAMES)[number];

function env(name: Name): string {
  const value = process.env[`TRANSPORTS_${name}`];
  assert.ok(value, `TRANSPORTS_${name} is not set: run .ci/setup.d/20-transports.sh first`);
  return value;
}

describe('transports against real daemons', () => {
  let work: Awaited<ReturnType<typeof scratch>>;
  let ctx: (over?: Partial<TransportContext>) => Promise<TransportContext>;
  let host: string;
  let file: string;
  let sha256: string;
  let password: string;

  before(async () => {
    for (const name of NAMES) env(name);
    work = await scratch();
    host = env('HOST');
    file = env('FILE');
    sha256 = env('SHA256');
    password = env('PASSWORD');
    ctx = async (over = {}) => {
      // Each context gets its own copy of known_hosts, so that a test that adds a key changes nothing else.
      const dir = await mkdtemp(join(work.dir, 'ctx-'));
      await copyFile(env('KNOWN_HOSTS'), join(dir, 'known_hosts'));
      return testContext(dir, {
        defaultPorts: {
          ftp: Number(env('FTP_PORT')),
          tftp: Number(env('TFTP_PORT')),
          scp: Number(env('SSH_PORT')),
          sftp: Number(env('SSH_PORT')),
          http: Number(env('HTTP_PORT')),
          https: Number(env('HTTPS_PORT')),
        },
        user: env('USER'),
        caDir: env('CA_DIR'),
        stallTimeoutMs: 5000,
        connectTimeoutMs: 5000,
        ...over,
      });
    };
  });
  after(() => work?.cleanup());

  const good = async (request: RemoteRequest, over: Partial<TransportContext> = {}) => {
    const transfer = await openRemote(request, await ctx(over));
    const result = await drain(transfer);
    assert.equal(result.sha256, sha256);
    if (transfer.size !== undefined) assert.equal(result.bytes, transfer.size);
  };

  test('ftp (vsftpd): good download with the password asked, missing file, bad password', async () => {
    const prompts: string[] = [];
    await good(
      { proto: 'ftp', host, path: file },
      {
        getPassword: async (p) => {
          prompts.push(p);
          return password;
        },
      },
    );
    assert.deepEqual(prompts, [`${env('USER')}@${host}'s password: `]);
    await assert.rejects(openRemote({ proto: 'ftp', host, path: 'missing.wmopkg', password }, await ctx()), {
      code: 'TRANSPORT_NOT_FOUND',
    });
    await assert.rejects(
      openRemote({ proto: 'ftp', host, path: file, password: 'not-the-password' }, await ctx()),
      {
        code: 'TRANSPORT_AUTH',
        message: `ftp ${host}:${env('FTP_PORT')}: login refused for user ${env('USER')}`,
      },
    );
  });

  test('default policy (no protocol): ftp answers', async () => {
    const transfer = await openRemote({ host, path: file, password }, await ctx());
    assert.equal(transfer.origin.proto, 'ftp');
    assert.equal((await drain(transfer)).sha256, sha256);
  });

  test('tftp (tftpd-hpa): good download with the size announced, missing file', async () => {
    const transfer = await openRemote({ proto: 'tftp', host, path: file }, await ctx());
    assert.equal(typeof transfer.size, 'number');
    assert.equal((await drain(transfer)).sha256, sha256);
    await assert.rejects(openRemote({ proto: 'tftp', host, path: 'missing.wmopkg' }, await ctx()), {
      code: 'TRANSPORT_NOT_FOUND',
      message: `tftp ${host}: file not found: missing.wmopkg`,
    });
  });

  for (const proto of ['scp', 'sftp'] as const) {
    test(`${proto} (OpenSSH): password and key logins, missing file, bad password`, async () => {
      await good({ proto, host, path: file, password });
      await good({ proto, host, path: file }, { sshKeyFiles: [env('SSH_KEY')] });
      await assert.rejects(openRemote({ proto, host, path: 'missing.wmopkg', password }, await ctx()), {
        code: 'TRANSPORT_NOT_FOUND',
      });
      await assert.rejects(
        openRemote({ proto, host, path: file, password: 'not-the-password' }, await ctx()),
        {
          code: 'TRANSPORT_AUTH',
          message: `${proto} ${host}:${env('SSH_PORT')}: login refused for user ${env('USER')}`,
        },
      );
    });

    test(`${proto}: an unknown host key shows the fingerprint ssh-keygen prints; accepted, it is saved`, async () => {
      const c = await ctx({ confirmHostKey: async () => true });
      await writeFile(c.knownHostsFile, '');
      let seen: HostKeyInfo | undefined;
      const transfer = await openRemote(
        { proto, host, path: file, password },
        {
          ...c,
          confirmHostKey: async (k) => {
            seen = k;
            return true;
          },
        },
      );
      await drain(transfer);
      const { stdout } = await promisify(execFile)('ssh-keygen', ['-lf', env('KNOWN_HOSTS')]);
      assert.ok(seen && stdout.includes(seen.fingerprint), `${seen?.fingerprint} in ${stdout}`);
      // What we saved is what OpenSSH itself would accept.
      await promisify(execFile)('ssh-keygen', ['-F', `[${host}]:${env('SSH_PORT')}`, '-f', c.knownHostsFile]);
    });

    test(`${proto}: a changed host key is refused`, async () => {
      const c = await ctx();
      const key = Buffer.from(
        (await readFile(`${env('SSH_KEY')}.pub`, 'utf8')).split(' ')[1] ?? '',
        'base64',
      );
      await writeFile(
        c.knownHostsFile,
        `[${host}]:${env('SSH_PORT')} ssh-ed25519 ${key.toString('base64')}\n`,
      );
      await assert.rejects(openRemote({ proto, host, path: file, password }, c), {
        code: 'TRANSPORT_HOST_KEY_CHANGED',
        message: /host key changed \(SHA256:/,
      });
      assert.notEqual(fingerprintOf(key), '');
    });
  }

  test('trust no host forgets what ssh-keygen -R would, hashed entries included; the next login asks again', async () => {
    const c = await ctx();
    const name = `[${host}]:${env('SSH_PORT')}`;
    const other = await readFile(`${env('SSH_KEY')}.pub`, 'utf8');
    // The server's entry, another host's, then every name hashed by OpenSSH itself.
    await writeFile(
      c.knownHostsFile,
      `${await readFile(env('KNOWN_HOSTS'), 'utf8')}other.lab ${other.split(' ').slice(0, 2).join(' ')}\n`,
    );
    await promisify(execFile)('ssh-keygen', ['-H', '-f', c.knownHostsFile]);
    const removed = await removeKnownHost(c.knownHostsFile, host, Number(env('SSH_PORT')));
    assert.ok(removed.length >= 1 && removed.every((r) => r.hosts === '(hashed)'));
    await assert.rejects(promisify(execFile)('ssh-keygen', ['-F', name, '-f', c.knownHostsFile]));
    await promisify(execFile)('ssh-keygen', ['-F', 'other.lab', '-f', c.knownHostsFile]);
    let asked = false;
    const transfer = await openRemote(
      { proto: 'sftp', host, path: file, password },
      {
        ...c,
        confirmHostKey: async () => {
          asked = true;
          return true;
        },
      },
    );
    await drain(transfer);
    assert.ok(asked, 'the forgotten host key is asked about again');
  });

  test('trust certificate: nginx over https once the device trusts its CA, not before', async () => {
    const device = await openDevice(join(work.dir, 'device'), {
      session: { user: 'interop', id: 'interop' },
      vendorDir: join(work.dir, 'vendor'),
    });
    const caDir = device.paths.caDir;
    await assert.rejects(openRemote({ proto: 'https', host, path: file }, await ctx({ caDir })), {
      code: 'TRANSPORT_TLS',
    });
    const ca = (await readdir(env('CA_DIR')))[0]!;
    const added = await device.trust.addCertificate(createReadStream(join(env('CA_DIR'), ca)));
    assert.equal(added.problem, undefined);
    await good({ proto: 'https', host, path: file }, { caDir });
    await device.trust.removeCertificate(added.name);
    await assert.rejects(openRemote({ proto: 'https', host, path: file }, await ctx({ caDir })), {
      code: 'TRANSPORT_TLS',
    });
  });

  test('http (nginx): good download, 404, Basic auth asked on 401, bad password', async () => {
    await good({ proto: 'http', host, path: file });
    await assert.rejects(openRemote({ proto: 'http', host, path: 'missing.wmopkg' }, await ctx()), {
      code: 'TRANSPORT_NOT_FOUND',
    });
    await good({ proto: 'http', host, path: `private/${file}` }, { getPassword: async () => password });
    await assert.rejects(
      openRemote({ proto: 'http', host, path: `private/${file}`, password: 'not-the-password' }, await ctx()),
      {
        code: 'TRANSPORT_AUTH',
      },
    );
  });

  test('https (nginx, test CA): good download with the CA, refused without it, 404', async () => {
    await good({ proto: 'https', host, path: file });
    await assert.rejects(
      openRemote({ proto: 'https', host, path: file }, await ctx({ caDir: join(work.dir, 'none') })),
      { code: 'TRANSPORT_TLS' },
    );
    await assert.rejects(openRemote({ proto: 'https', host, path: 'missing.wmopkg' }, await ctx()), {
      code: 'TRANSPORT_NOT_FOUND',
    });
  });
});
