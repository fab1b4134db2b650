// Drives the real binary in a pseudo-terminal (node-pty): type keys, wait for text, read the screen stream.
import { type IPty, spawn as spawnPty } from 'node-pty';
import { BIN } from './paths.js';

/** Removes terminal control sequences, so that tests look at the text a person would see. */
function stripAnsi(text: string): string {
  return text
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')
    .replace(/\x1b\][^\x07]*\x07/g, '')
    .replace(/\x1b[=>78]/g, '')
    .replace(/\r/g, '');
}

/** One interactive edgesh in a pty. */
export class PtyShell {
  private raw = '';
  private readonly waiters = new Set<() => void>();
  private exitCode: number | undefined;
  private readonly pty: IPty;

  /**
   * Runs edgesh with `args`, or `program` (a file and its arguments) instead when given, in `base`
   * (this process's environment by default) plus `env`.
   */
  constructor(
    args: readonly string[],
    env: Readonly<Record<string, string>> = {},
    program: readonly [string, readonly string[]] = [process.execPath, [BIN, ...args]],
    base: NodeJS.ProcessEnv = process.env,
  ) {
    this.pty = spawnPty(program[0], [...program[1]], {
      // node-pty sets TERM to the terminal's name: a TERM asked for (`dumb`) is that name.
      name: env.TERM ?? 'xterm',
      cols: 100,
      rows: 40,
      env: { ...base, ...env } as Record<string, string>,
    });
    this.pty.onData((d) => {
      this.raw += d;
      for (const w of this.waiters) w();
    });
    this.pty.onExit((e) => {
      this.exitCode = e.exitCode;
      for (const w of this.waiters) w();
    });
  }

  /** Everything the program wrote, control sequences included. */
  get output(): string {
    return this.raw;
  }

  /** Where the output stands now; pass it to `waitFor` to look only at what comes after. */
  mark(): number {
    return this.raw.length;
  }

  /** Types text (keys, `\r` for Enter, `\t` for TAB, `\x03` for Ctrl-C, `\x04` for Ctrl-D). */
  type(text: string): void {
    this.pty.write(text);
  }

  /** Resolves with the visible text since `from` once it matches; fails after `ms` (an upper bound only). */
  waitFor(pattern: RegExp | string, from = 0, ms = 15_000): Promise<string> {
    const test = (): string | undefined => {
      const text = stripAnsi(this.raw.slice(from));
      const hit = typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
      return hit ? text : undefined;
    };
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const text = test();
        if (text !== undefined) {
          done();
          resolve(text);
        } else if (this.exitCode !== undefined) {
          done();
          reject(
            new Error(
              `edgesh exited (${this.exitCode}) before ${String(pattern)} appeared:\n${stripAnsi(this.raw.slice(from))}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`timed out waiting for ${String(pattern)}; screen:\n${stripAnsi(this.raw.slice(from))}`),
        );
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves with the exit code. */
  exited(ms = 15_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('edgesh did not exit')), ms);
      const check = (): void => {
        if (this.exitCode === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.exitCode);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The program's process id. */
  get pid(): number {
    return this.pty.pid;
  }

  /** Sends `signal` to the program (the terminal stays open). */
  signal(signal: NodeJS.Signals): void {
    process.kill(this.pty.pid, signal);
  }

  /** Resizes the terminal window, as a person dragging its corner does (the program gets SIGWINCH). */
  resize(cols: number, rows: number): void {
    this.pty.resize(cols, rows);
  }

  /** Ends the program if it still runs. */
  kill(): void {
    if (this.exitCode === undefined) this.pty.kill();
  }
}

/**
 * The first minute of an operator's session, typed into `shell` (started as `user`): the first
 * prompt, keys typed ahead and completed by TAB, the line dropped (Ctrl-U), a command run, the next
 * prompt, Ctrl-D. The build fills vorpal's code cache with it (scripts/bundle.ts), and a test checks
 * that the cache holds what it compiles. Resolves with the exit status.
 */
export async function typeFirstSession(shell: PtyShell, user: string): Promise<number> {
  await shell.waitFor(':/>');
  shell.type('pack\t');
  await shell.waitFor('package ');
  const mark = shell.mark();
  shell.type('\x15whoami\r');
  await shell.waitFor(new RegExp(`${user}[\\s\\S]*:/>`), mark);
  shell.type('\x04');
  return shell.exited();
}
