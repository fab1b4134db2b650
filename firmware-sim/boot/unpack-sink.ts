// Where an unpack writes: directly on this thread, or in batches on a writer thread for many files.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WriteBatch, WriteOp, WriteReply } from './unpack-worker.js';
import { closeAll, performOps } from './unpack-worker.js';

/** Files up to this size go to the writer thread whole; larger ones in parts. */
const SMALL_FILE = 256 * 1024;
/** A batch is sent when it holds this many calls or bytes. */
const BATCH_OPS = 512;
const BATCH_BYTES = 1024 * 1024;
/** Batches on their way (per writer) before the unpack waits (backpressure), between entries. */
const MAX_IN_FLIGHT = 4;
/**
 * The same inside a large file, whose 1 MiB batches come faster than entries do. The bound is to keep
 * memory flat where the storage is slower than inflating, not to slow the writers down where it is
 * not: the firmware switch of the bench (4 images of 48 MiB) peaks at 8-9 batches and never waits.
 */
const MAX_IN_FLIGHT_IN_FILE = 8;

/** The writing side of an unpack; calls come in archive order. */
export interface Sink {
  dir(path: string, mode: number): void;
  fileStart(path: string, mode: number, size: number): void;
  fileData(chunk: Buffer): void;
  fileEnd(mtime: number): void;
  symlink(path: string, target: string): void;
  link(path: string, target: string): void;
  /** A promise when the unpack should wait before going on (`inFile`: within a file's data). */
  ready(inFile?: boolean): Promise<void> | undefined;
  /** Resolves when everything is on disk; rejects with the first failure. */
  settle(): Promise<void>;
}

/** Performs every call at once on this thread: cheapest for a handful of files. */
export class DirectSink implements Sink {
  private current: { path: string; mode: number; streaming: boolean; parts: Buffer[] } | undefined;

  constructor(private readonly stage: string) {}

  dir(path: string, mode: number): void {
    performOps(this.stage, [{ op: 'dir', path, mode }], EMPTY);
  }

  fileStart(path: string, mode: number, size: number): void {
    const streaming = size > SMALL_FILE;
    this.current = { path, mode, streaming, parts: [] };
    if (streaming) performOps(this.stage, [{ op: 'open', path, mode }], EMPTY);
  }

  fileData(chunk: Buffer): void {
    const current = this.current!;
    if (!current.streaming) {
      current.parts.push(chunk);
      return;
    }
    performOps(this.stage, [{ op: 'write', path: current.path, offset: 0, length: chunk.length }], chunk);
  }

  fileEnd(mtime: number): void {
    const { path, mode, streaming, parts } = this.current!;
    this.current = undefined;
    if (streaming) {
      performOps(this.stage, [{ op: 'close', path, mtime }], EMPTY);
      return;
    }
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    performOps(this.stage, [{ op: 'file', path, mode, mtime, offset: 0, length: data.length }], data);
  }

  symlink(path: string, target: string): void {
    performOps(this.stage, [{ op: 'symlink', path, target }], EMPTY);
  }

  link(path: string, target: string): void {
    performOps(this.stage, [{ op: 'link', path, target }], EMPTY);
  }

  ready(): undefined {
    return undefined;
  }

  async settle(): Promise<void> {
    closeAll();
  }
}

const EMPTY = Buffer.alloc(0);

/** Calls and bytes waiting to go to one writer. */
interface Lane {
  ops: WriteOp[];
  parts: Buffer[];
  bytes: number;
}

/** A cheap string hash (FNV-1a), to spread directories over the writers. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Sends the calls in batches to writer threads, which perform them in order; the parsing thread only
 * checks and copies bytes, so creating thousands of files overlaps with reading the archive.
 * Directories are made here at once (a file sent later always finds its parent). Every call goes to
 * the writer chosen by its parent directory: writers never contend for the same directory, and all
 * calls on one large file meet its descriptor. A hard link waits for every earlier batch (its target
 * must exist).
 */
