// SHA-256 of a large stream on another core: a worker thread hashes, and writes the file, while this thread receives.
//
// An install does three things with each byte: receive it, hash it, write it. Hashing ran on the thread
// that also reads the socket, so one core did both and the other sat mostly idle. Here a worker hashes
// chunks of memory shared with this thread (nothing is copied for a chunk already in a
// SharedArrayBuffer, and the install's batches are), and this thread goes on receiving. Given the file,
// the same worker also starts the writes of the chunks it reads (`write`, on libuv's threads, so that
// a write waiting for the disk does not hold up the hashing): the receiving thread then neither waits
// for the disk nor spends time on write calls and their promises (docs/transports.md "Speed" has the
// measurement). The worker's answers are gathered: one per turn of its event loop, however many
// requests it handled in that turn.
// test/tuning/hash-thread.test.ts checks the digests against node:crypto's on this thread, and the
// file against what was written.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { monotonicMs } from '../common/clock.js';
import type { HashReply, HashRequest, HashThreadData } from './hash-thread-worker.js';

/** Below this size a worker's start (about 20 ms of CPU) costs more than hashing on this thread. */
export const HASH_THREAD_MIN_BYTES = 16 * 1024 * 1024;

/**
 * Bytes handed to the thread and not yet hashed or written above which `update` and `write` ask the
 * caller to wait (a batch both hashed and written counts twice: this is eight of the install's
 * batches). A batch comes back only once its write is done; with four batches in flight the receiving
 * thread of a 512 MiB http install waited 0.9-1.3 s for them on this shared machine, with eight
 * 0.4-1.0 s, for 4-5 MiB more peak RSS (docs/transports.md).
 */
const OUTSTANDING_LIMIT = 16 * 1024 * 1024;

/** Size of a staging buffer, where a chunk not in shared memory is copied for the thread. */
const STAGING_BYTES = 1024 * 1024;

/** Free staging buffers kept for reuse. */
const STAGING_POOL = 6;

/**
 * Whether a member of `size` bytes is worth hashing on another thread: only where there is another
 * core to run it (a single-core device hashes on this thread, as it always did) and the member is
 * large enough to pay for the worker's start.
 */
export function hashThreadPays(size: number, cores = availableParallelism()): boolean {
  return cores > 1 && size >= HASH_THREAD_MIN_BYTES;
}

/**
 * node:worker_threads, loaded when a thread is first started: the update of a feed imports the store
 * (and so this file) but starts no thread, and loading the module cost its start 5-7 ms of CPU.
 */
function workerThreads(): typeof import('node:worker_threads') {
  workerThreadsModule ??= createRequire(import.meta.url)(
    'node:worker_threads',
  ) as typeof import('node:worker_threads');
  return workerThreadsModule;
}

let workerThreadsModule: typeof import('node:worker_threads') | undefined;

/** A request handed to the thread and not yet done. */
interface InFlight {
  readonly seq: number;
  readonly bytes: number;
  /** The staging buffer the chunk was copied into, to reuse once done. */
  readonly staging?: SharedArrayBuffer;
}

/** How a thread is started. */
export interface HashThreadOptions {
  /**
   * The file `write` writes to: a descriptor open for writing, which must stay open until `close` has
   * settled. Without it the thread only hashes.
   */
  readonly fd?: number;
  /** Told how many bytes the thread has written, as it writes them (to start write-back). */
  readonly onWritten?: (bytes: number) => void;
}

/**
 * A SHA-256 computed by a worker thread, which may also write the file the chunks go to. `update` the
 * chunks to hash in order, then `digest`; `write` the chunks of the file (in any order, each at its
 * position); `flush` to wait for the writes; `close` in a `finally`. A chunk in a SharedArrayBuffer is
 * read by the thread in place: its memory must not change until `idle()` resolves. Any other chunk is
 * copied first.
 */
