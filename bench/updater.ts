// Benchmarks of the updater at fleet scale, against nginx on loopback (docs/updater.md, "Cheap at fleet scale").
//
// Run: `npm run bench updater` (as root, with nginx and curl installed). nginx is started by
// .ci/setup.d/50-updater.sh under its own state directory and port (2191) and stopped afterwards; its
// access log (method, path, status, body bytes per request) is what the fleet figures are read from.
//
// - `edgesh-updater` on a device that is current (bin/edgesh-updater, as cron starts it) against the
//   cheapest conditional request a shell script could make, `curl -s -z FILE URL`: target ≤ 2.0.
// - A fleet of 1,000 simulated devices (state directories): each runs `edgesh-updater` once with the feed
//   unchanged (target: ≤ 1 KiB of response body per device), then once after a new version is published
//   with `Rollout: 10` (target: 10 % ± 3 of the devices take it); bytes per device and wall times.
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createFeedFetcher } from '../contexts/feed-fetch.js';
import { indexFeed } from '../firmware-sim/feeds/index.js';
import {
  DEVICE_DEFAULTS,
  type LocalDevice,
  loadOrCreateVendorKeys,
  loadVendorSecretKey,
  openDevice,
} from '../firmware-sim/index.js';
import { loadRecords } from '../firmware-sim/store/packages.js';
import { buildPackage } from '../lab/packages.js';
import { openRemote } from '../transports/index.js';
import type { Bench, BenchResult } from './types.js';
import { alternate, fastest, haveCommand, runCommand, scratch, type Timed, timed } from './util.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SETUP = join(ROOT, '.ci', 'setup.d', '50-updater.sh');
const UPDATER = join(ROOT, 'bin', 'edgesh-updater');
const BENCH_ENV = { UPDATER_STATE: '/var/lib/edgesh-updater-bench', UPDATER_HTTP_PORT: '2191' };
const SRV = join(BENCH_ENV.UPDATER_STATE, 'srv');
const ACCESS_LOG = join(BENCH_ENV.UPDATER_STATE, 'log', 'access.log');
const BASE = `http://127.0.0.1:${BENCH_ENV.UPDATER_HTTP_PORT}`;

/**
 * Rounds of the one-device comparison (alternating, the best of each side counts): both sides take tens
 * of milliseconds, so on a shared machine one lucky round of either side decides the ratio; 41 rounds
 * give both sides their quiet moments.
 */
const RUNS = 41;
/**
 * Devices of the fleet (`UPDATER_BENCH_FLEET` for a quick try; 0 runs the one-device comparison only),
 * and how many run at once (two cores, shared).
 */
const FLEET = Number(process.env.UPDATER_BENCH_FLEET ?? 1000);
const AT_ONCE = 4;

const exec = promisify(execFile);

async function missing(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root to start nginx';
  for (const tool of ['nginx', 'curl']) if (!(await haveCommand(tool))) return `${tool} is not installed`;
  return undefined;
}

/** The fetcher edgesh-updater builds: the real transports, nobody to ask. */
function fetcherOf(device: LocalDevice) {
  return createFeedFetcher({
    openRemote,
    defaultPorts: DEVICE_DEFAULTS.defaultPorts,
    user: 'updater',
    knownHostsFile: device.paths.knownHostsFile,
    caDir: device.paths.caDir,
  });
}

/** nginx's access log from `from` on: requests, and the response body bytes they cost. */
async function served(
  from: number,
  feed: string,
): Promise<{ size: number; requests: number; bytes: number; lines: string[] }> {
  const text = await readFile(ACCESS_LOG, 'utf8');
  const lines = text
    .slice(from)
    .split('\n')
    .filter((l) => l.includes(`/${feed}/`));
  const bytes = lines.reduce((sum, l) => sum + Number(l.split(' ')[3] ?? 0), 0);
  return { size: text.length, requests: lines.length, bytes, lines };
}

/** Runs `task` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item);
    }),
  );
}

/**
 * A device that asked for `a` from the feed `feed` and is current: two runs (the first applies, the
 * second finds nothing to do and leaves the shortcut).
 */
