// The trust stores through the device: package keys and revocations, known SSH hosts, CA certificates;
// each change logged, each read by what uses it (install, boot, a real https server on loopback).
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { formatPublicKey, generateKeyPair, keyNumberHex } from '../../firmware-sim/format/index.js';
import { makeTestPki, type TestPki } from '../../lab/certs.js';
import { type RunningHttpServer, startHttpServer } from '../../lab/http-server.js';
import { httpsTransport } from '../../transports/http.js';
import { installFile, makeTestDevice, rejectsWith, type TestDevice } from '../helpers/device-fixtures.js';
import { buildPackage } from '../helpers/package-fixtures.js';
import { contextsFor, drain } from '../helpers/transport-fixtures.js';

const streamOf = (text: string | Buffer) => Readable.from([Buffer.from(text)]);

describe('trusted package keys and revocations', () => {
  let t: TestDevice;
  const partner = generateKeyPair('partner');
  const partnerNumber = keyNumberHex(partner.publicKey.keyNumber);
  let signedByPartner: string;
  before(async () => {
    t = await makeTestDevice({ user: 'alice' });
    signedByPartner = await buildPackage(t.root, { name: 'partnerpkg', sign: partner.secretKey });
  });
  after(() => t.cleanup());

  test('a key added is trusted by the next install and boot, and logged', async () => {
    const before = await t.device.trust.keys();
    assert.deepEqual(
      before.keys.map((k) => [k.file, k.revoked, k.anchor]),
      [['etc/wmopkg/keys/vendor.pub', false, true]],
    );
    assert.equal((await installFile(t.device, signedByPartner)).verification, 'Untrusted');
    const added = await t.device.trust.addKey(streamOf(formatPublicKey(partner.publicKey)));
    assert.deepEqual(added, {
      keyNumber: partnerNumber,
      file: `etc/wmopkg/keys/${partnerNumber}.pub`,
      comment: 'partner public key',
      revoked: false,
      anchor: false,
    });
    assert.equal((await installFile(t.device, signedByPartner)).verification, 'Signed');
    assert.equal((await t.device.boot()).lines[0]!.reason, 'activated');
    const log = await t.device.eventLog();
    assert.ok(
      log.some((l) =>
        l.endsWith(
          `trust: key ${partnerNumber} added (etc/wmopkg/keys/${partnerNumber}.pub): partner public key, by alice`,
        ),
      ),
      log.join('\n'),
    );
  });

  test('a key twice, another key under the same number, or no key at all is refused', async () => {
    await rejectsWith(
      t.device.trust.addKey(streamOf(formatPublicKey(partner.publicKey))),
      'DEVICE_BAD_TRUST',
      new RegExp(`^key ${partnerNumber} is trusted already \\(etc/wmopkg/keys/${partnerNumber}\\.pub\\)$`),
    );
    const impostor = { ...generateKeyPair('impostor').publicKey, keyNumber: partner.publicKey.keyNumber };
    await rejectsWith(
      t.device.trust.addKey(streamOf(formatPublicKey(impostor))),
      'DEVICE_BAD_TRUST',
      /^another key with the number [0-9a-f]{16} is trusted .*; remove it first \(no key [0-9a-f]{16}\)$/,
    );
    await rejectsWith(
      t.device.trust.addKey(streamOf('hello\n')),
      'DEVICE_BAD_TRUST',
      /^not a signify public key: /,
    );
    await rejectsWith(
      t.device.trust.addKey(streamOf(Buffer.alloc(5000, 0x41))),
      'DEVICE_BAD_TRUST',
      /^key refused: larger than 4096 bytes$/,
    );
  });

  test('revoking a key takes its packages out at the next boot; revoking twice changes nothing', async () => {
    assert.equal(await t.device.trust.revokeKey(partnerNumber), true);
    assert.equal(await t.device.trust.revokeKey(partnerNumber), false);
    const keys = await t.device.trust.keys();
    assert.deepEqual(keys.revoked, [partnerNumber]);
    assert.deepEqual(keys.problems, [], 'the list still parses');
    assert.equal(keys.keys.find((k) => k.keyNumber === partnerNumber)!.revoked, true);
    assert.match(
      await readFile(join(t.dir, 'etc/wmopkg/revoked'), 'utf8'),
      new RegExp(`^${partnerNumber} {2}# revoked by alice, \\d{4}-`, 'm'),
    );
    const report = await t.device.boot();
    assert.deepEqual(report.deactivated, [
      {
        name: 'partnerpkg',
        version: '1.0.0',
        reason: `revoked key ${partnerNumber}, allow-untrusted is off`,
      },
    ]);
    assert.ok(
      (await t.device.eventLog()).some((l) =>
        l.endsWith(`trust: key ${partnerNumber} revoked (etc/wmopkg/revoked), by alice`),
      ),
    );
  });

  test('a damaged revocation list keeps its bad lines, so that it still fails closed', async () => {
    const path = join(t.dir, 'etc/wmopkg/revoked');
    await writeFile(path, `${await readFile(path, 'utf8')}garbage\n`);
    const other = keyNumberHex(generateKeyPair('other').publicKey.keyNumber);
    assert.equal(await t.device.trust.revokeKey(other), true);
    const text = await readFile(path, 'utf8');
    assert.match(text, /^garbage$/m);
    assert.match(text, new RegExp(`^${other} `, 'm'));
    assert.match(
      (await t.device.trust.keys()).problems[0]!,
      /etc\/wmopkg\/revoked line \d+: expected a key number/,
    );
  });

  test('a key removed is no longer trusted; removing it again says there is none', async () => {
    const removed = await t.device.trust.removeKey(partnerNumber);
    assert.deepEqual(
      removed.map((k) => k.file),
      [`etc/wmopkg/keys/${partnerNumber}.pub`],
    );
    assert.deepEqual(
      (await t.device.trust.keys()).keys.map((k) => k.file),
      ['etc/wmopkg/keys/vendor.pub'],
    );
    await rejectsWith(
      t.device.trust.removeKey(partnerNumber),
      'DEVICE_NOT_TRUSTED',
      new RegExp(`^no trusted key ${partnerNumber} \\(see show keys\\)$`),
    );
    assert.ok(
      (await t.device.eventLog()).some((l) =>
        l.includes(`trust: key ${partnerNumber} removed (etc/wmopkg/keys/`),
      ),
    );
  });
});