export class HashThread {
  readonly #worker: Worker;
  readonly #writes: boolean;
  readonly #onWritten: ((bytes: number) => void) | undefined;
  readonly #ids = new WeakMap<SharedArrayBuffer, number>();
  #nextId = 0;
  #seq = 0;
  readonly #inFlight: InFlight[] = [];
  #outbox: HashRequest[] = [];
  #outstanding = 0;
  readonly #staging: SharedArrayBuffer[] = [];
  #roomWaiters: Array<() => void> = [];
  #idleWaiters: Array<{ readonly seq: number; readonly resolve: () => void }> = [];
  #result: { resolve: (digest: string) => void; reject: (error: Error) => void } | undefined;
  #flushed: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #failure: Error | undefined;
  #closed = false;
  /** CPU time the thread spent, in ms, known after `digest` or `flush` (Linux only). */
  cpuMs: number | undefined;
  /** Time the writes the thread started took (summed), in ms, known after `flush`. */
  writeMs: number | undefined;
  /** Time the caller waited for the thread: for room (the promises of `update` and `write`), the digest, `flush`. */
  waitedMs = 0;

  constructor(options: HashThreadOptions = {}) {
    this.#writes = options.fd !== undefined;
    this.#onWritten = options.onWritten;
    this.#worker = new (workerThreads().Worker)(new URL('./hash-thread-worker.js', import.meta.url), {
      workerData: (options.fd === undefined ? {} : { fd: options.fd }) satisfies HashThreadData,
    });
    this.#worker.on('message', (reply: HashReply) => this.#answer(reply));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', () => this.#fail(new Error('the hashing thread ended early')));
  }

  /** Whether the thread writes a file (it was given one). */
  get writes(): boolean {
    return this.#writes;
  }

  /**
   * Hands the next chunk to hash to the thread. Returns a promise when too much is waiting: await it
   * before the next `update` or `write`. Throws if the thread failed.
   */
  update(chunk: Uint8Array): Promise<void> | undefined {
    return this.#send(chunk, (seq, id, offset, length) => ({ op: 'update', seq, id, offset, length }));
  }

  /**
   * Hands a chunk of the file to the thread, to write at `position`. Returns a promise when too much is
   * waiting: await it before the next `update` or `write`. Throws if the thread failed or has no file.
   */
  write(chunk: Uint8Array, position: number): Promise<void> | undefined {
    if (!this.#writes) throw new Error('this hashing thread has no file to write');
    return this.#send(chunk, (seq, id, offset, length) => ({
      op: 'write',
      seq,
      id,
      offset,
      length,
      position,
    }));
  }

  /** Resolves (never rejects) once every chunk given so far is hashed or written, or the thread failed. */
  idle(): Promise<void> {
    const seq = this.#seq;
    if (this.#failure || this.#inFlight.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push({ seq, resolve }));
  }

  /**
   * The lower-case hex SHA-256 of every chunk given to `update`. A thread without a file ends here; one
   * with a file goes on writing.
   */
  async digest(): Promise<string> {
    if (this.#failure) throw this.#failure;
    const waiting = monotonicMs();
    const digest = await new Promise<string>((resolve, reject) => {
      this.#result = { resolve, reject };
      this.#post({ op: 'digest' });
    });
    this.waitedMs += monotonicMs() - waiting;
    if (!this.#writes) await this.close();
    return digest;
  }

  /** Resolves once every chunk given so far is done; rejects with the thread's failure (a write's error). */
  async flush(): Promise<void> {
    if (this.#failure) throw this.#failure;
    const waiting = monotonicMs();
    try {
      await new Promise<void>((resolve, reject) => {
        this.#flushed = { resolve, reject };
        this.#post({ op: 'flush' });
      });
    } finally {
      this.#flushed = undefined;
      this.waitedMs += monotonicMs() - waiting;
    }
  }

  /** Ends the thread (at once, whatever it was doing, but never in the middle of a write call). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.removeAllListeners('exit');
    this.#failure ??= new Error('the hashing thread was closed');
    this.#wakeAll();
    await this.#worker.terminate();
  }

  /** Posts a request over `chunk` (copied to staging memory unless shared); backpressure as `update`. */
  #send(
    chunk: Uint8Array,
    request: (seq: number, id: number, offset: number, length: number) => HashRequest,
  ): Promise<void> | undefined {
    if (this.#failure) throw this.#failure;
    if (chunk.length === 0) return undefined;
    let memory: SharedArrayBuffer;
    let offset: number;
    let staging: SharedArrayBuffer | undefined;
    if (chunk.buffer instanceof SharedArrayBuffer) {
      memory = chunk.buffer;
      offset = chunk.byteOffset;
    } else {
      staging = this.#takeStaging(chunk.length);
      new Uint8Array(staging).set(chunk);
      memory = staging;
      offset = 0;
    }
    const seq = ++this.#seq;
    this.#inFlight.push({ seq, bytes: chunk.length, ...(staging ? { staging } : {}) });
    this.#outstanding += chunk.length;
    this.#post(request(seq, this.#idOf(memory), offset, chunk.length));
    if (this.#outstanding <= OUTSTANDING_LIMIT) return undefined;
    // Resolves (never rejects) once there is room or the thread failed; a failure is thrown by the
    // next `update`, `write`, `digest` or `flush`.
    const waiting = monotonicMs();
    return new Promise<void>((resolve) =>
      this.#roomWaiters.push(() => {
        this.waitedMs += monotonicMs() - waiting;
        resolve();
      }),
    );
  }

  /**
   * Queues a request; the requests queued in one run of this thread go in one message (a batch's write
   * and the update of its data member: one message instead of two; a message costs this thread more
   * than the bookkeeping of a request).
   */
  #post(request: HashRequest): void {
    this.#outbox.push(request);
    if (this.#outbox.length > 1) return;
    queueMicrotask(() => {
      const requests = this.#outbox;
      this.#outbox = [];
      if (!this.#closed) this.#worker.postMessage(requests);
    });
  }

  /** The id under which the thread knows `memory`; registered on first use. */
  #idOf(memory: SharedArrayBuffer): number {
    let id = this.#ids.get(memory);
    if (id === undefined) {
      id = this.#nextId++;
      this.#ids.set(memory, id);
      this.#post({ op: 'buffer', id, memory });
    }
    return id;
  }

  #takeStaging(length: number): SharedArrayBuffer {
    const index = this.#staging.findIndex((b) => b.byteLength >= length);
    if (index >= 0) return this.#staging.splice(index, 1)[0]!;
    return new SharedArrayBuffer(Math.max(length, STAGING_BYTES));
  }

  #answer(reply: HashReply): void {
    if ('done' in reply) {
      while (this.#inFlight.length > 0 && this.#inFlight[0]!.seq <= reply.done) {
        const done = this.#inFlight.shift()!;
        this.#outstanding -= done.bytes;
        if (done.staging && this.#staging.length < STAGING_POOL) this.#staging.push(done.staging);
      }
      if (reply.written > 0) this.#onWritten?.(reply.written);
      if (this.#outstanding <= OUTSTANDING_LIMIT) this.#wakeRoom();
      const first = this.#inFlight[0]?.seq ?? this.#seq + 1;
      this.#idleWaiters = this.#idleWaiters.filter((w) => {
        if (w.seq >= first) return true;
        w.resolve();
        return false;
      });
      return;
    }
    if ('digest' in reply) {
      this.cpuMs = reply.cpuMs;
      this.#result?.resolve(reply.digest);
      return;
    }
    if ('flushed' in reply) {
      this.cpuMs = reply.cpuMs;
      this.writeMs = reply.writeMs;
      this.#flushed?.resolve();
      return;
    }
    this.#fail(threadError(reply));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#result?.reject(this.#failure);
    this.#flushed?.reject(this.#failure);
    this.#wakeAll();
  }

  #wakeRoom(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  #wakeAll(): void {
    this.#wakeRoom();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }
}

/**
 * The thread's error as an Error of this thread: a failed write keeps its system error's code (ENOSPC,
 * EIO), so that it is reported as the same failure on this thread would be.
 */
function threadError(reply: Extract<HashReply, { error: string }>): Error {
  const error: NodeJS.ErrnoException = new Error(
    reply.code === undefined ? `hashing thread: ${reply.error}` : reply.error,
  );
  if (reply.code !== undefined) error.code = reply.code;
  if (reply.syscall !== undefined) error.syscall = reply.syscall;
  if (reply.errno !== undefined) error.errno = reply.errno;
  return error;
}