async function currentDevice(dir: string, vendorDir: string, feed: string): Promise<LocalDevice> {
  const device = await openDevice(dir, { session: { user: 'bench', id: 'bench' }, vendorDir });
  await device.setFeed({ name: 'main', url: `${BASE}/${feed}`, persistent: false });
  await device.updater.setRequest({ kind: 'install', name: 'a', priority: 50 });
  for (const expected of ['applied', 'nothing-to-do']) {
    const outcome = await device.updater.run({ fetcher: fetcherOf(device), trigger: 'timer' });
    if (outcome.result !== expected)
      throw new Error(`setting up ${dir}: ${outcome.result}, ${outcome.message ?? ''}`);
  }
  return device;
}

/** A feed of `a` (needing `b`) and `b`, signed by the vendor, with a Release valid for a week. */
async function publishFeed(
  feed: string,
  vendorDir: string,
  extra: Array<{ name: string; version: string }> = [],
  rollout?: Map<string, number>,
) {
  const dir = join(SRV, feed);
  await mkdir(dir, { recursive: true });
  const key = await loadVendorSecretKey(vendorDir);
  for (const p of [{ name: 'a', version: '1.0' }, { name: 'b', version: '1.0' }, ...extra]) {
    await buildPackage(
      dir,
      { ...p, ...(p.name === 'a' ? { depends: 'b' } : {}), sign: key },
      `${p.name}_${p.version}_all.wmopkg`,
    );
  }
  await indexFeed(dir, { sign: key, validForDays: 7, ...(rollout ? { rollout } : {}) });
}

/** `edgesh-updater --device DIR` as cron starts it; rejects unless it ends with status 0. */
function updaterRun(dir: string): Promise<Timed & { stdout: string }> {
  return timed(async () => {
    const r = await runCommand(UPDATER, ['--device', dir]).catch((e: Error) => {
      throw new Error(`edgesh-updater --device ${dir}: ${e.message}`);
    });
    return { stdout: r.stdout };
  });
}

async function oneDevice(work: string, vendorDir: string): Promise<BenchResult> {
  const feed = 'one';
  await publishFeed(feed, vendorDir);
  const dir = join(work, 'device');
  await currentDevice(dir, vendorDir, feed);
  // The reference: the file the device asks about, kept with the server's time (curl -R), asked again.
  const kept = join(work, 'Release');
  const url = `${BASE}/${feed}/Release`;
  await runCommand('curl', ['-s', '-R', '-o', kept, url]);
  const from = (await served(0, feed)).size;
  const curl = () => timed(() => runCommand('curl', ['-s', '-z', kept, url]));
  await curl();
  const [ours, theirs] = await alternate<Timed>(RUNS, [() => updaterRun(dir), curl]);
  const log = await served(from, feed);
  const heads = log.lines.filter((l) => l.startsWith('HEAD ')).length;
  if (heads !== RUNS || log.lines.some((l) => !/ 304 0$/.test(l))) {
    throw new Error(`the device was not current on every run: ${log.lines.join('; ')}`);
  }
  const a = fastest(ours!);
  const b = fastest(theirs!);
  return {
    name: 'edgesh-updater on a current device',
    reference: 'curl -s -z FILE URL',
    ours: round(a.seconds),
    theirs: round(b.seconds),
    target: 2.0,
    kind: 'ratio',
    unit: 's',
    note: `best of ${RUNS} alternating runs, process start to exit; every run of ours one HEAD answered 304 (ours ${ours!.map((r) => r.seconds.toFixed(3)).join(', ')} s; curl ${theirs!.map((r) => r.seconds.toFixed(3)).join(', ')} s)`,
  };
}