export class WorkerSink implements Sink {
  private readonly lanes: Lane[] = Array.from({ length: WRITERS }, () => ({ ops: [], parts: [], bytes: 0 }));
  private current:
    | { path: string; mode: number; streaming: boolean; parts: Buffer[]; size: number; lane: number }
    | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** The most batches that were on their way at once (for the tests of the backpressure). */
  peakInFlight = 0;
  private failure: Error | undefined;
  private waiters: Array<() => void> = [];
  private lastParent = '';
  private lastLane = 0;

  constructor(private readonly stage: string) {}

  dir(path: string, mode: number): void {
    performOps(this.stage, [{ op: 'dir', path, mode }], EMPTY);
  }

  fileStart(path: string, mode: number, size: number): void {
    const streaming = size > SMALL_FILE;
    const lane = this.laneOf(path);
    this.current = { path, mode, streaming, parts: [], size: 0, lane };
    if (streaming) this.add(lane, { op: 'open', path, mode });
  }

  fileData(chunk: Buffer): void {
    const current = this.current!;
    if (!current.streaming) {
      current.parts.push(chunk);
      current.size += chunk.length;
      return;
    }
    const lane = this.lanes[current.lane]!;
    this.add(
      current.lane,
      { op: 'write', path: current.path, offset: lane.bytes, length: chunk.length },
      chunk,
    );
  }

  fileEnd(mtime: number): void {
    const { path, mode, streaming, parts, size, lane } = this.current!;
    this.current = undefined;
    if (streaming) {
      this.add(lane, { op: 'close', path, mtime });
      return;
    }
    this.add(
      lane,
      { op: 'file', path, mode, mtime, offset: this.lanes[lane]!.bytes, length: size },
      ...parts,
    );
  }

  symlink(path: string, target: string): void {
    this.add(this.laneOf(path), { op: 'symlink', path, target });
  }

  link(path: string, target: string): void {
    for (let i = 0; i < WRITERS; i++) this.flush(i);
    const lane = this.laneOf(path);
    this.add(lane, { op: 'link', path, target });
    this.flush(lane, true);
  }

  ready(inFile = false): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    if (this.inFlight.size < (inFile ? MAX_IN_FLIGHT_IN_FILE : MAX_IN_FLIGHT) * WRITERS) return undefined;
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => {
      if (this.failure) throw this.failure;
    });
  }

  async settle(): Promise<void> {
    if (!this.failure) for (let i = 0; i < WRITERS; i++) this.flush(i);
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    if (this.failure) {
      // A failed batch may leave large files open in a writer: close them before the stage is removed.
      await Promise.all(
        threads.map((thread, index) =>
          thread ? send(index, { id: nextId++, reset: true }).catch(() => {}) : undefined,
        ),
      );
      throw this.failure;
    }
  }

  private laneOf(path: string): number {
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? '' : path.slice(0, slash);
    if (parent !== this.lastParent) {
      this.lastParent = parent;
      this.lastLane = hash(parent) % WRITERS;
    }
    return this.lastLane;
  }

  private add(index: number, op: WriteOp, ...data: Buffer[]): void {
    const lane = this.lanes[index]!;
    lane.ops.push(op);
    for (const chunk of data) {
      lane.parts.push(chunk);
      lane.bytes += chunk.length;
    }
    if (lane.ops.length >= BATCH_OPS || lane.bytes >= BATCH_BYTES) this.flush(index);
  }

  /** Sends lane `index`; with `barrier`, only after every batch sent before has been performed. */
  private flush(index: number, barrier = false): void {
    const lane = this.lanes[index]!;
    if (lane.ops.length === 0) return;
    if (this.failure) {
      // Nothing more is written after a failure: what the unpack still adds (the rest of a large
      // file) is dropped here instead of piling up until the end.
      this.lanes[index] = { ops: [], parts: [], bytes: 0 };
      return;
    }
    // Memory of its own, handed over without copying (pooled small buffers cannot be).
    const data = Buffer.from(batchMemory(lane.bytes));
    let at = 0;
    for (const part of lane.parts) {
      part.copy(data, at);
      at += part.length;
    }
    const batch: WriteBatch = {
      id: nextId++,
      stage: this.stage,
      ops: lane.ops,
      data: data.buffer as ArrayBuffer,
    };
    this.lanes[index] = { ops: [], parts: [], bytes: 0 };
    const before = barrier ? Promise.all(this.inFlight) : undefined;
    const done = (before ? before.then(() => send(index, batch)) : send(index, batch)).then(
      () => {},
      (error: Error) => {
        this.failure ??= error;
      },
    );
    this.inFlight.add(done);
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight.size);
    void done.finally(() => {
      this.inFlight.delete(done);
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    });
  }
}

