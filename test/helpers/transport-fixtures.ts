// Test fixtures for transports: served files with faults, a context with small timeouts, sinks that hash or store.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Transfer, TransferProgress, TransportContext } from '../../transports/types.js';

export { faultyFiles, type Served, type ServedFile, servedFile } from '../../lab/served.js';

/** Random bytes and their SHA-256 (hex). */
export function payload(size: number): { data: Buffer; sha256: string } {
  const data = randomBytes(size);
  return { data, sha256: sha256(data) };
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A scratch directory removed by `cleanup`. */
export async function scratch(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'edgesh-transports-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Default ports nobody listens on; tests set the one of their server. */
export const UNUSED_PORTS: TransportContext['defaultPorts'] = {
  ftp: 9,
  tftp: 9,
  scp: 9,
  sftp: 9,
  http: 9,
  https: 9,
};

/** A context for tests: small, bounded timeouts; known_hosts and CA directory in `dir`; no prompts. */
export function testContext(dir: string, overrides: Partial<TransportContext> = {}): TransportContext {
  return {
    defaultPorts: UNUSED_PORTS,
    user: 'operator',
    knownHostsFile: join(dir, 'known_hosts'),
    caDir: join(dir, 'certs'),
    sshKeyFiles: [],
    maxBytes: 64 * 1024 * 1024,
    connectTimeoutMs: 3000,
    stallTimeoutMs: 400,
    ...overrides,
  };
}

/**
 * The contexts of one server's tests: `testContext` in `dir`, the servers' ports as the defaults (the
 * others unused), `fixed` on top, and each call's overrides over that.
 */
export function contextsFor(
  dir: string,
  ports: Partial<TransportContext['defaultPorts']>,
  fixed: Partial<TransportContext> = {},
): (over?: Partial<TransportContext>) => TransportContext {
  return (over = {}) => testContext(dir, { defaultPorts: { ...UNUSED_PORTS, ...ports }, ...fixed, ...over });
}

/** Reads a transfer to its end: SHA-256 and byte count, and every progress report seen. */
export async function drain(transfer: Transfer): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of transfer.stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Reads a transfer to its end and returns the error it fails with (or throws if it does not fail). */
export async function drainError(transfer: Transfer): Promise<Error & { code?: string }> {
  try {
    await drain(transfer);
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('the transfer did not fail');
}

/**
 * Stores a transfer the way the device does: a temporary file in the destination's directory, fsync,
 * rename; on any failure the temporary file is removed. Returns the SHA-256 of what was stored.
 */
export async function storeTo(transfer: Transfer, dest: string): Promise<string> {
  const temp = join(dirname(dest), `.part-${randomBytes(4).toString('hex')}`);
  const hash = createHash('sha256');
  const file = await open(temp, 'wx');
  try {
    await pipeline(
      transfer.stream,
      async function* (source) {
        for await (const chunk of source) {
          hash.update(chunk as Buffer);
          yield chunk;
        }
      },
      file.createWriteStream({ autoClose: false }),
    );
    await file.sync();
    await file.close();
    await rename(temp, dest);
    return hash.digest('hex');
  } catch (error) {
    await file.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Names in a directory (to show that nothing was left behind). */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** Collects progress reports; `ctx.onProgress` for a test. */
export function progressLog(): { reports: TransferProgress[]; onProgress: (p: TransferProgress) => void } {
  const reports: TransferProgress[] = [];
  return { reports, onProgress: (p) => reports.push(p) };
}

/** Resolves when `check` is true, polling on the event loop; bounded so that a test never hangs. */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
