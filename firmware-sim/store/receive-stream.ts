// How a download is taken in: chunk by chunk without copies, and written to its file with few system calls.
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { takeReturn } from '../../common/lent.js';
import { EarlyWriteback } from '../../tuning/early-writeback.js';
import { collectYoungGarbage } from '../../tuning/young-gc.js';

/** Bytes per batch of `eachBatch`: large enough that per-call costs vanish, small enough to stay in cache. */
export const RECEIVE_BATCH = 1024 * 1024;

/** Bytes handed out between two collections of young garbage (see collectYoungGarbage). */
export const COLLECT_EVERY = 4 * 1024 * 1024;

/**
 * Free batch buffers kept for reuse: more than the install holds at once (the file's queue and the
 * write in flight, or the hashing thread's eight batches, tuning/hash-thread.ts), so that none is
 * allocated anew in the steady state.
 */
const POOL_LIMIT = 12;

/** Options of `eachBatch`. */
export interface BatchOptions {
  /** Bytes per batch (RECEIVE_BATCH). */
  readonly batchBytes?: number;
  /** Collects the young garbage every COLLECT_EVERY bytes (collectYoungGarbage). */
  readonly collect?: () => void;
  /** Whether a large chunk outside shared memory must be copied into a shared batch (asked at each batch). */
  readonly copyLarge?: () => boolean;
}

/**
 * Calls `each` for the bytes of `stream` in order, in batches of up to `batchBytes`: small chunks (a
 * network's 64 KiB) are copied into one batch buffer while the previous batch is processed, so they
 * cost one hash update, one zlib write and one file write per batch instead of one each, and the
 * stream keeps flowing meanwhile (it is paused when a batch and a half is waiting). A large chunk is
 * passed on as it is.
 *
 * Batch buffers are reused: `each` gets a `release` function to call once nothing refers to the batch
 * any more (its file write and its inflation are done). A batch that is never released is simply left
 * to the garbage collector; reuse matters because half a gigabyte of fresh buffers makes V8 collect
 * garbage dozens of times per install (measured: 49-55 full collections without reuse, 12-34 with,
 * and a quarter less CPU). A lent chunk (transports/lent.ts) goes back to its source when it has been
 * copied, or, passed on as it is, when its `release` is called.
 *
 * Every COLLECT_EVERY bytes, `collect` runs (tuning/young-gc.ts: the chunks handed out before are dead).
 * Where `copyLarge()` says so (a thread reads the batches: tuning/hash-thread.ts), large chunks not in
 * shared memory already are copied into pooled shared batches too, and a lent one goes back to its
 * source at once.
 *
 * Resolves after the stream ended and the last `each` settled; rejects with the stream's error or the
 * first error of `each`, after the `each` in progress has settled, so that nothing is still working on
 * a batch when the caller cleans up.
 */
export function eachBatch(
  stream: Readable,
  each: (batch: Buffer, release: () => void) => Promise<void>,
  options: BatchOptions = {},
): Promise<void> {
  const batchBytes = options.batchBytes ?? RECEIVE_BATCH;
  const collect = options.collect ?? collectYoungGarbage;
  const copyLarge = options.copyLarge ?? (() => false);
  // A chunk of half a batch or more (an sftp block, a 1 MiB file read) is passed on without a copy.
  const large = batchBytes / 2;
  return new Promise<void>((resolve, reject) => {
    const free: Buffer[] = [];
    let queue: Buffer[] = [];
    let queued = 0;
    let running: Promise<void> | undefined;
    let ended = false;
    let failed = false;
    let paused = false;
    const noop = () => {};
    const ready = () => queued >= batchBytes || (queue.length > 0 && (queue[0]!.length >= large || ended));
    /** The next batch: a large chunk alone, or small chunks copied into a pooled buffer. */
    const take = (): [Buffer, () => void] => {
      const copyAll = copyLarge();
      /** Whether a chunk is copied into a pooled batch rather than passed on as it is. */
      const copied = (chunk: Buffer) =>
        chunk.length < large ||
        (copyAll && chunk.length <= batchBytes && !(chunk.buffer instanceof SharedArrayBuffer));
      const first = queue[0]!;
      if (!copied(first) || (queue.length === 1 && ended && !copyAll)) {
        queue.shift();
        queued -= first.length;
        const back = takeReturn(first);
        return [first, back ? once(back) : noop];
      }
      // Shared memory, so that a hashing thread (tuning/hash-thread.ts) reads the batch in place.
      const buffer = free.pop() ?? Buffer.from(new SharedArrayBuffer(batchBytes));
      let used = 0;
      while (queue.length > 0 && copied(queue[0]!) && used + queue[0]!.length <= batchBytes) {
        const chunk = queue.shift()!;
        chunk.copy(buffer, used);
        used += chunk.length;
        takeReturn(chunk)?.();
      }
      queued -= used;
      const release = once(() => {
        if (free.length < POOL_LIMIT) free.push(buffer);
      });
      return [buffer.subarray(0, used), release];
    };
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      queue = [];
      queued = 0;
      stream.off('data', onData);
      stream.pause();
      void (running ?? Promise.resolve()).then(() => reject(error));
    };
    let sinceCollect = 0;
    const pump = async () => {
      try {
        while (!failed && ready()) {
          const [batch, release] = take();
          // The chunks just copied into a pooled batch are garbage now, and a large chunk passed on as
          // it is will be once its batch is written, or goes back to its source if it was lent. (A
          // source must not keep using buffers it hands out without lending them: a scavenge would move
          // them to V8's old generation, where they would wait for a full collection.)
          sinceCollect += batch.length;
          if (sinceCollect >= COLLECT_EVERY) {
            sinceCollect = 0;
            collect();
          }
          if (paused && queued < batchBytes) {
            paused = false;
            stream.resume();
          }
          await each(batch, release);
        }
      } catch (error) {
        running = undefined;
        fail(error);
        return;
      }
      running = undefined;
      if (ended && !failed && queue.length === 0) resolve();
    };
    const onData = (piece: Buffer | string | Uint8Array) => {
      if (failed) return;
      const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
      if (chunk.length === 0) return;
      queue.push(chunk);
      queued += chunk.length;
      if (queued >= batchBytes + large && !paused) {
        paused = true;
        stream.pause();
      }
      if (running === undefined && ready()) running = pump();
    };
    stream.on('data', onData);
    finished(stream).then(() => {
      ended = true;
      if (running === undefined) running = pump();
    }, fail);
  });
}