/**
 * Memory of batches the writers are done with, for the next batches: a fresh megabyte costs its page
 * faults when it is first written (3.3 ms here, against 0.2 ms to copy into memory already touched),
 * and an unpack of 10,000 small files sends about 20 batches. At most one batch per place in flight.
 */
const spareBatches: ArrayBuffer[] = [];
const SPARE_BATCHES = 2 * MAX_IN_FLIGHT;

/** An ArrayBuffer of at least `bytes` bytes: a spare one, or a new one large enough to be reused. */
function batchMemory(bytes: number): ArrayBuffer {
  if (bytes === 0) return new ArrayBuffer(0);
  const index = spareBatches.findIndex((memory) => memory.byteLength >= bytes);
  if (index >= 0) return spareBatches.splice(index, 1)[0]!;
  return new ArrayBuffer(Math.max(bytes, BATCH_BYTES + SMALL_FILE));
}

/** Writer threads: two where there are two cores (file creation is what costs, and it scales). */
const WRITERS = Math.min(2, availableParallelism());
const threads: Array<Worker | undefined> = [];
let nextId = 1;
const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

/** Counts awaited replies per writer; a writer is referenced only while one is awaited. */
const awaited: number[] = [];

/** Hands a message to writer `index` (started on first use, shared, never keeping the process alive). */
function send(index: number, message: WriteBatch | { id: number; reset: true }): Promise<void> {
  let thread = threads[index];
  if (!thread) {
    const started = new Worker(new URL('./unpack-worker.js', import.meta.url));
    started.unref();
    started.on('message', (reply: WriteReply) => {
      if (reply.data?.byteLength && spareBatches.length < SPARE_BATCHES) spareBatches.push(reply.data);
      const waiting = pending.get(reply.id);
      if (!waiting) return;
      pending.delete(reply.id);
      if (!reply.error) {
        waiting.resolve();
        return;
      }
      const error = new Error(reply.error.message) as NodeJS.ErrnoException;
      if (reply.error.code) error.code = reply.error.code;
      waiting.reject(error);
    });
    const broken = (error: Error) => {
      if (threads[index] === started) threads[index] = undefined;
      for (const [id, waiting] of pending) {
        if (owner.get(id) === started) waiting.reject(error);
      }
    };
    started.on('error', broken);
    started.on('exit', () => broken(new Error('the unpack writer thread stopped')));
    threads[index] = started;
    awaited[index] = 0;
    thread = started;
  }
  const worker = thread;
  return new Promise<void>((resolve, reject) => {
    if (awaited[index]!++ === 0) worker.ref();
    const settle = () => {
      pending.delete(message.id);
      owner.delete(message.id);
      if (--awaited[index]! === 0) worker.unref();
    };
    owner.set(message.id, worker);
    pending.set(message.id, {
      resolve: () => {
        settle();
        resolve();
      },
      reject: (error) => {
        settle();
        reject(error);
      },
    });
    if ('data' in message) worker.postMessage(message, [message.data]);
    else worker.postMessage(message);
  });
}
const owner = new Map<number, Worker>();
