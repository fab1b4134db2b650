// Runs the real binary (dist/bin/edgesh-start.cjs, the bundled shell) as a child process, as tests and benches need.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openDevice } from '../../firmware-sim/index.js';
import { BIN, ROOT } from '../../lab/paths.js';
import { provision } from './device-services.js';
import { buildWorld, type World, type WorldConfig } from './world.js';

export { BIN, ROOT } from '../../lab/paths.js';
/** The module named by EDGESH_SERVICES in tests: the real device, a mock network, a fixed drive list. */
export const DEVICE_SERVICES = join(ROOT, 'dist/test/helpers/device-services.js');

/**
 * Building the world and the template device takes about a second. Should it ever stall, the file
 * fails within two minutes, saying at which step and with which handles open (from a diagnostic
 * report), instead of holding the suite until the runner's file timeout.
 */
let step = 'building the world';
const stalled = setTimeout(() => {
  const report = process.report.getReport() as {
    libuv?: Array<{ type: string; is_active: boolean; details?: string }>;
  };
  const handles = (report.libuv ?? [])
    .filter((h) => h.is_active)
    .map((h) => `${h.type} ${h.details ?? ''}`.trim());
  process.stderr.write(`test world: still ${step} after 120 s; active handles: ${handles.join(', ')}\n`);
  process.exit(70);
}, 120_000);
stalled.unref();

/** The world of the manual's examples (test/helpers/world.ts), built once per test process. */
export const WORLD: World = await buildWorld();
/** Its config file, as every run gets it unless the test names another. */
const WORLD_CONFIG = WORLD.configFile();

/**
 * A device created and provisioned once per test process; each run without a device of its own gets
 * a copy (creating a device signs its sample packages: a copy is much cheaper).
 */
const TEMPLATE = join(WORLD.dir, 'template-device');
step = 'opening the template device';
await openDevice(TEMPLATE, {
  session: { user: 'admin', id: 'template' },
  vendorDir: WORLD.config.vendorDir!,
});
provision(TEMPLATE, WORLD.config.provision ?? {});
clearTimeout(stalled);

/** One run of the binary. */
export interface RunOptions {
  readonly args?: readonly string[];
  readonly stdin?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Changes to the world for this run (a provisioned device, other servers). */
  readonly world?: Partial<WorldConfig>;
  /** A device directory to use (kept); by default a fresh one is made and removed. */
  readonly device?: string;
}

/** What a run printed, and its exit status. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
}

/** The environment of a test run: the device services, UTF-8, UTC, nothing from the caller that changes output. */
export function testEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
  };
  return {
    ...env,
    EDGESH_SERVICES: DEVICE_SERVICES,
    EDGESH_E2E_CONFIG: WORLD_CONFIG,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    USER: 'admin',
    ...extra,
  };
}

/** Runs edgesh to completion (bounded by a timeout) and returns what it printed. */
export function runEdgesh(options: RunOptions = {}): RunResult {
  // Under /tmp, a path of fixed length: a transcript hides it without moving a column.
  const temp = mkdtempSync('/tmp/edgesh-run-');
  try {
    const device = options.device ?? join(temp, 'device');
    if (options.device === undefined) {
      // Verbatim: the links of the firmware slots are relative and must stay in the copy.
      cpSync(TEMPLATE, device, { recursive: true, verbatimSymlinks: true });
      if (options.world?.provision !== undefined) provision(device, options.world.provision);
    }
    const extra: Record<string, string> = { ...options.env };
    if (options.world !== undefined) extra.EDGESH_E2E_CONFIG = WORLD.configFile(options.world);
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
