// A thread of the boot's verification (boot/verify-parallel.ts): reads and hashes the stored packages it is given.
import { parentPort } from 'node:worker_threads';
import { type FormatLimits, type PackageReading, readPackageFileBlocking } from '../format/reader.js';

/** One stored package to read. */
export interface VerifyJob {
  readonly id: number;
  readonly path: string;
  readonly limits: FormatLimits;
}

/**
 * What was read, as structured cloning delivers it (class instances as plain objects, Buffers as
 * Uint8Arrays: `reviveReading` makes it whole again), or `failed`: the caller reads that package
 * itself and meets the error first-hand.
 */
export type VerifyReply =
  | { readonly id: number; readonly reading: PackageReading }
  | { readonly id: number; readonly failed: true };

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: VerifyJob) => {
    readPackageFileBlocking(job.path, { limits: job.limits }).then(
      (reading) => port.postMessage({ id: job.id, reading } satisfies VerifyReply),
      () => port.postMessage({ id: job.id, failed: true } satisfies VerifyReply),
    );
  });
}
