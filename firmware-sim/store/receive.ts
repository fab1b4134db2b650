// Receiving a package into the store: one pass over the stream (file, hashes), then commit.
import { channel } from 'node:diagnostics_channel';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { renameDurably, tempPathFor, writeFileAtomic } from '../../common/atomic.js';
import { monotonicMs } from '../../common/clock.js';
import { EarlyWriteback } from '../../tuning/early-writeback.js';
import { HashThread, hashThreadPays } from '../../tuning/hash-thread.js';
import type { InstallRequest } from '../api.js';
import { checkCompatibility } from '../config/compat.js';
import { type DeviceFile, readLimits } from '../config/device-file.js';
import { DeviceError, deviceErrorOf } from '../errors.js';
import {
  compareVersions,
  FormatError,
  PackageReader,
  type PackageReading,
  type TrustStore,
  type Verdict,
  verifyPackage,
} from '../format/index.js';
import { faultPoint } from '../state/fault.js';
import type { Layout } from '../state/layout.js';
import { RECORD_FILE, removeUnreferenced } from './packages.js';
import { eachBatch, GatheringWriter } from './receive-stream.js';
import { formatRecord, newInstallId, type StoreRecord } from './records.js';

/** What the install learned before committing. */
export interface Received {
  readonly tmp: string;
  readonly reading: PackageReading;
  readonly verdict: Verdict;
}

/**
 * Receives a package: writes the stream to a temporary file in the store while the same chunks go
 * through the reader (hashing every member, parsing the control archive). Nothing is read twice. On
 * any failure the temporary file is gone and the error is a `DeviceError`.
 *
 * The data archive is not inflated here: the unpacking rules are applied where files are written, at
 * activation (boot), which reads the stored file again anyway. Inflating it here as well cost about
 * 40% of a 512 MiB install.
 */
export async function receivePackage(
  layout: Layout,
  device: DeviceFile,
  trust: TrustStore,
  request: Pick<InstallRequest, 'name' | 'stream' | 'signal'>,
): Promise<Received> {
  await mkdir(layout.storeDir, { recursive: true });
  const tmp = tempPathFor(join(layout.storeDir, `${request.name}.wmopkg`), 'download');
  const handle = await open(tmp, 'wx', 0o644);
  const writeback = new EarlyWriteback(handle);
  let hashThread: HashThread | undefined;
  /** Who writes the file: decided at the first batch. */
  let file: BatchFile | undefined;
  const reader = new PackageReader({
    ...readLimits(device),
    // A large data.tar.gz is hashed on another core while this thread receives. Started in the first
    // batch, the same thread writes the file too.
    dataHash: (size) => {
      if (!hashThreadPays(size)) return undefined;
      hashThread = new HashThread(
        file === undefined ? { fd: handle.fd, onWritten: (bytes) => writeback.wrote(bytes) } : {},
      );
      return hashThread;
    },
  });
  let kept = false;
  try {
    faultPoint('install:opened');
    const stream: Readable = request.signal ? addAbortSignal(request.signal, request.stream) : request.stream;
    const diskWait = new Stopwatch();
    try {
      // The file and the reader take the same batch; neither reads it back. The file's writes run in
      // the background while the reader hashes and checks the next batch (or hands it to the hashing
      // thread). The batch's buffer is reused once its file write and its hashing are done (the reader
      // copies what it keeps).
      await eachBatch(
        stream,
        async (batch, release) => {
          let full: Promise<void> | undefined;
          if (file === undefined) {
            // The reader first: the data member's header in this batch may start the thread that writes.
            await reader.write(batch);
            file = hashThread?.writes
              ? threadFile(hashThread, writeback)
              : new GatheringWriter(handle, undefined, writeback);
            full = file.write(batch);
          } else {
            full = file.write(batch);
            await reader.write(batch);
          }
          void Promise.all([file.written(), hashThread?.idle()]).then(release);
          if (full) await diskWait.time(full);
          faultPoint('install:receive');
        },
        // The thread reads the batches in place: they must all be in shared memory.
        { copyLarge: () => hashThread?.writes === true },
      );
      await diskWait.time(file?.flush() ?? writeback.settled());
    } catch (error) {
      await (file?.flush() ?? writeback.settled()).catch(() => {});
      if (request.signal?.aborted) {
        throw new DeviceError(
          'DEVICE_ABORTED',
          `installation of ${request.name} cancelled; nothing was installed`,
        );
      }
      throw error;
    }
    const reading = await reader.end();
    await diskWait.time(handle.sync());
    faultPoint('install:received');
    publishBreakdown(reading.size, diskWait.ms, hashThread);
    const verdict = verifyPackage(reading, trust);
    kept = true;
    return { tmp, reading, verdict };
  } catch (error) {
    throw refusal(error, request.name);
  } finally {
    // The thread first: it may still be writing to the file's descriptor.
    await hashThread?.close();
    await handle.close().catch(() => {});
    if (!kept) await rm(tmp, { force: true });
  }
}

