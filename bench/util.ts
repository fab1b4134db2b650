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
}

/** Runs a command (no shell unless `sh -c`), collecting its output; rejects on a non-zero status. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => {
      const match = /^edgesh-bench-maxrss=(\d+)$/m.exec(stderr);
      const ran = { status, stdout, stderr, ...(match ? { maxRss: Number(match[1]) * 1024 } : {}) };
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
 * Arguments that make a node child print its peak RSS on exit (`--require` of a tiny reporter), to
 * put before the script path.
 */
export async function nodeArgs(): Promise<string[]> {
  if (!rssReporter) {
    rssReporter = join(tmpdir(), `edgesh-bench-rss-${process.pid}.cjs`);
    await writeFile(
      rssReporter,
      "process.on('exit', () => process.stderr.write('edgesh-bench-maxrss=' + process.resourceUsage().maxRSS + '\\n'));\n",
    );
  }
  return ['--require', rssReporter];
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