/** A hashed known_hosts entry of `name`, as `ssh-keygen -H` writes it. */
function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/** An ssh-ed25519 public key blob (base64) made of one repeated byte. */
function edKey(byte: number): string {
  const type = Buffer.from('ssh-ed25519');
  const length = (n: number) => Buffer.from([0, 0, 0, n]);
  return Buffer.concat([length(type.length), type, length(32), Buffer.alloc(32, byte)]).toString('base64');
}

describe('known SSH hosts', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
    await writeFile(
      join(t.dir, 'etc/ssh/known_hosts'),
      [
        '# kept as they are: comments, other hosts, wildcards, revocations',
        `192.0.2.3 ssh-ed25519 ${edKey(1)}`,
        `[192.0.2.3]:2222 ssh-ed25519 ${edKey(2)}`,
        `${hashed('192.0.2.3')} ssh-ed25519 ${edKey(3)}`,
        `*.lab,192.0.2.* ssh-ed25519 ${edKey(4)}`,
        `@revoked 192.0.2.3 ssh-ed25519 ${edKey(5)}`,
        `192.0.2.4,192.0.2.3 ssh-ed25519 ${edKey(6)}`,
        '',
      ].join('\n'),
    );
  });
  after(() => t.cleanup());

  test('listed with their fingerprints; hashed entries as such', async () => {
    const hosts = await t.device.trust.knownHosts();
    assert.deepEqual(
      hosts.map((h) => `${h.line} ${h.marker ?? ''} ${h.hosts} ${h.type}`),
      [
        '2  192.0.2.3 ssh-ed25519',
        '3  [192.0.2.3]:2222 ssh-ed25519',
        '4  (hashed) ssh-ed25519',
        '5  *.lab,192.0.2.* ssh-ed25519',
        '6 @revoked 192.0.2.3 ssh-ed25519',
        '7  192.0.2.4,192.0.2.3 ssh-ed25519',
      ],
    );
    assert.match(hosts[0]!.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  test('forgetting a host removes its own and hashed entries, never a wildcard or a revocation', async () => {
    assert.deepEqual(
      (await t.device.trust.knownHostEntries('192.0.2.3', 22)).map((e) => e.line),
      [2, 4, 7],
    );
    const removed = await t.device.trust.removeKnownHost('192.0.2.3', 22);
    assert.deepEqual(
      removed.map((e) => e.line),
      [2, 4, 7],
    );
    const text = await readFile(join(t.dir, 'etc/ssh/known_hosts'), 'utf8');
    assert.deepEqual(
      text.split('\n').map((l) => l.split(' ')[0]),
      ['#', '[192.0.2.3]:2222', '*.lab,192.0.2.*', '@revoked', ''],
    );
    await rejectsWith(
      t.device.trust.removeKnownHost('192.0.2.3', 22),
      'DEVICE_NOT_TRUSTED',
      /^no known host key of 192\.0\.2\.3 \(see show hosts\)$/,
    );
    assert.equal((await t.device.trust.removeKnownHost('192.0.2.3', 2222)).length, 1);
    const log = await t.device.eventLog();
    assert.ok(
      log.some((l) =>
        /trust: known host keys of 192\.0\.2\.3 removed \(etc\/ssh\/known_hosts\): ssh-ed25519 SHA256:\S+, ssh-ed25519 SHA256:\S+, ssh-ed25519 SHA256:\S+, by tester$/.test(
          l,
        ),
      ),
    );
    assert.ok(log.some((l) => l.includes('trust: known host keys of 192.0.2.3:2222 removed')));
  });
});

describe('CA certificates for https', () => {
  let t: TestDevice;
  let pki: TestPki;
  let https: RunningHttpServer;
  let fetch: () => Promise<string>;
  before(async () => {
    t = await makeTestDevice();
    pki = makeTestPki();
    https = await startHttpServer({
      files: { 'pkg.wmopkg': Buffer.from('payload') },
      tls: { key: pki.serverKey, cert: pki.serverCert },
    });
    const ctx = contextsFor(t.root, { https: https.port }, { caDir: t.device.paths.caDir });
    fetch = async () =>
      (
        await drain(
          await httpsTransport.open({ proto: 'https', host: '127.0.0.1', path: 'pkg.wmopkg' }, ctx()),
        )
      ).sha256;
  });
  after(async () => {
    await https.close();
    await t.cleanup();
  });

  test('a CA added is trusted by the next https transfer; removed, no longer', async () => {
    await assert.rejects(fetch(), { code: 'TRANSPORT_TLS' });
    const added = await t.device.trust.addCertificate(streamOf(pki.caCert));
    assert.equal(added.subject, 'edgesh test CA');
    assert.match(added.name, /^ca-[0-9a-f]{16}\.pem$/);
    assert.equal(added.problem, undefined);
    assert.match(await fetch(), /^[0-9a-f]{64}$/);
    assert.deepEqual(
      (await t.device.trust.certificates()).map((c) => c.name),
      [added.name],
    );
    await rejectsWith(
      t.device.trust.addCertificate(streamOf(pki.caCert)),
      'DEVICE_BAD_TRUST',
      /^CA certificate refused: edgesh test CA is trusted already \(etc\/ssl\/certs\/ca-[0-9a-f]{16}\.pem\)$/,
    );
    const removed = await t.device.trust.removeCertificate(added.name);
    assert.equal(removed[0]!.subject, 'edgesh test CA');
    await assert.rejects(fetch(), { code: 'TRANSPORT_TLS' });
    const log = await t.device.eventLog();
    assert.ok(
      log.some((l) =>
        /trust: CA certificate added \(etc\/ssl\/certs\/ca-\S+\.pem\): edgesh test CA, SHA-256 [0-9A-F:]{95}, by tester$/.test(
          l,
        ),
      ),
    );
    assert.ok(
      log.some((l) =>
        /trust: CA certificate removed \(etc\/ssl\/certs\/ca-\S+\.pem\): edgesh test CA, by tester$/.test(l),
      ),
    );
  });

  test('a server certificate, two certificates, or no certificate is refused', async () => {
    await rejectsWith(
      t.device.trust.addCertificate(streamOf(pki.serverCert)),
      'DEVICE_BAD_TRUST',
      /^CA certificate refused: 127\.0\.0\.1: not a CA certificate \(a server certificate\?\)$/,
    );
    await rejectsWith(
      t.device.trust.addCertificate(streamOf(`${pki.caCert}${pki.caCert}`)),
      'DEVICE_BAD_TRUST',
      /more than one certificate; add them one by one/,
    );
    await rejectsWith(
      t.device.trust.addCertificate(streamOf('hello\n')),
      'DEVICE_BAD_TRUST',
      /not a PEM certificate/,
    );
    await rejectsWith(
      t.device.trust.removeCertificate('nothere.pem'),
      'DEVICE_NOT_TRUSTED',
      /^no certificate file "nothere\.pem" in etc\/ssl\/certs\/ \(see show certificates\)$/,
    );
    assert.deepEqual(await t.device.trust.certificates(), []);
  });
});
