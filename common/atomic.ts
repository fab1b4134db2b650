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
 * A file being written under a temporary name next to its path, fsynced and closed on the thread
 * pool while the caller goes on: put in place by writeFilesAtomic (or `place`), else discarded.
 */
export interface PreparedFile {
  /** Where it goes. */
  readonly path: string;
  /** Settles when the temporary file is written, fsynced and closed (rejects on a write error). */
  readonly ready: Promise<void>;
  /** Renames it to `path` once ready (the caller makes the directory durable). */
  place(): Promise<void>;
  /** Removes the temporary file once the write has settled, unless it was placed. */
  discard(): Promise<void>;
}

/**
 * Starts writing `data` for `path` (see PreparedFile): the write and its fsync overlap whatever the
 * caller does next, and nothing is at `path` until it is placed. The temporary name holds this
 * process's id, so that recovery spares it while this process runs (lifecycle/reset-feeds.ts).
 */
export function prepareFile(path: string, data: Uint8Array | string, mode = 0o644): PreparedFile {
  const tmp = tempPathFor(path);
  let placed = false;
  const ready = (async () => {
    const handle = await open(tmp, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  })();
  // Observed by place and discard; a rejection nobody waits for would end the process.
  ready.catch(() => {});
  return {
    path,
    ready,
    async place() {
      await ready;
      await rename(tmp, path);
      placed = true;
    },
    async discard() {
      await ready.catch(() => {});
      if (!placed) await rm(tmp, { force: true });
    },
  };
}

/** Whether a value of writeFilesAtomic's map is a file already being written. */
function isPrepared(data: Uint8Array | string | PreparedFile): data is PreparedFile {
  return typeof data === 'object' && 'place' in data;
}

/**
 * Writes several files of one directory atomically (each to a temporary file, fsynced, renamed), at
 * once, then fsyncs the directory once: when it returns, every file is durable, as after
 * `writeFileAtomic` of each in turn, for one directory sync instead of one each. A file may be given
 * already prepared (prepareFile, for a path in `dir`). `written` is called as each file is in
 * place. A failure leaves the files already renamed (the caller names only fresh paths that nothing
 * refers to yet) and no temporary file.
 */
export async function writeFilesAtomic(
  dir: string,
  files: ReadonlyMap<string, Uint8Array | string | PreparedFile>,
  written: (name: string) => void = () => {},
): Promise<void> {
  if (files.size === 0) return;
  const prepared = [...files].map(([name, data]) => {
    if (isPrepared(data) && data.path !== join(dir, name))
      throw new Error(`${data.path} is not ${name} in ${dir}`);
    return [name, isPrepared(data) ? data : prepareFile(join(dir, name), data)] as const;
  });
  try {
    const results = await Promise.allSettled(
      prepared.map(async ([name, file]) => {
        await file.place();
        written(name);
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await syncDirectory(dir);
  } finally {
    await Promise.all(prepared.map(([, file]) => file.discard()));
  }
}
