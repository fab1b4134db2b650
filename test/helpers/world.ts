// The world around a real device in shell tests: packages built with fixed keys, mock servers, a drive
// list, and how the device is provisioned; the services module (device-services.ts) reads it as JSON.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';
import type { ProtoName } from '../../common/vocabulary.js';
import {
  formatPublicKey,
  formatSecretKey,
  type PublicKey,
  type SecretKey,
} from '../../firmware-sim/format/index.js';
import { makeUnlockToken } from '../../firmware-sim/index.js';
import { createFirmwareSamples } from '../../firmware-sim/lifecycle/samples-firmware.js';
import type { MediaDrive } from '../../media/index.js';
import { buildPackage, file, flipByte, memberOffset } from './package-fixtures.js';

/** A key pair that is the same on every run (goldens show key numbers). */
export interface FixedKey {
  readonly secretKey: SecretKey;
  readonly publicKey: PublicKey;
}

/** An Ed25519 signify key pair from a seed byte and a key number, so that packages and tokens are the same bytes every run. */
export function fixedKey(name: string, seed: number, keyNumber: string): FixedKey {
  const raw = Buffer.alloc(32, seed);
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), raw]);
  const x = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({
    format: 'jwk',
  }).x!;
  const key = Buffer.from(x, 'base64url');
  const number = Buffer.from(keyNumber, 'hex');
  return {
    secretKey: { comment: `${name} secret key`, keyNumber: number, secret: Buffer.concat([raw, key]) },
    publicKey: { comment: `${name} public key`, keyNumber: number, key },
  };
}

/** The vendor of the test devices: their trust anchor and the signer of the packages they trust. */
export const VENDOR = fixedKey('vendor', 1, '5e8c1a3b9d0f2e47');
/** A key no device trusts. */
export const STRANGER = fixedKey('stranger', 2, '0123456789abcdef');
/** A key the devices have, and have revoked. */
export const REVOKED = fixedKey('old vendor', 3, 'a11ce5a1dc0ffee0');
/** A partner's key, on the USB stick as `partner.pub`, for `trust key`. */
export const PARTNER = fixedKey('partner', 4, 'b0a7d5e6c1f20394');
/** The serial the devices are provisioned with. */
export const SERIAL = 'WM0001';

/** A file a mock server serves: a local file, or one that stalls or comes late. */
export type ServedFile =
  | string
  | {
      readonly file: string;
      readonly stallAfter?: number;
      readonly announce?: number;
      readonly delayMs?: number;
    };

/** A mock server (transports/mock.ts: the real guard and policy, no network). */
export interface ServerConfig {
  readonly protos: readonly ProtoName[];
  readonly files: Readonly<Record<string, ServedFile>>;
  readonly password?: string;
  /** Its SSH host key is not in known_hosts: scp and sftp ask about it. */
  readonly unknownHostKey?: { readonly algorithm: string; readonly fingerprint: string };
}

/** How a new device is provisioned before its first command (as a vendor or an administrator would). */
export interface Provisioning {
  readonly serial?: string;
  readonly secureBoot?: boolean;
  /** Written into boot/config as it is (a secure-boot device refuses to set it without a token). */
  readonly allowUntrusted?: boolean;
  /** Public keys put into the trust store besides the vendor's, and key numbers revoked. */
  readonly trust?: { readonly keys?: readonly string[]; readonly revoked?: readonly string[] };
  /** Lines of `etc/ssh/known_hosts`. */
  readonly knownHosts?: readonly string[];
  /** Another session holds the device lock (a live process: pid 1). */
  readonly lockedBy?: { readonly user: string; readonly session: string; readonly since: string };
}

/** What the services module reads from `EDGESH_E2E_CONFIG`. */
export interface WorldConfig {
  /** Where the vendor keys live (the device's trust anchor). */
  readonly vendorDir?: string;
  /** Servers by host; `files` (below) is a server at every host. */
  readonly servers?: Readonly<Record<string, ServerConfig>>;
  /** Files by path, served at every host that has no server of its own. */
  readonly files?: Readonly<Record<string, string>>;
  /** Files the server sends the first `after` bytes of, then nothing more (a transfer that hangs). */
  readonly stalled?: Readonly<Record<string, { readonly file: string; readonly after: number }>>;
  readonly password?: string;
  readonly down?: readonly ProtoName[];
  /** The drive list (lsblk, the lowest layer of the media); the device's simulated stick comes after. */
  readonly drives?: readonly MediaDrive[];
  /** How long a session waits for the device lock (default: the device's). */
  readonly lockWaitMs?: number;
  readonly provision?: Provisioning;
  /**
   * Package names whose install runs into a bug (a `TypeError`), the one failure the real device
   * cannot be made to produce: the shell's answer to a bug is what is tested.
   */
  readonly bugs?: readonly string[];
}