/** `fn` behind a guard: however often the result is called, `fn` runs once. */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/** Someone waiting until the bytes up to `at` are written. */
interface DoneWaiter {
  readonly at: number;
  readonly resolve: () => void;
}

/** Bytes queued (not yet handed to the kernel) above which `GatheringWriter.write` asks the caller to wait. */
const GATHER_LIMIT = 2 * 1024 * 1024;

/**
 * Appends chunks to an open file in order. One write is in flight at a time; the chunks that arrive
 * meanwhile are gathered and go in the next `writev`, so a stream of 64 KiB network chunks becomes a
 * few large system calls instead of one small awaited write each, and the caller goes on hashing while
 * the disk works. The chunks are kept, not copied: the caller must not reuse their memory. The disk
 * starts writing the file back while it grows (tuning/early-writeback.ts); the caller's fsync at the
 * end is still what makes it durable.
 */
export class GatheringWriter {
  readonly #handle: FileHandle;
  readonly #limit: number;
  readonly #writeback: EarlyWriteback;
  #queue: Buffer[] = [];
  #queued = 0;
  /** Bytes ever queued, and bytes done with (written, or dropped after a failure). */
  #total = 0;
  #done = 0;
  #writing: Promise<void> | undefined;
  #failure: unknown;
  #waiters: Array<() => void> = [];
  #doneWaiters: DoneWaiter[] = [];

  constructor(handle: FileHandle, limit = GATHER_LIMIT, writeback = new EarlyWriteback(handle)) {
    this.#handle = handle;
    this.#limit = limit;
    this.#writeback = writeback;
  }

  /**
   * Queues a chunk. Returns a promise when the queue is over the limit: await it before writing more.
   * Throws the error of an earlier write.
   */
  write(chunk: Buffer): Promise<void> | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    if (chunk.length === 0) return undefined;
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#total += chunk.length;
    this.#writing ??= this.#drain();
    if (this.#queued <= this.#limit) return undefined;
    // Resolves (never rejects) once there is room or writing failed; a failure is thrown by the next
    // `write` or by `flush`, so that a promise nobody awaits yet cannot reject unhandled.
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Resolves (never rejects) once the chunks queued so far are no longer needed: written, or dropped
   * because writing failed. Their memory may then be reused.
   */
  written(): Promise<void> {
    if (this.#done >= this.#total) return Promise.resolve();
    return new Promise<void>((resolve) => this.#doneWaiters.push({ at: this.#total, resolve }));
  }

  /**
   * Resolves when every queued chunk is written and no background write-back is running; rejects with
   * the first error of either.
   */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
    const writeback = this.#writeback.settled();
    if (this.#failure !== undefined) {
      // The handle may be closed next: no flush of it may still be running.
      await writeback.catch(() => {});
      throw this.#failure;
    }
    await writeback;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 && this.#failure === undefined) {
        const batch = this.#queue;
        const bytes = this.#queued;
        this.#queue = [];
        this.#queued = 0;
        this.#wake();
        await this.#writeAll(batch, bytes);
        this.#finished(bytes);
        this.#writeback.wrote(bytes);
      }
    } catch (error) {
      this.#failure = error;
      this.#queue = [];
      this.#queued = 0;
      this.#finished(this.#total - this.#done);
    } finally {
      this.#writing = undefined;
      this.#wake();
    }
  }

  #finished(bytes: number): void {
    this.#done += bytes;
    if (this.#doneWaiters.length === 0) return;
    const still: DoneWaiter[] = [];
    for (const waiter of this.#doneWaiters) {
      if (waiter.at <= this.#done) waiter.resolve();
      else still.push(waiter);
    }
    this.#doneWaiters = still;
  }

  async #writeAll(batch: Buffer[], bytes: number): Promise<void> {
    let rest = batch;
    let left = bytes;
    for (;;) {
      const { bytesWritten } = await this.#handle.writev(rest);
      left -= bytesWritten;
      if (left === 0) return;
      if (bytesWritten === 0) throw new Error('write made no progress');
      // A short write (rare on a file): go on from where it stopped.
      let skip = bytesWritten;
      const next: Buffer[] = [];
      for (const buffer of rest) {
        if (skip >= buffer.length) skip -= buffer.length;
        else {
          next.push(skip > 0 ? buffer.subarray(skip) : buffer);
          skip = 0;
        }
      }
      rest = next;
    }
  }

  #wake(): void {
    if (this.#queued > this.#limit && this.#failure === undefined) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
