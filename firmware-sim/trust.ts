// The trust stores as the façade offers them: package keys, revocations, SSH host keys, CA certificates.
import type { Readable } from 'node:stream';
import { formatHostPort } from '../common/host.js';
import type { CaCertificateInfo, DeviceTrust, KnownHostInfo, TrustedKeyInfo, TrustedKeys } from './api.js';
import type { DeviceFile } from './config/device-file.js';
import { DeviceError } from './errors.js';
import type { Layout } from './state/layout.js';

/** What the trust stores need of the device: its paths and facts, its lock, its log, its user. */
export interface TrustHost {
  readonly paths: Layout;
  readonly user: string;
  device(): Promise<DeviceFile>;
  /** Runs `task` under the device lock, saying what was being done if it fails. */
  change<T>(doing: string, task: () => Promise<T>): Promise<T>;
  /** Runs a read without the lock, saying what was being read if it fails. */
  read<T>(doing: string, task: () => Promise<T>): Promise<T>;
  log(events: readonly string[]): Promise<void>;
}

/** Reads a small file from a stream; more than `max` bytes is refused as it arrives. */
async function readSmall(stream: Readable, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > max) {
      stream.destroy();
      throw new DeviceError('DEVICE_BAD_TRUST', `${what} refused: larger than ${max} bytes`);
    }
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

// Each store's code is loaded when it is first used: the prompt does not wait for X.509 parsing.
const keysRoom = () => import('./config/trust-keys.js');
const certificatesRoom = () => import('./config/ca-certificates.js');
const knownHostsFile = () => import('../transports/known-hosts.js');

/**
 * The device's trust stores. Every change runs under the device lock, so that it never falls in the
 * middle of an install's verification or a boot, and is written to the event log (`trust: …`, with
 * the user who made it). Keys and revocations are read by every install and boot; host keys and CA
 * certificates by the next transfer.
 */
export class LocalTrust implements DeviceTrust {
  constructor(private readonly host: TrustHost) {}

  private record(event: string): Promise<void> {
    return this.host.log([`trust: ${event}, by ${this.host.user}`]);
  }

  keys(): Promise<TrustedKeys> {
    return this.host.read('reading the trusted keys', async () =>
      (await keysRoom()).listKeys(this.host.paths, await this.host.device()),
    );
  }

  async addKey(stream: Readable): Promise<TrustedKeyInfo> {
    const { MAX_KEY_BYTES, addKey } = await keysRoom();
    const bytes = await readSmall(stream, MAX_KEY_BYTES, 'key');
    return this.host.change('adding a trusted key', async () => {
      const { info, event } = await addKey(this.host.paths, await this.host.device(), bytes);
      await this.record(event);
      return info;
    });
  }

  removeKey(keyNumber: string): Promise<readonly TrustedKeyInfo[]> {
    return this.host.change(`removing key ${keyNumber}`, async () => {
      const { removed, event } = await (await keysRoom()).removeKey(
        this.host.paths,
        await this.host.device(),
        keyNumber,
      );
      await this.record(event);
      return removed;
    });
  }

  revokeKey(keyNumber: string): Promise<boolean> {
    return this.host.change(`revoking key ${keyNumber}`, async () => {
      const { added, event } = await (await keysRoom()).revokeKey(this.host.paths, keyNumber, this.host.user);
      if (event !== undefined) await this.record(event);
      return added;
    });
  }

  knownHosts(): Promise<readonly KnownHostInfo[]> {
    return this.host.read('reading the known hosts', async () => {
      const file = await knownHostsFile();
      return file.listKnownHosts(await file.readKnownHosts(this.host.paths.knownHostsFile));
    });
  }

  knownHostEntries(host: string, port: number): Promise<readonly KnownHostInfo[]> {
    return this.host.read('reading the known hosts', async () => {
      const file = await knownHostsFile();
      return file.knownHostEntries(await file.readKnownHosts(this.host.paths.knownHostsFile), host, port);
    });
  }

  removeKnownHost(host: string, port: number): Promise<readonly KnownHostInfo[]> {
    return this.host.change('removing known host keys', async () => {
      const removed = await (await knownHostsFile()).removeKnownHost(
        this.host.paths.knownHostsFile,
        host,
        port,
      );
      // As known_hosts writes it: the port only when it is not ssh's.
      const where = formatHostPort(host, port === 22 ? undefined : port);
      if (removed.length === 0) {
        throw new DeviceError('DEVICE_NOT_TRUSTED', `no known host key of ${where} (see show hosts)`);
      }
      const keys = removed.map((r) => `${r.type} ${r.fingerprint}`).join(', ');
      await this.record(`known host keys of ${where} removed (etc/ssh/known_hosts): ${keys}`);
      return removed;
    });
  }

  certificates(): Promise<readonly CaCertificateInfo[]> {
    return this.host.read('reading the CA certificates', async () =>
      (await certificatesRoom()).listCertificates(this.host.paths),
    );
  }

  async addCertificate(stream: Readable): Promise<CaCertificateInfo> {
    const { MAX_ADDED_BYTES, addCertificate } = await certificatesRoom();
    const bytes = await readSmall(stream, MAX_ADDED_BYTES, 'CA certificate');
    return this.host.change('adding a CA certificate', async () => {
      const { info, event } = await addCertificate(this.host.paths, bytes);
      await this.record(event);
      return info;
    });
  }

  removeCertificate(name: string): Promise<readonly CaCertificateInfo[]> {
    return this.host.change('removing a CA certificate', async () => {
      const { removed, event } = await (await certificatesRoom()).removeCertificate(this.host.paths, name);
      await this.record(event);
      return removed;
    });
  }
}