/** A built world: its directory, its config, and a config file to hand to edgesh. */
export interface World {
  readonly dir: string;
  readonly config: WorldConfig;
  /** Writes `config` with `change` applied to a file of its own and returns the path. */
  configFile(change?: Partial<WorldConfig>): string;
}

const HOST_KEY = {
  algorithm: 'ssh-ed25519',
  fingerprint: 'SHA256:Xb0VGYt2cbdQkdOfy4vVvJ1XRlNjVuq4o5ziEnw0Zng',
};

/**
 * Builds the world of the vendor manual's examples in a new directory under /tmp (a path of fixed
 * length, so that a transcript can hide it without moving a column): the servers 192.0.2.1 (ftp,
 * tftp, http), 192.0.2.2 (tftp), 192.0.2.3 (scp, sftp, ftp behind a password and an unknown host
 * key), 2001:db8::1 (ftp), and a USB stick `/dev/sdb1` with packages and an unlock token. TEST-NET
 * addresses: nothing is ever sent anywhere. Removed when the process exits.
 */
export async function buildWorld(): Promise<World> {
  const dir = mkdtempSync('/tmp/edgesh-world-');
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const vendorDir = join(dir, 'vendor');
  await mkdir(vendorDir);
  await writeFile(join(vendorDir, 'vendor.pub'), formatPublicKey(VENDOR.publicKey));
  await writeFile(join(vendorDir, 'vendor.sec'), formatSecretKey(VENDOR.secretKey), { mode: 0o600 });
  const server = join(dir, 'server');
  const usb = join(dir, 'usb');
  for (const d of [server, join(server, 'v1'), join(server, 'v2'), usb]) await mkdir(d, { recursive: true });
  const pkg = (
    at: string,
    name: string,
    version: string,
    description: string,
    sign?: SecretKey,
    fileName?: string,
  ) =>
    buildPackage(
      at,
      {
        name,
        version,
        description,
        data: [file(`./usr/share/${name}/README`, `${name} ${version}\n`)],
        ...(sign ? { sign } : {}),
      },
      fileName,
    );
  const signed = VENDOR.secretKey;
  const pkgname = await pkg(server, 'pkgname', '5.26.0-rev0', 'Example', signed);
  const hello = await pkg(
    server,
    'hello',
    '1.0.0',
    'Hello world\n Prints a greeting.\n .\n Configured in /etc/hello.conf.',
    signed,
  );
  const tampered = await pkg(server, 'tampered', '1.0', 'Modified after signing', signed);
  await flipByte(tampered, (await memberOffset(tampered, 'data.tar.gz')) + 20);
  const files: Record<string, ServedFile> = {
    'pkgname.wmopkg': pkgname,
    'hello.wmopkg': hello,
    'unsigned.wmopkg': await pkg(server, 'unsigned', '0.1', 'A package without signature'),
    'untrusted.wmopkg': await pkg(server, 'untrusted', '0.2', 'Signed by an unknown key', STRANGER.secretKey),
    'revoked.wmopkg': await pkg(server, 'revoked', '0.3', 'Signed by a revoked key', REVOKED.secretKey),
    'tampered.wmopkg': tampered,
    'v1/pkgname.wmopkg': await pkg(join(server, 'v1'), 'pkgname', '1.0', 'Example', signed),
    'v2/pkgname.wmopkg': await pkg(join(server, 'v2'), 'pkgname', '2.0', 'Example', signed),
    'slow.wmopkg': { file: pkgname, stallAfter: 11, announce: 10 * 1024 * 1024 },
    'delayed.wmopkg': {
      file: await pkg(server, 'delayed', '1.0', 'Comes after a pause', signed),
      delayMs: 300,
    },
    'crash.wmopkg': await pkg(server, 'crash', '1', 'x', signed),
    // Text beyond ASCII, a bidi control among it: a JSON document escapes every such character.
    'intl.wmopkg': await pkg(
      server,
      'intl',
      '1.0',
      'Gr\u00fc\u00dfe aus Z\u00fcrich \u{1f600} \u202eok',
      signed,
    ),
  };
  const garbage = join(server, 'garbage.wmopkg');
  await writeFile(garbage, 'not a package');
  files['garbage.wmopkg'] = garbage;
  const token = join(dir, 'token.lic');
  await writeFile(token, makeUnlockToken(VENDOR.secretKey, SERIAL));
  for (const path of ['path/on/media', 'relative/path']) {
    await mkdir(join(usb, path), { recursive: true });
    await copyFile(pkgname, join(usb, path, 'pkgname.wmopkg'));
  }
  await pkg(usb, 'hello', '1.0.0', 'Hello world', signed);
  await writeFile(join(usb, 'partner.pub'), formatPublicKey(PARTNER.publicKey));
  const certificates = fixedCertificates();
  await writeFile(join(usb, 'lab-ca.pem'), certificates.ca);
  await writeFile(join(usb, 'server.pem'), certificates.server);
  // The firmware lifecycle's samples, as a new device's stick has them: the next firmware, a hotfix
  // for this one, removal packages.
  await createFirmwareSamples(usb, {
    vendorKey: signed,
    hostname: 'example',
    firmwareVersion: '5.26.0',
    architecture: 'arm64',
    mtime: 1_700_000_000,
  });
  await writeFile(join(usb, 'token.lic'), makeUnlockToken(VENDOR.secretKey, SERIAL));
  const config: WorldConfig = {
    vendorDir,
    servers: {
      '192.0.2.1': { protos: ['ftp', 'tftp', 'http'], files },
      '192.0.2.2': { protos: ['tftp'], files: { 'pkgname.wmopkg': pkgname } },
      '192.0.2.3': {
        protos: ['scp', 'sftp', 'ftp'],
        password: 'secret',
        unknownHostKey: HOST_KEY,
        files: { 'pkgname.wmopkg': pkgname, 'token.lic': token },
      },
      '2001:db8::1': { protos: ['ftp'], files: { 'pkgname.wmopkg': pkgname } },
    },
    drives: [
      {
        device: '/dev/sdb',
        bus: 'usb',
        role: 'external',
        description: 'USB stick',
        partitions: [{ device: '/dev/sdb1', number: 1, fsLabel: 'STICK', mountpoint: usb }],
      },
    ],
    provision: {
      serial: SERIAL,
      trust: {
        keys: [formatPublicKey(REVOKED.publicKey)],
        revoked: [REVOKED.publicKey.keyNumber.toString('hex')],
      },
    },
    bugs: ['crash'],
  };
  let n = 0;
  return {
    dir,
    config,
    configFile(change = {}) {
      const path = join(dir, `config-${n++}.json`);
      writeFileSync(path, JSON.stringify({ ...config, ...change }));
      return path;
    },
  };
}

/**
 * A CA certificate and a server certificate it signed, the same bytes on every run (goldens show their
 * fingerprints): an RSA key from a PRNG with a fixed seed (node-forge), fixed serials and validity.
 */
export function fixedCertificates(): { readonly ca: string; readonly server: string } {
  const prng = forge.random.createInstance();
  prng.seedFileSync = (needed: number) => forge.util.fillString('e', needed);
  // 1024 bits: made in a fraction of a second; the certificates are only parsed, never used for TLS.
  const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001, prng, algorithm: 'PRIMEINC' });
  const make = (serial: string, subject: string, ca: boolean): string => {
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = serial;
    cert.validity.notBefore = new Date('2026-01-01T00:00:00Z');
    cert.validity.notAfter = new Date('2046-01-01T00:00:00Z');
    cert.setSubject([{ name: 'commonName', value: subject }]);
    cert.setIssuer([{ name: 'commonName', value: 'Lab CA' }]);
    cert.setExtensions([{ name: 'basicConstraints', cA: ca, critical: true }]);
    cert.sign(keys.privateKey, forge.md.sha256.create());
    return forge.pki.certificateToPem(cert);
  };
  return { ca: make('01', 'Lab CA', true), server: make('02', 'files.lab', false) };
}