/** Where the batches of a receive are written: this thread's GatheringWriter, or the hashing thread. */
interface BatchFile {
  /** Queues the next batch; a promise asks the caller to wait before the next. */
  write(batch: Buffer): Promise<void> | undefined;
  /** Resolves (never rejects) once the batches queued so far are no longer needed. */
  written(): Promise<void>;
  /** Resolves when every batch is written and no write-back runs; rejects with the first error. */
  flush(): Promise<void>;
}

/** The file written by the hashing thread (tuning/hash-thread.ts), batch after batch. */
function threadFile(thread: HashThread, writeback: EarlyWriteback): BatchFile {
  let position = 0;
  return {
    write: (batch) => {
      const at = position;
      position += batch.length;
      return thread.write(batch, at);
    },
    written: () => thread.idle(),
    flush: async () => {
      let failure: unknown;
      await thread.flush().catch((error: unknown) => {
        failure = error;
      });
      // The handle may be closed next: no flush of it may still be running.
      const settled = writeback.settled();
      if (failure !== undefined) {
        await settled.catch(() => {});
        throw failure;
      }
      await settled;
    },
  };
}

/**
 * Where a receive's time went, published on the diagnostics channel `edgesh:receive` once a package
 * is received (`npm run bench transports` prints it; nothing is built when nobody listens).
 */
export interface ReceiveBreakdown {
  readonly bytes: number;
  /** Time this thread waited for the disk: the file's queue full, the last writes, the fsync. */
  readonly diskWaitMs: number;
  /** Time this thread waited for the hashing thread (its queue full, the digest), if one ran. */
  readonly hashWaitMs?: number;
  /** CPU time of the hashing thread, if one ran (Linux). */
  readonly hashThreadCpuMs?: number;
  /** Time the file writes the hashing thread started took (summed), if it wrote the file. */
  readonly hashThreadWriteMs?: number;
}

const breakdowns = channel('edgesh:receive');

function publishBreakdown(bytes: number, diskWaitMs: number, thread: HashThread | undefined): void {
  if (!breakdowns.hasSubscribers) return;
  breakdowns.publish({
    bytes,
    diskWaitMs: Math.round(diskWaitMs),
    ...(thread ? { hashWaitMs: Math.round(thread.waitedMs) } : {}),
    ...(thread?.cpuMs === undefined ? {} : { hashThreadCpuMs: thread.cpuMs }),
    ...(thread?.writeMs === undefined ? {} : { hashThreadWriteMs: Math.round(thread.writeMs) }),
  } satisfies ReceiveBreakdown);
}

/** Adds up the time spent awaiting promises. */
class Stopwatch {
  ms = 0;

  async time<T>(promise: Promise<T>): Promise<T> {
    const started = monotonicMs();
    try {
      return await promise;
    } finally {
      this.ms += monotonicMs() - started;
    }
  }
}

/**
 * A failure while receiving, as one line for the operator. A typed error of another layer (the
 * transport or media failing mid-stream: `TRANSPORT_*`, `MEDIA_*`) passes unchanged.
 */
