// Maintainer scripts (preinst, postinst, prerm, postrm): sh, cwd the root, a timeout, output kept.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The scripts a package may carry, in the order of dpkg's names. */
export type ScriptName = 'preinst' | 'postinst' | 'prerm' | 'postrm';

/** How one run went. */
export interface ScriptRun {
  readonly ok: boolean;
  /** `exit status 1`, `killed after 30000 ms`, `could not start: …`. */
  readonly status: string;
  /** Output lines (stdout and stderr interleaved), at most `MAX_LINES`. */
  readonly output: readonly string[];
}

const MAX_OUTPUT = 64 * 1024;
const MAX_LINES = 50;

/** What a script runs with. */
export interface ScriptContext {
  readonly rootfs: string;
  /** A directory for the script file (the transaction area). */
  readonly workDir: string;
  readonly packageName: string;
  readonly version: string;
  readonly timeoutMs: number;
}

/** The whole environment of a script besides its own variables: nothing of the shell's session leaks in. */
const SCRIPT_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LC_ALL: 'C',
} as const;

/**
 * Runs `script` as `sh FILE ARGS…` with cwd `rootfs` and nothing but the environment `PKG_ROOT`,
 * `PKG_NAME`, `PKG_VERSION`, `DPKG_MAINTSCRIPT_NAME`, a fixed PATH and `LC_ALL=C`, in a process group
 * of its own that is killed when the script ends or times out: a child it left running in the
 * background does not outlive it. (One that leaves the group, `setsid`, does: scripts are not confined.)
 */
export async function runScript(
  which: ScriptName,
  script: Buffer,
  args: readonly string[],
  ctx: ScriptContext,
): Promise<ScriptRun> {
  await mkdir(ctx.workDir, { recursive: true });
  const file = join(ctx.workDir, `${which}.sh`);
  await writeFile(file, script, { mode: 0o700 });
  return new Promise<ScriptRun>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: Buffer) => {
      if (size >= MAX_OUTPUT) return;
      chunks.push(chunk.subarray(0, MAX_OUTPUT - size));
      size += chunk.length;
    };
    const child = spawn('sh', [file, ...args], {
      cwd: ctx.rootfs,
      env: {
        ...SCRIPT_ENV,
        PKG_ROOT: ctx.rootfs,
        // `rootfs/` is a link to the running firmware slot: `pwd` shows the root as it is named.
        PWD: ctx.rootfs,
        PKG_NAME: ctx.packageName,
        PKG_VERSION: ctx.version,
        DPKG_MAINTSCRIPT_NAME: which,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    // The group id is the script's pid; the kernel does not hand that number to another process while
    // any member of the group lives, so this never reaches a stranger.
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // ESRCH: the group is empty already.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, ctx.timeoutMs);
    let done = false;
    const finish = (ok: boolean, status: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      const lines = text.split('\n').filter((line) => line.trim() !== '');
      const output =
        lines.length > MAX_LINES
          ? [...lines.slice(0, MAX_LINES), `(${lines.length - MAX_LINES} more lines)`]
          : lines;
      resolve({ ok, status, output });
    };
    child.on('error', (error) => finish(false, `could not start: ${error.message}`));
    const exited = (code: number | null, signal: NodeJS.Signals | null) => {
      if (timedOut) finish(false, `killed after ${ctx.timeoutMs} ms`);
      else if (code === 0) finish(true, 'exit status 0');
      else finish(false, signal ? `killed by ${signal}` : `exit status ${code}`);
    };
    child.on('close', exited);
    child.on('exit', (code, signal) => {
      // What the script left running in its group goes with it (its output pipes then close too);
      // one that left the group may keep them open: do not wait for it long.
      killGroup();
      setTimeout(() => exited(code, signal), 200).unref();
    });
  });
}
