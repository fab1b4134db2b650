// The thread of tuning/hash-thread.ts: SHA-256 of chunks of shared memory, and the file writes of the same chunks.
import { createHash } from 'node:crypto';
import { readFileSync, write } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

/** What the thread is started with: the file it writes (`write` requests), if any. */
export interface HashThreadData {
  readonly fd?: number;
}

/** What the hashing thread is told, in order (several in one message). */
export type HashRequest =
  /** A shared buffer, registered once under `id`; later requests name it by `id`. */
  | { readonly op: 'buffer'; readonly id: number; readonly memory: SharedArrayBuffer }
  /** Hash `length` bytes of buffer `id` from `offset`. */
  | {
      readonly op: 'update';
      readonly seq: number;
      readonly id: number;
      readonly offset: number;
      readonly length: number;
    }
  /** Write `length` bytes of buffer `id` from `offset` to the file at `position`. */
  | {
      readonly op: 'write';
      readonly seq: number;
      readonly id: number;
      readonly offset: number;
      readonly length: number;
      readonly position: number;
    }
  /** The digest of what was hashed; answered with the digest and this thread's CPU time. */
  | { readonly op: 'digest' }
  /** Answered once every request before it is done, with this thread's figures. */
  | { readonly op: 'flush' };

/** The thread's figures for the install's breakdown. */
export interface HashThreadFigures {
  /** CPU time of the thread in ms (Linux), undefined elsewhere. */
  readonly cpuMs: number | undefined;
  /** Time the writes took from start to end, summed, ms. */
  readonly writeMs: number;
}

/** What the hashing thread answers. */
export type HashReply =
  /** Every request up to `done` is done; `written` bytes were written since the last answer. */
  | { readonly done: number; readonly written: number }
  | { readonly digest: string; readonly cpuMs: number | undefined }
  | ({ readonly flushed: true } & HashThreadFigures)
  | { readonly error: string; readonly code?: string; readonly syscall?: string; readonly errno?: number };

/** CPU time of the calling thread in ms (Linux), for the install's breakdown; undefined elsewhere. */
function threadCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks of 10 ms (USER_HZ is 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

if (parentPort) {
  const port = parentPort;
  const { fd } = (workerData ?? {}) as HashThreadData;
  const memory = new Map<number, SharedArrayBuffer>();
  const hash = createHash('sha256');
  let failed = false;
  let writeMs = 0;
  // Writes run on libuv's threads while this one hashes the next chunk (a write that waits for the disk
  // would otherwise hold up the hashing): `writing` holds the requests whose write is not done, in order.
  const writing: number[] = [];
  let received = 0;
  let flushWanted = false;
  // Answers are gathered: the requests waiting in the port are all handled first (one message event
  // each), then one answer says how far the thread got (setImmediate runs once the port is drained).
  let written = 0;
  let answering = false;
  const doneUpTo = () => (writing.length > 0 ? writing[0]! - 1 : received);
  const answer = () => {
    if (!answering || failed) return;
    answering = false;
    port.postMessage({ done: doneUpTo(), written } satisfies HashReply);
    written = 0;
  };
  const progressed = () => {
    if (flushWanted && writing.length === 0) {
      flushWanted = false;
      answering = true;
      answer();
      port.postMessage({ flushed: true, cpuMs: threadCpuMs(), writeMs } satisfies HashReply);
      return;
    }
    if (answering) return;
    answering = true;
    setImmediate(answer);
  };
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    const { code, syscall, errno } = error as NodeJS.ErrnoException;
    port.postMessage({
      error: (error as Error).message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof syscall === 'string' ? { syscall } : {}),
      ...(typeof errno === 'number' ? { errno } : {}),
    } satisfies HashReply);
  };
  const writeAll = (seq: number, view: Uint8Array, position: number) => {
    if (fd === undefined) throw new Error('this hashing thread has no file to write');
    writing.push(seq);
    const started = performance.now();
    const from = (at: number) =>
      write(fd, view, at, view.length - at, position + at, (error, bytes) => {
        if (failed) return;
        if (error) return fail(error);
        // A short write (rare on a file): go on from where it stopped.
        if (at + bytes < view.length) return from(at + bytes);
        writeMs += performance.now() - started;
        written += view.length;
        writing.splice(writing.indexOf(seq), 1);
        progressed();
      });
    from(0);
  };
  const handle = (request: HashRequest) => {
    try {
      switch (request.op) {
        case 'buffer':
          memory.set(request.id, request.memory);
          break;
        case 'update':
          hash.update(new Uint8Array(memory.get(request.id)!, request.offset, request.length));
          received = request.seq;
          progressed();
          break;
        case 'write':
          received = request.seq;
          writeAll(
            request.seq,
            new Uint8Array(memory.get(request.id)!, request.offset, request.length),
            request.position,
          );
          break;
        case 'digest':
          port.postMessage({ digest: hash.digest('hex'), cpuMs: threadCpuMs() } satisfies HashReply);
          break;
        case 'flush':
          flushWanted = true;
          progressed();
          break;
      }
    } catch (error) {
      fail(error);
    }
  };
  port.on('message', (requests: readonly HashRequest[]) => {
    for (const request of requests) {
      if (failed) return;
      handle(request);
    }
  });
}
