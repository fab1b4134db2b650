// SHA-256 of a large stream on another core: a worker thread hashes while this thread receives and writes.
//
// An install does three things with each byte: receive it, hash it, write it. Writing already runs on
// libuv's threads; hashing ran on the thread that also reads the socket, so one core did both and the
// other sat mostly idle. Here a worker hashes chunks of memory shared with this thread (nothing is
// copied for a chunk already in a SharedArrayBuffer, and the install's batches are), and this thread
// goes on receiving. The measurement that justifies it is in docs/transports.md ("Speed").
// test/tuning/hash-thread.test.ts checks the digests against node:crypto's on this thread.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { monotonicMs } from '../common/clock.js';
import type { HashReply, HashRequest } from './hash-thread-worker.js';

/** Below this size a worker's start (about 20 ms of CPU) costs more than hashing on this thread. */
export const HASH_THREAD_MIN_BYTES = 16 * 1024 * 1024;

/** Bytes handed to the thread and not yet hashed above which `update` asks the caller to wait. */
const OUTSTANDING_LIMIT = 4 * 1024 * 1024;

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

/** A chunk handed to the thread and not yet hashed. */
interface InFlight {
  readonly seq: number;
  readonly bytes: number;
  /** The staging buffer the chunk was copied into, to reuse once hashed. */
  readonly staging?: SharedArrayBuffer;
}

/**
 * A SHA-256 computed by a worker thread. `update` the chunks in order, then `digest`; `close` in a
 * `finally` (after `digest` it does nothing). A chunk in a SharedArrayBuffer is read by the thread in
 * place: its memory must not change until `hashed()` resolves. Any other chunk is copied first.
 */
export class HashThread {
  readonly #worker: Worker;
  readonly #ids = new WeakMap<SharedArrayBuffer, number>();
  #nextId = 0;
  #seq = 0;
  readonly #inFlight: InFlight[] = [];
  #outstanding = 0;
  readonly #staging: SharedArrayBuffer[] = [];
  #roomWaiters: Array<() => void> = [];
  #hashedWaiters: Array<{ readonly seq: number; readonly resolve: () => void }> = [];
  #result: { resolve: (digest: string) => void; reject: (error: Error) => void } | undefined;
  #failure: Error | undefined;
  #closed = false;
  /** CPU time the thread spent, in ms, known after `digest` (Linux only). */
  cpuMs: number | undefined;
  /** Time the caller waited for the thread: for room (`update`'s promises) and for the digest. */
  waitedMs = 0;

  constructor() {
    this.#worker = new (workerThreads().Worker)(new URL('./hash-thread-worker.js', import.meta.url));
    this.#worker.on('message', (reply: HashReply) => this.#answer(reply));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', () => this.#fail(new Error('the hashing thread ended early')));
  }

  /**
   * Hands the next chunk to the thread. Returns a promise when too much is waiting to be hashed:
   * await it before the next `update`. Throws if the thread failed.
   */
  update(chunk: Uint8Array): Promise<void> | undefined {
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
    this.#post({ op: 'update', seq, id: this.#idOf(memory), offset, length: chunk.length });
    if (this.#outstanding <= OUTSTANDING_LIMIT) return undefined;
    // Resolves (never rejects) once there is room or the thread failed; a failure is thrown by the
    // next `update` or by `digest`.
    const waiting = monotonicMs();
    return new Promise<void>((resolve) =>
      this.#roomWaiters.push(() => {
        this.waitedMs += monotonicMs() - waiting;
        resolve();
      }),
    );
  }

  /** Resolves (never rejects) once every chunk given so far is hashed, or the thread failed. */
  hashed(): Promise<void> {
    const seq = this.#seq;
    if (this.#failure || this.#inFlight.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#hashedWaiters.push({ seq, resolve }));
  }

  /** The lower-case hex SHA-256 of every chunk given; ends the thread. */
  async digest(): Promise<string> {
    if (this.#failure) throw this.#failure;
    const waiting = monotonicMs();
    const digest = await new Promise<string>((resolve, reject) => {
      this.#result = { resolve, reject };
      this.#post({ op: 'digest' });
    });
    this.waitedMs += monotonicMs() - waiting;
    await this.close();
    return digest;
  }

  /** Ends the thread (at once, whatever it was doing). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.removeAllListeners('exit');
    this.#failure ??= new Error('the hashing thread was closed');
    this.#wakeAll();
    await this.#worker.terminate();
  }

  #post(request: HashRequest): void {
    this.#worker.postMessage(request);
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
    if ('hashed' in reply) {
      while (this.#inFlight.length > 0 && this.#inFlight[0]!.seq <= reply.hashed) {
        const done = this.#inFlight.shift()!;
        this.#outstanding -= done.bytes;
        if (done.staging && this.#staging.length < STAGING_POOL) this.#staging.push(done.staging);
      }
      if (this.#outstanding <= OUTSTANDING_LIMIT) this.#wakeRoom();
      const done = this.#inFlight[0]?.seq ?? this.#seq + 1;
      this.#hashedWaiters = this.#hashedWaiters.filter((w) => {
        if (w.seq >= done) return true;
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
    this.#fail(new Error(`hashing thread: ${reply.error}`));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#result?.reject(this.#failure);
    this.#wakeAll();
  }

  #wakeRoom(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  #wakeAll(): void {
    this.#wakeRoom();
    const waiters = this.#hashedWaiters;
    this.#hashedWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }
}
