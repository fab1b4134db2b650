// Crash-safe file writes: a temporary file in the same directory, fsync, rename, fsync the directory.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { randomBytes } from './lazy-crypto.js';

/** Prefix of every temporary file the device writes; startup recovery removes leftovers by it. */
export const TEMP_PREFIX = '.tmp-';

/** A fresh temporary path next to `path` (same directory, so the rename stays on one file system). */
export function tempPathFor(path: string, tag = 'new'): string {
  return join(
    dirname(path),
    `${TEMP_PREFIX}${basename(path)}.${tag}.${process.pid}.${randomBytes(4).toString('hex')}`,
  );
}

/** The process that made a temporary file (its name holds the pid), or `undefined` if not one of ours. */
export function tempOwner(name: string): number | undefined {
  if (!name.startsWith(TEMP_PREFIX)) return undefined;
  const pid = Number(name.split('.').at(-2));
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** fsyncs a directory so that a rename or unlink in it survives power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Renames and makes the rename durable. */
export async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  await syncDirectory(dirname(to));
}

/**
 * Writes `path` atomically. `produce` writes the content through the given stream (or `data` is
 * written as is); the result of `produce` is returned. On any failure the temporary file is
 * removed and `path` is untouched.
 */
export async function writeFileAtomic<T = void>(
  path: string,
  data: Uint8Array | string | ((out: Writable) => Promise<T>),
  mode = 0o644,
  syncDir = true,
): Promise<T | undefined> {
  const tmp = tempPathFor(path);
  // `flush` fsyncs the descriptor before it is closed.
  const out = createWriteStream(tmp, { flags: 'wx', mode, flush: true, highWaterMark: 1024 * 1024 });
  // Errors surface through `once` and `out.errored`; this listener keeps a late one from crashing.
  out.on('error', () => {});
  let done = false;
  try {
    await once(out, 'open');
    let result: T | undefined;
    if (typeof data === 'function') result = await data(out);
    else out.write(data);
    out.end();
    await once(out, 'close');
    if (out.errored) throw out.errored;
    if (syncDir) await renameDurably(tmp, path);
    else await rename(tmp, path);
    done = true;
    return result;
  } finally {
    if (!done) {
      out.destroy();
      await rm(tmp, { force: true });
    }
  }
}

/**
 * Writes several files of one directory atomically (each to a temporary file, fsynced, renamed), at
 * once, then fsyncs the directory once: when it returns, every file is durable, as after
 * `writeFileAtomic` of each in turn, for one directory sync instead of one each. `written` is
 * called as each file is in place. A failure leaves the files already renamed (the caller names
 * only fresh paths that nothing refers to yet) and no temporary file.
 */
export async function writeFilesAtomic(
  dir: string,
  files: ReadonlyMap<string, Uint8Array | string>,
  written: (name: string) => void = () => {},
): Promise<void> {
  if (files.size === 0) return;
  const results = await Promise.allSettled(
    [...files].map(async ([name, data]) => {
      await writeFileAtomic(join(dir, name), data, 0o644, false);
      written(name);
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  await syncDirectory(dir);
}
