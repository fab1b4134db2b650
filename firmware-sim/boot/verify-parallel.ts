// The boot's verification on every core: stored packages are read and hashed by worker threads and this one at once.
//
// Verifying an active package means reading its stored file and hashing every member (SHA-256, about
// 1.4 GB/s per core here). One thread did that for every package in turn, one core of two idle: 100
// packages of 10 MiB took longer than one `openssl dgst` over the same files. Now each core takes the
// next package from one queue, largest first. The readings come back to the boot, which judges them
// exactly as before (`verifyStored`): only where the bytes are hashed has changed.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type DeviceFile, readLimits } from '../config/device-file.js';
import { type FormatLimits, type PackageReading, readPackageFile, reviveReading } from '../format/index.js';
import type { Layout } from '../state/layout.js';
import { packageFile } from '../store/packages.js';
import type { ActiveRecord, StoreRecord } from '../store/records.js';
import type { VerifyJob, VerifyReply } from './verify-worker.js';

/**
 * Readings of the packages a boot only verifies again (active, of the same installation as the
 * record), read on every core before the boot goes through them; by name.
 */
export function readActiveAgain(
  layout: Layout,
  device: DeviceFile,
  records: ReadonlyMap<string, StoreRecord>,
  active: ReadonlyMap<string, ActiveRecord>,
  skip: ReadonlyMap<string, unknown>,
): Promise<Map<string, PackageReading>> {
  const again = [...records.values()].filter(
    (record) => !skip.has(record.name) && active.get(record.name)?.installId === record.installId,
  );
  const packages = again.map((record) => ({
    name: record.name,
    path: packageFile(layout, record),
    size: record.size,
  }));
  return readStoredPackages(packages, readLimits(device).limits);
}

/** A stored package to verify. */
export interface StoredPackage {
  readonly name: string;
  readonly path: string;
  /** Bytes of the file, from its record (the largest go first). */
  readonly size: number;
}

/** Below this many bytes in all, starting a thread (about 30 ms of CPU) costs more than it saves. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

/**
 * How many worker threads verify `packages` on a device of `cores` cores, beside this thread: one
 * per further core, never more than there are packages to share, none where there is one core (a
 * single-core device verifies on this thread alone, as it always did) or too little to hash.
 */
export function verificationThreads(
  packages: readonly StoredPackage[],
  cores = availableParallelism(),
): number {
  const bytes = packages.reduce((sum, p) => sum + p.size, 0);
  if (bytes < PARALLEL_MIN_BYTES) return 0;
  return Math.max(0, Math.min(cores - 1, packages.length - 1));
}

/**
 * Reads (and so hashes) every package, on this thread and `threads` workers at once. Returns the
 * readings by name; a package whose reading failed on a worker is left out, so that the caller reads
 * it again on this thread and meets the error as it always did (a corrupt or missing file is rare and
 * costs one more pass). A failure on this thread is left out the same way.
 */
export async function readStoredPackages(
  packages: readonly StoredPackage[],
  limits: FormatLimits,
  threads = verificationThreads(packages),
): Promise<Map<string, PackageReading>> {
  const queue = [...packages].sort((a, b) => b.size - a.size);
  const readings = new Map<string, PackageReading>();
  const workers = Array.from({ length: threads }, () => new WorkerLane(limits));
  try {
    const here = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        try {
          readings.set(next.name, await readPackageFile(next.path, { limits }));
        } catch {
          // Left out: read again by the caller.
        }
      }
    };
    await Promise.all([here(), ...workers.map((lane) => lane.drain(queue, readings))]);
  } finally {
    await Promise.all(workers.map((lane) => lane.close()));
  }
  return readings;
}

/** One worker thread taking packages from the shared queue, one at a time. */
class WorkerLane {
  readonly #worker = new Worker(new URL('./verify-worker.js', import.meta.url));
  readonly #limits: FormatLimits;
  #waiting: ((reply: VerifyReply | undefined) => void) | undefined;
  #broken = false;

  constructor(limits: FormatLimits) {
    this.#limits = limits;
    this.#worker.on('message', (reply: VerifyReply) => this.#settle(reply));
    this.#worker.on('error', () => this.#stop());
    this.#worker.on('exit', () => this.#stop());
  }

  /** Takes packages from `queue` until it is empty (or the thread broke: its package is left out). */
  async drain(queue: StoredPackage[], readings: Map<string, PackageReading>): Promise<void> {
    let id = 0;
    while (!this.#broken) {
      const next = queue.shift();
      if (!next) return;
      const reply = await new Promise<VerifyReply | undefined>((resolve) => {
        this.#waiting = resolve;
        this.#worker.postMessage({ id: ++id, path: next.path, limits: this.#limits } satisfies VerifyJob);
      });
      if (reply && 'reading' in reply) readings.set(next.name, reviveReading(reply.reading));
    }
  }

  async close(): Promise<void> {
    this.#worker.removeAllListeners('exit');
    await this.#worker.terminate();
  }

  #settle(reply: VerifyReply | undefined): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(reply);
  }

  #stop(): void {
    this.#broken = true;
    this.#settle(undefined);
  }
}