function refusal(error: unknown, name: string): Error {
  if (error instanceof DeviceError) return error;
  if (error instanceof FormatError) {
    const code = error.code === 'WMOPKG_TOO_LARGE' ? 'DEVICE_TOO_LARGE' : 'DEVICE_BAD_PACKAGE';
    return new DeviceError(code, `package ${name} refused: ${error.message}`, { cause: error });
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof Error && typeof code === 'string' && /^(TRANSPORT|MEDIA)_/.test(code)) return error;
  return deviceErrorOf(error, `installing ${name}`);
}

/** Checks a received package against the device: refuses Invalid, foreign architecture, firmware. */
export function checkReceived(received: Received, device: DeviceFile, name: string): void {
  const { verdict, reading } = received;
  if (verdict.status === 'Invalid') {
    throw new DeviceError(
      'DEVICE_INVALID_PACKAGE',
      `package ${name} refused: verification Invalid: ${verdict.reason}`,
    );
  }
  const incompatible = checkCompatibility(reading.control, device);
  if (incompatible)
    throw new DeviceError(incompatible.code, `package ${name} refused: ${incompatible.reason}`);
}

/** Whether installing `version` over `existing` is a downgrade. */
export function isDowngrade(existing: StoreRecord | undefined, version: string): boolean {
  return existing !== undefined && compareVersions(version, existing.version) < 0;
}

/** Builds the record of a received package. */
export function recordOf(
  received: Received,
  request: Pick<InstallRequest, 'name' | 'persistent' | 'origin'>,
): StoreRecord {
  const { reading, verdict } = received;
  const installId = newInstallId();
  return {
    format: 1,
    name: request.name,
    installId,
    file: `${installId}.wmopkg`,
    version: reading.control.version,
    architecture: reading.control.architecture,
    description: reading.control.summary,
    fields: reading.control.fields.map(([k, v]) => [k, v] as const),
    persistent: request.persistent,
    origin: request.origin,
    installedAt: new Date().toISOString(),
    size: reading.size,
    members: reading.members.map(({ name, size, sha256 }) => ({ name, size, sha256 })),
    verification: verdict.status,
    reason: verdict.reason,
    ...(verdict.keyNumber === undefined ? {} : { keyNumber: verdict.keyNumber }),
  };
}

/**
 * Commits a received package under its record. A new name: the package directory is built under a
 * temporary name and renamed into place. A replacement: the new file goes next to the old one and the
 * record is replaced atomically (the commit point); the old file goes afterwards.
 */
export async function commitPackage(
  layout: Layout,
  received: Received,
  record: StoreRecord,
  previous: StoreRecord | undefined,
): Promise<void> {
  const dir = join(layout.storeDir, record.name);
  if (previous === undefined) {
    await moveAsideBroken(layout, record.name);
    const building = tempPathFor(dir, 'new');
    await mkdir(building);
    try {
      await rename(received.tmp, join(building, record.file));
      faultPoint('install:moved');
      await writeFileAtomic(join(building, RECORD_FILE), formatRecord(record));
      faultPoint('install:built');
      await renameDurably(building, dir);
    } catch (error) {
      await rm(building, { recursive: true, force: true });
      throw error;
    }
    faultPoint('install:committed');
    return;
  }
  await rename(received.tmp, join(dir, record.file));
  faultPoint('install:moved');
  await writeFileAtomic(join(dir, RECORD_FILE), formatRecord(record));
  faultPoint('install:committed');
  await removeUnreferenced(dir, record);
  faultPoint('install:cleaned');
}

/** A directory without a readable record (made by hand) must not block an install: it goes. */
export async function moveAsideBroken(layout: Layout, name: string): Promise<void> {
  const dir = join(layout.storeDir, name);
  const trash = tempPathFor(dir, 'broken');
  try {
    await rename(dir, trash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  await rm(trash, { recursive: true, force: true });
}
