// The device lock between processes: a lock file naming its holder, taken over when the holder died.
import { readFileSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { syncDirectory, TEMP_PREFIX, tempOwner, tempPathFor } from '../../common/atomic.js';
import { randomBytes } from '../../common/lazy-crypto.js';
import { DeviceError } from '../errors.js';
import { logTime } from './event-log.js';
import { faultPoint } from './fault.js';

/** Who holds the lock: written into the lock file for the next one to read. */
export interface LockHolder {
  readonly user: string;
  readonly session: string;
  readonly pid: number;
  /** ISO 8601 time the lock was taken. */
  readonly since: string;
  /** Start time of the holder process (Linux clock ticks since boot), to tell a reused pid. */
  readonly start?: string;
  readonly host: string;
  /** Tells two holders with the same pid apart. */
  readonly nonce: string;
}

/** How often a waiter looks at the lock again. */
const POLL_MS = 25;

/** Start time of a process from /proc (field 22 of stat), when the system has /proc. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `holder` still runs (a dead one cannot release the lock). */
export function holderAlive(holder: Pick<LockHolder, 'pid' | 'start' | 'host'>): boolean {
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (holder.start === undefined) return true;
  const start = processStart(holder.pid);
  return start === undefined || start === holder.start;
}

/** Whether the process that made the temporary file `name` (its name holds the pid) still runs here. */
export function tempOwnerAlive(name: string): boolean {
  const pid = tempOwner(name);
  return pid !== undefined && holderAlive({ pid, host: hostname() });
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as LockHolder;
    return typeof value.pid === 'number' && typeof value.nonce === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined | null> {
  try {
    return parseHolder(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Creates `path` with `content` if it does not exist, atomically: a complete file or none. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const tmp = tempPathFor(path, 'lock');
  try {
    await writeFile(tmp, content, { flag: 'wx' });
    faultPoint('lock:written', tmp);
  } catch (error) {
    // A full disk fails the write after the file was created: it must not stay behind.
    await unlink(tmp).catch(() => {});
    throw error;
  }
  try {
    await link(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/**
 * One line naming a holder, for `DEVICE_LOCKED`. The pid is said once: a session id that names it
 * already (the shell's `pid 19677`) is not followed by `(pid 19677)` again.
 */
function describeHolder(holder: LockHolder): string {
  const since = Number.isNaN(Date.parse(holder.since)) ? holder.since : logTime(new Date(holder.since));
  const where = holder.host === hostname() ? [] : [`on ${holder.host}`];
  const named = new RegExp(`\\bpid ${holder.pid}\\b`).test(holder.session);
  const extra = [...(named ? [] : [`pid ${holder.pid}`]), ...where];
  return `session ${holder.session} of user ${holder.user}${extra.length === 0 ? '' : ` (${extra.join(' ')})`} since ${since}`;
}

/**
 * The lock file. `acquire` waits up to `waitMs` and throws `DEVICE_LOCKED` naming the holder; a holder
 * that died (kill -9, power cut) is detected by its pid and start time and its lock is taken over.
 */
export class DeviceLock {
  private readonly breakFile: string;

  constructor(
    private readonly file: string,
    private readonly session: { readonly user: string; readonly id: string },
    private readonly waitMs: number,
  ) {
    this.breakFile = `${file}.break`;
  }

  /**
   * Takes the lock; resolves with the function that releases it, and whether a dead holder's lock was
   * taken over (its operation may be half done: the caller recovers). `waitMs` 0 tries once.
   */
  async acquire(waitMs = this.waitMs): Promise<{ release: () => Promise<void>; stale: boolean }> {
    await mkdir(dirname(this.file), { recursive: true });
    const start = processStart(process.pid);
    const me: LockHolder = {
      user: this.session.user,
      session: this.session.id,
      pid: process.pid,
      since: new Date().toISOString(),
      ...(start === undefined ? {} : { start }),
      host: hostname(),
      nonce: randomBytes(8).toString('hex'),
    };
    const deadline = Date.now() + waitMs;
    let last: LockHolder | undefined;
    let stale = false;
    for (;;) {
      if (await createExclusive(this.file, `${JSON.stringify(me)}\n`)) {
        // Durable before any change it guards: after a power cut, a change means a stale lock.
        await syncDirectory(dirname(this.file));
        await this.removeDeadTemps();
        return { release: () => this.release(me), stale };
      }
      const holder = await readHolder(this.file);
      if (holder === null) continue;
      if (holder === undefined) {
        // Only a hand-made file can be unreadable: createExclusive never shows a partial one.
        stale = true;
        await this.breakStale(undefined);
        continue;
      }
      last = holder;
      if (!holderAlive(holder)) {
        stale = true;
        await this.breakStale(holder);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new DeviceError(
          'DEVICE_LOCKED',
          `device busy: a package operation by ${describeHolder(last)} is in progress; try again when it is done`,
        );
      }
      await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
    }
  }

  /** Whether a lock file is left by a holder that is gone (an operation may have been cut short). */
  async isStale(): Promise<boolean> {
    const holder = await readHolder(this.file);
    return holder === undefined || (holder !== null && !holderAlive(holder));
  }

  private async release(me: LockHolder): Promise<void> {
    const holder = await readHolder(this.file);
    if (holder && holder.nonce === me.nonce) await unlink(this.file).catch(() => {});
  }

  /**
   * Removes a dead holder's lock. A second file serializes the breakers, so that two waiters that both
   * saw the same dead holder cannot remove each other's fresh lock.
   */
  private async breakStale(stale: LockHolder | undefined): Promise<void> {
    const me = {
      pid: process.pid,
      start: processStart(process.pid),
      host: hostname(),
      nonce: randomBytes(8).toString('hex'),
    };
    if (!(await createExclusive(this.breakFile, JSON.stringify(me)))) {
      const breaker = await readHolder(this.breakFile);
      if (breaker === undefined || (breaker && !holderAlive(breaker)))
        await unlink(this.breakFile).catch(() => {});
      await sleep(POLL_MS);
      return;
    }
    try {
      const now = await readHolder(this.file);
      if (now === null) return;
      const same = stale === undefined ? now === undefined : now !== undefined && now.nonce === stale.nonce;
      if (same) await unlink(this.file).catch(() => {});
    } finally {
      await unlink(this.breakFile).catch(() => {});
    }
  }

  /** Whether a holder died while taking the lock and left its temporary file (cheap: one readdir). */
  async hasDeadTemps(): Promise<boolean> {
    return (await this.deadTemps()).length > 0;
  }

  /** Temporary files of holders that died while taking the lock. */
  private async deadTemps(): Promise<string[]> {
    const dir = dirname(this.file);
    const prefix = `${TEMP_PREFIX}${basename(this.file)}`;
    const dead: string[] = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith(prefix)) continue;
      const pid = Number(name.split('.').at(-2));
      if (Number.isInteger(pid) && pid !== process.pid && !holderAlive({ pid, host: hostname() })) {
        dead.push(join(dir, name));
      }
    }
    return dead;
  }

  private async removeDeadTemps(): Promise<void> {
    for (const path of await this.deadTemps()) await rm(path, { force: true });
  }
}
