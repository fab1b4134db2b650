// Writeback while a firmware unpacks: syncfs from one small helper process, not a fork of the device per sync.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { syncFileSystem } from '../boot/rootfs-txn.js';

/** How often a sync is asked for while the last one is done. */
const EVERY_MS = 100;

/** Writeback of one file system while a firmware is written into it. */
export interface Writeback {
  /** Stops the background syncs, waits for the one running, and makes everything durable (syncfs). */
  finish(): Promise<void>;
  /** Stops without a final sync (the write failed: nothing needs to be durable). */
  stop(): Promise<void>;
}

/**
 * Starts writeback of the file system holding `path` while a firmware is written into it, so that the
 * final `syncfs` finds little left to do. A firmware is hundreds of MiB: forking the device process (a
 * large heap) for each `sync -f` cost more CPU than the unpacking it overlapped, so one `sh` reads a
 * line per sync wanted and runs `sync -f` (cheap forks of a small process), answering with a line
 * when done. Should the helper fail, `finish` falls back to the device's own `syncFileSystem`: the
 * background syncs are an optimization, the final one is what correctness rests on.
 */
export function firmwareWriteback(path: string): Writeback {
  let helper: ChildProcessByStdio<Writable, Readable, null> | undefined;
  try {
    helper = spawn('sh', ['-c', 'while read -r _; do sync -f "$0" 2>/dev/null || sync; echo; done', path], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
  } catch {
    helper = undefined;
  }
  let failed = helper === undefined;
  /** Settles when the sync asked for last is done (or the helper is gone). */
  let running: Promise<void> | undefined;
  let answered: (() => void) | undefined;
  const gone = () => {
    failed = true;
    answered?.();
  };
  helper?.on('error', gone);
  helper?.on('close', gone);
  helper?.stdin.on('error', gone);
  helper?.stdout.on('data', () => answered?.());
  const ask = (): Promise<void> => {
    running = new Promise<void>((resolve) => {
      answered = () => {
        answered = undefined;
        running = undefined;
        resolve();
      };
    });
    helper!.stdin.write('\n');
    return running;
  };
  const timer = setInterval(() => {
    if (running === undefined && !failed) void ask();
  }, EVERY_MS);
  timer.unref();
  const end = async (): Promise<void> => {
    clearInterval(timer);
    await running;
  };
  const close = async (): Promise<void> => {
    if (helper === undefined || helper.exitCode !== null || helper.signalCode !== null) return;
    const closed = new Promise<void>((resolve) => helper!.once('close', () => resolve()));
    helper.stdin.end();
    await closed;
  };
  return {
    async finish() {
      await end();
      if (!failed) await ask();
      // The helper's answer means its sync is done; without one, the device syncs itself.
      const synced = !failed;
      await close();
      if (!synced) await syncFileSystem(path);
    },
    async stop() {
      await end();
      await close();
    },
  };
}
