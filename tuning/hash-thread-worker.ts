// The thread of tuning/hash-thread.ts: SHA-256 of chunks of memory it shares with the thread that received them.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

/** What the hashing thread is told, in order. */
export type HashRequest =
  /** A shared buffer, registered once under `id`; later updates name it by `id`. */
  | { readonly op: 'buffer'; readonly id: number; readonly memory: SharedArrayBuffer }
  /** Hash `length` bytes of buffer `id` from `offset`; answered with `{ hashed: seq }`. */
  | {
      readonly op: 'update';
      readonly seq: number;
      readonly id: number;
      readonly offset: number;
      readonly length: number;
    }
  /** The end: answered with the digest and this thread's CPU time. */
  | { readonly op: 'digest' };

/** What the hashing thread answers. */
export type HashReply =
  | { readonly hashed: number }
  | { readonly digest: string; readonly cpuMs: number | undefined }
  | { readonly error: string };

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
  const memory = new Map<number, SharedArrayBuffer>();
  const hash = createHash('sha256');
  port.on('message', (request: HashRequest) => {
    try {
      switch (request.op) {
        case 'buffer':
          memory.set(request.id, request.memory);
          break;
        case 'update':
          hash.update(new Uint8Array(memory.get(request.id)!, request.offset, request.length));
          port.postMessage({ hashed: request.seq } satisfies HashReply);
          break;
        case 'digest':
          port.postMessage({ digest: hash.digest('hex'), cpuMs: threadCpuMs() } satisfies HashReply);
          memory.clear();
          break;
      }
    } catch (error) {
      port.postMessage({ error: (error as Error).message } satisfies HashReply);
    }
  });
}