async function fleet(work: string, vendorDir: string): Promise<BenchResult[]> {
  const feed = 'fleet';
  await publishFeed(feed, vendorDir);
  const template = join(work, 'template');
  await currentDevice(template, vendorDir, feed);
  await rm(join(template, 'media', 'usb0'), { recursive: true, force: true });
  const dirs = Array.from({ length: FLEET }, (_, i) => join(work, 'fleet', `d${String(i).padStart(4, '0')}`));
  // Each device is the template with a serial of its own; its shortcut stays valid (its content does
  // not depend on the serial), so it is made newer than device.json, as a run of its own would leave it.
  const later = new Date(Date.now() + 60_000);
  await pool(dirs, 8, async (dir) => {
    await cp(template, dir, { recursive: true });
    const file = join(dir, 'device.json');
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    json.serial = `WM${Number(dir.slice(-4)).toString(16).toUpperCase().padStart(10, '0')}`;
    await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
    await utimes(join(dir, 'var/lib/updater/current'), later, later);
  });
  const serials = new Set<string>();
  for (const dir of dirs)
    serials.add((JSON.parse(await readFile(join(dir, 'device.json'), 'utf8')) as { serial: string }).serial);
  if (serials.size !== FLEET) throw new Error(`serials not distinct: ${serials.size}`);

  let from = (await served(0, feed)).size;
  const unchanged = await timed(async () => {
    await pool(dirs, AT_ONCE, async (dir) => {
      await updaterRun(dir);
    });
    return {};
  });
  const quiet = await served(from, feed);
  from = quiet.size;

  // A new version for a tenth of the fleet; nginx's validators have one-second resolution.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await publishFeed(feed, vendorDir, [{ name: 'a', version: '2.0' }], new Map([['a', 10]]));
  const published = await timed(async () => {
    await pool(dirs, AT_ONCE, async (dir) => {
      await updaterRun(dir);
    });
    return {};
  });
  const busy = await served(from, feed);
  let took = 0;
  for (const dir of dirs) {
    const { records } = await loadRecords(
      (await openDevice(dir, { session: { user: 'bench', id: 'count' }, vendorDir })).paths,
    );
    if (records.get('a')?.version === '2.0') took++;
  }
  const share = (took / FLEET) * 100;
  return [
    {
      name: `fleet of ${FLEET}: response body per device, feed unchanged`,
      reference: '—',
      ours: quiet.bytes / FLEET,
      theirs: 0,
      target: 1024,
      kind: 'absolute',
      unit: 'B',
      note: `${quiet.requests} requests for ${FLEET} devices (${quiet.lines.filter((l) => / 304 /.test(l)).length} answered 304), wall ${unchanged.seconds.toFixed(1)} s with ${AT_ONCE} at a time`,
    },
    {
      name: `fleet of ${FLEET}: share taking a Rollout: 10 version (distance from 10 %)`,
      reference: '—',
      ours: Math.abs(share - 10),
      theirs: 0,
      target: 3,
      kind: 'absolute',
      unit: 'pp',
      note: `${took} of ${FLEET} devices took a 2.0 (${share.toFixed(1)} %); after publishing: ${(busy.bytes / FLEET / 1024).toFixed(1)} KiB and ${(busy.requests / FLEET).toFixed(2)} requests per device, wall ${published.seconds.toFixed(1)} s with ${AT_ONCE} at a time`,
    },
  ];
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

async function runAll(): Promise<BenchResult[]> {
  const why = await missing();
  if (why !== undefined) throw new Error(`updater benches skipped: ${why}`);
  const envFile = join(BENCH_ENV.UPDATER_STATE, 'bench.env');
  await exec('bash', [SETUP], { env: { ...process.env, ...BENCH_ENV, INTEROP_ENV: envFile } });
  const { dir, cleanup } = await scratch('updater');
  try {
    const vendorDir = join(dir, 'vendor');
    await loadOrCreateVendorKeys(vendorDir);
    await rm(SRV, { recursive: true, force: true });
    await mkdir(SRV, { recursive: true });
    return [await oneDevice(dir, vendorDir), ...(FLEET > 0 ? await fleet(dir, vendorDir) : [])];
  } finally {
    await exec('bash', [SETUP, 'stop'], { env: { ...process.env, ...BENCH_ENV } }).catch(() => {});
    await rm(SRV, { recursive: true, force: true });
    await cleanup();
  }
}

export const benches: Record<string, Bench> = { updater: runAll };
