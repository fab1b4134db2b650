// Shared tools of the benchmarks: timing, peak RSS of a child process, big test files, scratch dirs.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MiB = 1024 * 1024;

/** Best (lowest) wall time in seconds of `runs` runs: the fairest figure for both sides. */
export async function best(runs: number, run: () => Promise<unknown>): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run();
    fastest = Math.min(fastest, (performance.now() - start) / 1000);
  }
  return fastest;
}

/** The lowest of some measurements: the fairest figure for both sides on a shared machine. */
export function lowest(xs: readonly number[]): number {
  return Math.min(...xs);
}

/** The median of some measurements. */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/** What a child process did. */
export interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Peak resident set size in bytes (node children only, see `nodeArgs`). */
  readonly maxRss?: number;
  /** CPU ms of the main thread and of the whole process (node children only). */
  readonly cpu?: { readonly mainMs: number; readonly totalMs: number };
  /** The breakdown of each install the child made (`edgesh:receive`), as published. */
  readonly receives?: readonly Readonly<Record<string, number>>[];
}

/** Options of `runCommand`. */
export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed (otherwise stdin is /dev/null). */
  readonly input?: string;
}

/** Runs a command (no shell unless `sh -c`), collecting its output; rejects on a non-zero status. */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    child.stdin?.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => {
      const match = /^edgesh-bench-maxrss=(\d+)$/m.exec(stderr);
      const cpu = /^edgesh-bench-cpu=(\d+),(\d+)$/m.exec(stderr);
      const receives = [...stderr.matchAll(/^edgesh-bench-receive=(.*)$/gm)].map((m) => JSON.parse(m[1]!));
      const ran = {
        status,
        stdout,
        stderr,
        ...(match ? { maxRss: Number(match[1]) * 1024 } : {}),
        ...(cpu ? { cpu: { mainMs: Number(cpu[1]), totalMs: Number(cpu[2]) } } : {}),
        ...(receives.length > 0 ? { receives } : {}),
      };
      if (status === 0) resolve(ran);
      else
        reject(
          new Error(`${command} ${args.join(' ')} exited ${status}: ${stderr.trim().split('\n').at(-1)}`),
        );
    });
  });
}

let rssReporter: string | undefined;

/**
 * What the reporter of `nodeArgs` prints when the program exits (one line each, on stderr):
 * - `edgesh-bench-maxrss=KB`: the program's own peak RSS (VmHWM: getrusage's maxRSS also counts the
 *   parent's pages the process had between fork and exec, so a large bench process would show in every
 *   child it starts);
 * - `edgesh-bench-cpu=MAIN,TOTAL`: CPU ms of the main thread (/proc/self/task/PID/stat) and of the
 *   whole process (`process.cpuUsage`, threads that ended included);
 * - `edgesh-bench-receive=JSON`: each install's breakdown, as published on the `edgesh:receive`
 *   diagnostics channel (firmware-sim/store/receive.ts).
 */
const REPORTER = `'use strict';
const { isMainThread } = require('node:worker_threads');
if (isMainThread) {
  const fs = require('node:fs');
  const received = [];
  require('node:diagnostics_channel').subscribe('edgesh:receive', (message) => received.push(message));
  process.on('exit', () => {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const hwm = /^VmHWM:\\s+(\\d+) kB$/m.exec(status);
    let main = 0;
    try {
      const stat = fs.readFileSync('/proc/self/task/' + process.pid + '/stat', 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      main = (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {}
    const cpu = process.cpuUsage();
    process.stderr.write('edgesh-bench-maxrss=' + (hwm ? hwm[1] : process.resourceUsage().maxRSS) + '\\n');
    process.stderr.write('edgesh-bench-cpu=' + main + ',' + Math.round((cpu.user + cpu.system) / 1000) + '\\n');
    for (const r of received) process.stderr.write('edgesh-bench-receive=' + JSON.stringify(r) + '\\n');
  });
}
`;

/**
 * Arguments that make a node child print its peak RSS, its CPU time and its installs' breakdown on
 * exit (`--require` of a tiny reporter, above), to put before the script path.
 */
export async function nodeArgs(): Promise<string[]> {
  if (!rssReporter) {
    rssReporter = join(tmpdir(), `edgesh-bench-rss-${process.pid}.cjs`);
    await writeFile(rssReporter, REPORTER);
  }
  return ['--require', rssReporter];
}

/**
 * The same reporter as `nodeArgs`, as a `NODE_OPTIONS` value: for a node program started the way the
 * product starts it (a bin run through its shebang, whose own node flags must stay in force).
 */
export async function nodeOptions(): Promise<string> {
  const args = await nodeArgs();
  const inherited = process.env.NODE_OPTIONS ?? '';
  return `${inherited} ${args.join(' ')}`.trim();
}

/** A run that knows how long it took. */
export interface Timed {
  readonly seconds: number;
}

/** Times one run in seconds, wall clock from call to settlement. */
export async function timed<T>(run: () => Promise<T>): Promise<T & Timed> {
  const start = performance.now();
  const value = await run();
  return { ...value, seconds: (performance.now() - start) / 1000 };
}

/**
 * Runs every side once per round, in turn, for `rounds` rounds (so that a busy moment of the machine
 * hits all sides alike), and returns each side's runs; `fastest` then picks the figure that counts.
 */
export async function alternate<T>(rounds: number, sides: readonly (() => Promise<T>)[]): Promise<T[][]> {
  const all: T[][] = sides.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, side] of sides.entries()) all[i]!.push(await side());
  }
  return all;
}

/** The run with the lowest time. */
export function fastest<T extends Timed>(runs: readonly T[]): T {
  if (runs.length === 0) throw new Error('no runs');
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

/** Writes `size` bytes that no compressor shrinks much (a repeated SHA-512 stream), quickly. */
export async function writeNoise(path: string, size: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    const chunk = Buffer.alloc(4 * MiB);
    let block = createHash('sha512').update(path).digest();
    for (let i = 0; i < chunk.length; i += block.length) {
      block.copy(chunk, i);
      block = createHash('sha512').update(block).digest();
    }
    for (let written = 0; written < size; written += chunk.length) {
      await handle.write(chunk, 0, Math.min(chunk.length, size - written));
    }
  } finally {
    await handle.close();
  }
}

/** A scratch directory removed by `cleanup`. */
export async function scratch(name: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `edgesh-bench-${name}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Whether a command exists on this machine. */
export async function haveCommand(command: string): Promise<boolean> {
  return runCommand('sh', ['-c', `command -v ${command}`]).then(
    () => true,
    () => false,
  );
}
