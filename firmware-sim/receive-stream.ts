// How a download is taken in: chunk by chunk without copies, and written to its file with few system calls.
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** Bytes per batch of `eachBatch`: large enough that per-call costs vanish, small enough to stay in cache. */
export const RECEIVE_BATCH = 1024 * 1024;

/**
 * Calls `each` for the bytes of `stream` in order, in batches of `batchBytes` (the last one smaller):
 * the chunks that arrive are gathered and joined (one copy) while the previous batch is processed, so
 * a network's 64 KiB chunks cost one hash update, one zlib write and one file write per batch instead
 * of one each, and the stream keeps flowing meanwhile. It is paused only when two batches are waiting.
 * (A chunk of `batchBytes` or more is passed as it is.) Resolves after the stream ended and the last
 * `each` settled; rejects with the stream's error or the first error of `each`, after the `each` in
 * progress has settled, so that nothing is still working on a batch when the caller cleans up.
 */
export function eachBatch(
  stream: Readable,
  each: (batch: Buffer) => Promise<void>,
  batchBytes = RECEIVE_BATCH,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let queue: Buffer[] = [];
    let queued = 0;
    let running: Promise<void> | undefined;
    let ended = false;
    let failed = false;
    let paused = false;
    const take = (): Buffer => {
      const batch = queue.length === 1 ? queue[0]! : Buffer.concat(queue, queued);
      queue = [];
      queued = 0;
      return batch;
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
    const pump = async () => {
      try {
        while (!failed && (queued >= batchBytes || (ended && queued > 0))) {
          const batch = take();
          if (paused) {
            paused = false;
            stream.resume();
          }
          await each(batch);
        }
      } catch (error) {
        running = undefined;
        fail(error);
        return;
      }
      running = undefined;
      if (ended && !failed) resolve();
    };
    const onData = (piece: Buffer | string | Uint8Array) => {
      if (failed) return;
      const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
      queue.push(chunk);
      queued += chunk.length;
      if (queued >= 2 * batchBytes && !paused) {
        paused = true;
        stream.pause();
      }
      if (running === undefined && queued >= batchBytes) running = pump();
    };
    stream.on('data', onData);
    finished(stream).then(() => {
      ended = true;
      if (running === undefined) running = pump();
    }, fail);
  });
}

/** Bytes queued (not yet handed to the kernel) above which `GatheringWriter.write` asks the caller to wait. */
export const GATHER_LIMIT = 4 * 1024 * 1024;

/**
 * Appends chunks to an open file in order. One write is in flight at a time; the chunks that arrive
 * meanwhile are gathered and go in the next `writev`, so a stream of 64 KiB network chunks becomes a
 * few large system calls instead of one small awaited write each, and the caller goes on hashing while
 * the disk works. The chunks are kept, not copied: the caller must not reuse their memory.
 */
export class GatheringWriter {
  readonly #handle: FileHandle;
  readonly #limit: number;
  #queue: Buffer[] = [];
  #queued = 0;
  #writing: Promise<void> | undefined;
  #failure: unknown;
  #waiters: Array<() => void> = [];

  constructor(handle: FileHandle, limit = GATHER_LIMIT) {
    this.#handle = handle;
    this.#limit = limit;
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
    this.#writing ??= this.#drain();
    if (this.#queued <= this.#limit) return undefined;
    // Resolves (never rejects) once there is room or writing failed; a failure is thrown by the next
    // `write` or by `flush`, so that a promise nobody awaits yet cannot reject unhandled.
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves when every queued chunk is written; rejects with the first write error. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
    if (this.#failure !== undefined) throw this.#failure;
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
      }
    } catch (error) {
      this.#failure = error;
      this.#queue = [];
      this.#queued = 0;
    } finally {
      this.#writing = undefined;
      this.#wake();
    }
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
