// Runs the real binary (dist/bin/edgesh-start.cjs, the bundled shell) as a child process, as tests and benches need.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario } from './fake-services.js';

/** The repository root (this file runs from dist/test/helpers/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The binary the tests run: the installed `edgesh` (package.json `bin`), which starts the bundle. */
export const BIN = join(ROOT, 'dist/bin/edgesh-start.cjs');
/** The module named by EDGESH_SERVICES in tests. */
export const FAKE_SERVICES = join(ROOT, 'dist/test/helpers/fake-services.js');

/** One run of the binary. */
export interface RunOptions {
  readonly args?: readonly string[];
  readonly stdin?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly scenario?: Scenario;
  /** A device directory to use (kept); by default a fresh one is made and removed. */
  readonly device?: string;
}

/** What a run printed, and its exit status. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
}

/** The environment of a test run: fake services, UTF-8, UTC, nothing from the caller that changes output. */
export function testEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
  };
  return { ...env, EDGESH_SERVICES: FAKE_SERVICES, LANG: 'C.UTF-8', TZ: 'UTC', USER: 'admin', ...extra };
}

/** Runs edgesh to completion (bounded by a timeout) and returns what it printed. */
export function runEdgesh(options: RunOptions = {}): RunResult {
  const temp = mkdtempSync(join(tmpdir(), 'edgesh-run-'));
  try {
    const device = options.device ?? join(temp, 'device');
    const extra: Record<string, string> = { ...options.env };
    if (options.scenario !== undefined) {
      const file = join(temp, 'scenario.json');
      writeFileSync(file, JSON.stringify(options.scenario));
      extra.EDGESH_FAKE_SCENARIO = file;
    }
    const args = options.args ?? [];
    // The CLI user is the OS user by default; a fixed one keeps transcripts the same on every machine.
    const user = args.includes('--user') ? [] : ['--user', 'admin'];
    const r = spawnSync(process.execPath, [BIN, '--device', device, ...user, ...args], {
      input: options.stdin ?? '',
      env: testEnv(extra),
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (r.error !== undefined) throw r.error;
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
