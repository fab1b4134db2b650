// `syncfs` of the device storage through one long-lived shell, and writeback beside an unpacking (boot and firmware).
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';

/**
 * The shell behind the syncs: one `sync -f DIR` (a plain `sync` where `-f` is missing) per line read,
 * one line of answer each. Forking this small shell is cheap; forking the device process is not: the
 * kernel copies its page tables, which blocks the event loop 20 ms for a small process and over
 * 100 ms once a package of 100,000 entries has grown it to a gigabyte, several times a second while
 * writeback runs beside the unpacking.
 */
const SCRIPT =
  'while read -r _; do if sync -f "$1" 2>/dev/null || sync; then echo ok; else echo failed; fi; done';

/** A helper with no request for this long ends (the next sync starts a new one). */
const IDLE_MS = 2000;

/** One running helper for one path. */
class Helper {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly waiting: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private buffered = '';
  private idle: NodeJS.Timeout | undefined;
  dead = false;

  constructor(
    private readonly path: string,
    private readonly onEnd: () => void,
  ) {
    this.child = spawn('sh', ['-c', SCRIPT, 'sh', path], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.child.unref();
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text: string) => this.answer(text));
    this.child.on('error', (error) => this.end(error));
    this.child.on('exit', () => this.end(new Error(`sync -f ${this.path}: the sync helper stopped`)));
    this.child.stdin.on('error', () => {});
    this.hold(false);
  }

  sync(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    this.hold(true);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write('\n');
    });
  }

  /** While an answer is awaited, the pipes keep the process alive; otherwise they must not. */
  private hold(on: boolean): void {
    for (const stream of [this.child.stdin, this.child.stdout]) {
      const socket = stream as unknown as Socket;
      if (on) socket.ref?.();
      else socket.unref?.();
    }
  }

  private answer(text: string): void {
    this.buffered += text;
    for (;;) {
      const newline = this.buffered.indexOf('\n');
      if (newline < 0) break;
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      const waiter = this.waiting.shift();
      if (line === 'ok') waiter?.resolve();
      else waiter?.reject(new Error(`sync -f ${this.path}: failed`));
    }
    if (this.waiting.length === 0) {
      this.hold(false);
      this.idle = setTimeout(() => {
        // Marked dead before the shell is told to end: the next sync starts a new helper.
        this.dead = true;
        this.onEnd();
        this.child.stdin.end();
      }, IDLE_MS);
      this.idle.unref();
    }
  }

  private end(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    if (this.idle) clearTimeout(this.idle);
    this.onEnd();
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

const helpers = new Map<string, Helper>();

/**
 * Makes everything written so far on the file system of `path` durable: one `syncfs` (coreutils
 * `sync -f`) instead of an fsync per file; a `sync` where `-f` is missing. Runs in a helper shell that
 * stays for a while after its last sync; if the helper cannot be used, `sync` is started directly.
 */
export async function syncFileSystem(path: string): Promise<void> {
  let helper = helpers.get(path);
  if (helper === undefined || helper.dead) {
    const started = new Helper(path, () => {
      if (helpers.get(path) === started) helpers.delete(path);
    });
    helpers.set(path, started);
    helper = started;
  }
  try {
    await helper.sync();
  } catch {
    await syncDirectly(path);
  }
}

/** Writeback of one file system while something is unpacked into it. */
export interface Writeback {
  /** Stops the background syncs and waits for the one running (a failed write needs nothing durable). */
  stop(): Promise<void>;
  /** Stops, then makes everything written so far durable: the final sync correctness rests on. */
  finish(): Promise<void>;
}

/**
 * Starts writeback of the file system holding `path` while a package or a firmware unpacks into it: a
 * sync whenever none is running, so that the final one finds little left to write. The background
 * syncs are only an optimization (a failed one is ignored); `finish` is the sync that counts.
 */
export function backgroundSync(path: string, everyMs = 100): Writeback {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = syncFileSystem(path)
      .catch(() => {})
      .finally(() => {
        running = undefined;
      });
  }, everyMs);
  timer.unref();
  const stop = async (): Promise<void> => {
    clearInterval(timer);
    await running;
  };
  return {
    stop,
    finish: async () => {
      await stop();
      await syncFileSystem(path);
    },
  };
}

/** `sync -f PATH` (or `sync`) in a process of its own. */
async function syncDirectly(path: string): Promise<void> {
  try {
    await run('sync', ['-f', path]);
  } catch {
    await run('sync', []);
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')}: exit status ${code}`)),
    );
  });
}
