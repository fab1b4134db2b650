// The thread of tuning/hash-thread.ts: SHA-256 of chunks of shared memory, and the file writes of the same chunks.
import { createHash } from 'node:crypto';
import { readFileSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

/** What the thread is started with: the file it writes (`write` requests), if any. */
export interface HashThreadData {
  readonly fd?: number;
}

/** What the hashing thread is told, in order. */
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
  /** Wall time spent in write calls, ms. */
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
  // Answers are gathered: the requests waiting in the port are all handled first (one message event
  // each), then one answer says how far the thread got (setImmediate runs once the port is drained).
  let done = 0;
  let written = 0;
  let answering = false;
  const answer = () => {
    if (!answering || failed) return;
    answering = false;
    port.postMessage({ done, written } satisfies HashReply);
    written = 0;
  };
  const finished = (seq: number) => {
    done = seq;
    if (answering) return;
    answering = true;
    setImmediate(answer);
  };
  const writeAll = (view: Uint8Array, position: number) => {
    if (fd === undefined) throw new Error('this hashing thread has no file to write');
    const started = performance.now();
    let at = 0;
    // A short write (rare on a file): go on from where it stopped.
    while (at < view.length) at += writeSync(fd, view, at, view.length - at, position + at);
    writeMs += performance.now() - started;
    written += view.length;
  };
  port.on('message', (request: HashRequest) => {
    if (failed) return;
    try {
      switch (request.op) {
        case 'buffer':
          memory.set(request.id, request.memory);
          break;
        case 'update':
          hash.update(new Uint8Array(memory.get(request.id)!, request.offset, request.length));
          finished(request.seq);
          break;
        case 'write':
          writeAll(new Uint8Array(memory.get(request.id)!, request.offset, request.length), request.position);
          finished(request.seq);
          break;
        case 'digest':
          port.postMessage({ digest: hash.digest('hex'), cpuMs: threadCpuMs() } satisfies HashReply);
          break;
        case 'flush':
          answer();
          port.postMessage({ flushed: true, cpuMs: threadCpuMs(), writeMs } satisfies HashReply);
          break;
      }
    } catch (error) {
      failed = true;
      const { code, syscall, errno } = error as NodeJS.ErrnoException;
      port.postMessage({
        error: (error as Error).message,
        ...(typeof code === 'string' ? { code } : {}),
        ...(typeof syscall === 'string' ? { syscall } : {}),
        ...(typeof errno === 'number' ? { errno } : {}),
      } satisfies HashReply);
    }
  });
}
