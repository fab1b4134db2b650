// A thread that performs the file-system calls of an unpack, so that parsing and writing overlap.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  linkSync,
  mkdirSync,
  openSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';

/**
 * One file-system call, in archive order; paths are relative to the stage directory.
 * - `dir`: mkdir with `mode` (chmod when the umask took bits away);
 * - `file`: a whole file from the batch's data at `offset`, `length`;
 * - `open` / `write` / `close`: a large file in parts;
 * - `symlink`, `link`: `target` is the link text, or the earlier path of a hard link.
 */
export type WriteOp =
  | { readonly op: 'dir'; readonly path: string; readonly mode: number }
  | {
      readonly op: 'file';
      readonly path: string;
      readonly mode: number;
      readonly mtime: number;
      readonly offset: number;
      readonly length: number;
    }
  | { readonly op: 'open'; readonly path: string; readonly mode: number }
  | { readonly op: 'write'; readonly path: string; readonly offset: number; readonly length: number }
  | { readonly op: 'close'; readonly path: string; readonly mtime: number }
  | { readonly op: 'symlink'; readonly path: string; readonly target: string }
  | { readonly op: 'link'; readonly path: string; readonly target: string };

/** A batch of calls and the bytes they write. */
export interface WriteBatch {
  readonly id: number;
  readonly stage: string;
  readonly ops: readonly WriteOp[];
  readonly data: ArrayBuffer;
}

/**
 * The answer to a batch: done, or the first failure (the rest of the batch is not done); `data` is the
 * batch's memory handed back, for the next batch (fresh memory costs page faults).
 */
export interface WriteReply {
  readonly id: number;
  readonly error?: { readonly message: string; readonly code?: string };
  readonly data?: ArrayBuffer;
}

/** Files are created, never opened: an existing name or a symlink in the way is an error. */
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const UMASK = process.umask();

/** Large files stay open between batches, by path. */
const open = new Map<string, number>();

/** Performs calls in order; `data` holds the bytes they write. Also used on the main thread. */
export function performOps(stage: string, ops: readonly WriteOp[], data: Buffer): void {
  for (const op of ops) {
    const path = join(stage, op.path);
    switch (op.op) {
      case 'dir':
        mkdirSync(path, op.mode);
        if ((op.mode & ~UMASK) !== op.mode) chmodSync(path, op.mode);
        break;
      case 'file': {
        const fd = openSync(path, CREATE_FLAGS, op.mode);
        try {
          if (op.length > 0) writeSync(fd, data, op.offset, op.length);
          if ((op.mode & ~UMASK) !== op.mode) fchmodSync(fd, op.mode);
          futimesSync(fd, op.mtime, op.mtime);
        } finally {
          closeSync(fd);
        }
        break;
      }
      case 'open': {
        const fd = openSync(path, CREATE_FLAGS, op.mode);
        open.set(path, fd);
        if ((op.mode & ~UMASK) !== op.mode) fchmodSync(fd, op.mode);
        break;
      }
      case 'write':
        writeSync(open.get(path)!, data, op.offset, op.length);
        break;
      case 'close': {
        const fd = open.get(path)!;
        open.delete(path);
        try {
          futimesSync(fd, op.mtime, op.mtime);
        } finally {
          closeSync(fd);
        }
        break;
      }
      case 'symlink':
        symlinkSync(op.target, path);
        break;
      case 'link':
        linkSync(join(stage, op.target), path);
        break;
    }
  }
}

/** Closes what a failed unpack left open. */
export function closeAll(): void {
  for (const fd of open.values()) closeSync(fd);
  open.clear();
}

parentPort?.on('message', (message: WriteBatch | { readonly id: number; readonly reset: true }) => {
  if ('reset' in message) {
    closeAll();
    parentPort!.postMessage({ id: message.id } satisfies WriteReply);
    return;
  }
  const { data } = message;
  try {
    performOps(message.stage, message.ops, Buffer.from(data));
    parentPort!.postMessage({ id: message.id, data } satisfies WriteReply, [data]);
  } catch (error) {
    const { message: text, code } = error as NodeJS.ErrnoException;
    parentPort!.postMessage(
      { id: message.id, error: { message: text, ...(code ? { code } : {}) }, data } satisfies WriteReply,
      [data],
    );
  }
});
