// Benchmarks of `package install` over the network against the standard tools, on loopback, real daemons (SPEC §8).
//
// Run: `npm run bench transports` (as root, with vsftpd, tftpd-hpa, openssh-server, nginx, curl and openssl
// installed). The daemons are started by .ci/setup.d/20-transports.sh under their own state directory and
// ports (2151-2164), and stopped afterwards.
//
// Our side is what an operator gets: the installed `edgesh --device DIR` (package.json `bin`, started as
// its shebang says) running `package install proto P … PKG.wmopkg` into a fresh device, timed from process
// start to exit. The package is a real signed one (the device's vendor key), so the install does all of
// its work: download, hash of every member, check of the data archive, write, fsync, commit. Peak RSS
// comes from the same processes.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writePackage } from '../firmware-sim/format/index.js';
import { loadVendorSecretKey, openDevice } from '../firmware-sim/index.js';
import { shebangCommand } from '../lab/paths.js';
import type { ProtoName } from '../transports/types.js';
import type { Bench, BenchResult } from './types.js';
import {
  alternate,
  fastest,
  MiB,
  nodeOptions,
  runCommand,
  scratch,
  type Timed,
  timed,
  writeNoise,
} from './util.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SETUP = join(ROOT, '.ci', 'setup.d', '20-transports.sh');
/** The installed `edgesh` (package.json `bin`): the launcher of the bundled shell. */
const EDGESH = join(ROOT, 'dist', 'bin', 'edgesh-start.cjs');

/** Ports and state of the bench's own daemons (not those of the interop tests). */
const BENCH_ENV = {
  TRANSPORTS_STATE: '/var/lib/edgesh-transports-bench',
  TRANSPORTS_USER: 'edgeshbench',
  TRANSPORTS_FTP_PORT: '2151',
  TRANSPORTS_PASV_MIN: '2160',
  TRANSPORTS_PASV_MAX: '2164',
  TRANSPORTS_SSH_PORT: '2152',
  TRANSPORTS_TFTP_PORT: '2153',
  TRANSPORTS_HTTP_PORT: '2154',
  TRANSPORTS_HTTPS_PORT: '2155',
};

/** Kept between runs: the vendor key the packages are signed with (each run's devices trust it). */
const VENDOR_DIR = join(BENCH_ENV.TRANSPORTS_STATE, 'vendor');

/**
 * Rounds of each comparison; each side's best counts (a warm-up of the reference fills the page cache).
 * Five, because a 2-core machine shared with other work swings by 20-40 % from one run to the next.
 */
const RUNS = 5;

/** The packages served: a name (file `NAME.wmopkg`) and the size of its one data file. */
const BIG = { name: 'bench512', payload: 512 * MiB } as const;
const MID = { name: 'bench64', payload: 64 * MiB } as const;
type Pkg = typeof BIG | typeof MID;

const run = promisify(execFile);

interface Daemons {
  readonly env: Readonly<Record<string, string>>;
  readonly host: string;
  readonly srv: string;
}

/** One run of either side. */
interface Side extends Timed {
  readonly sha256: string;
  /** Peak RSS of our process, MiB. */
  readonly rssMiB?: number;
  /** CPU ms of our main thread and of our whole process. */
  readonly cpu?: { readonly mainMs: number; readonly totalMs: number };
  /** Our install's breakdown (`edgesh:receive`: diskWaitMs, hashWaitMs, hashThreadCpuMs, hashThreadWriteMs). */
  readonly receive?: Readonly<Record<string, number>>;
}

/** Why the benches cannot run here, or undefined. */
function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to start vsftpd, tftpd-hpa, sshd and nginx';
  for (const tool of [
    '/usr/sbin/vsftpd',
    '/usr/sbin/in.tftpd',
    '/usr/sbin/sshd',
    '/usr/sbin/nginx',
    '/usr/bin/curl',
    '/usr/bin/sftp',
    '/usr/bin/openssl',
    EDGESH,
  ]) {
    if (!existsSync(tool)) return `${tool} is not installed`;
  }
  return undefined;
}

async function startDaemons(): Promise<Daemons> {
  const envFile = join(await mkdtemp(join(tmpdir(), 'edgesh-bench-')), 'env');
  await run('bash', [SETUP], { env: { ...process.env, ...BENCH_ENV, INTEROP_ENV: envFile } });
  const env = Object.fromEntries(
    (await readFile(envFile, 'utf8'))
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  await rm(dirname(envFile), { recursive: true, force: true });
  return { env, host: env.TRANSPORTS_HOST ?? '127.0.0.1', srv: env.TRANSPORTS_SRV ?? '' };
}

async function stopDaemons(): Promise<void> {
  await run('bash', [SETUP, 'stop'], { env: { ...process.env, ...BENCH_ENV } });
}

/**
 * A signed package of `pkg.payload` bytes of noise (data.tar.gz at gzip level 1, which stores noise
 * as it is) in the served directory, signed with the vendor key of VENDOR_DIR. Kept between runs: a
 * stamp names the key and size it was built for.
 */
async function ensurePackage(srv: string, pkg: Pkg, work: string): Promise<string> {
  const path = join(srv, `${pkg.name}.wmopkg`);
  const key = await loadVendorSecretKey(VENDOR_DIR);
  const stamp = `${key.keyNumber.toString('hex')} ${pkg.payload}\n`;
  const stampFile = join(srv, `${pkg.name}.stamp`);
  if (existsSync(path) && (await readFile(stampFile, 'utf8').catch(() => '')) === stamp) return path;
  const payload = join(work, `${pkg.name}.bin`);
  await writeNoise(payload, pkg.payload);
  await writePackage(
    {
      control: [
        ['Package', pkg.name],
        ['Version', '1.0.0'],
        ['Architecture', 'all'],
        ['Maintainer', 'Bench <bench@example.com>'],
        ['Description', `benchmark package of ${pkg.payload / MiB} MiB`],
      ],
      data: [
        { name: './opt/', type: 'directory' },
        { name: './opt/bench/', type: 'directory' },
        { name: './opt/bench/payload.bin', type: 'file', source: payload, size: pkg.payload },
      ],
      mtime: 1_700_000_000,
      sign: key,
      gzipLevel: 1,
    },
    path,
  );
  await rm(payload, { force: true });
  await writeFile(stampFile, stamp);
  return path;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 4 * MiB }), hash);
  return hash.digest('hex');
}

/** What the install line needs for a protocol: the port, and the login for ftp and sftp. */
function installLine(d: Daemons, proto: ProtoName, pkg: Pkg): { line: string; password?: string } {
  const port: Record<string, string | undefined> = {
    ftp: d.env.TRANSPORTS_FTP_PORT,
    sftp: d.env.TRANSPORTS_SSH_PORT,
    tftp: d.env.TRANSPORTS_TFTP_PORT,
    http: d.env.TRANSPORTS_HTTP_PORT,
  };
  const login = proto === 'ftp' || proto === 'sftp';
  // The password is answered on stdin (script mode), so that it is not on a command line.
  return {
    line: `package install proto ${proto}${login ? ` user ${d.env.TRANSPORTS_USER}` : ''} ${d.host}:${port[proto]} ${pkg.name}.wmopkg`,
    ...(login ? { password: d.env.TRANSPORTS_PASSWORD ?? '' } : {}),
  };
}

let devices = 0;

/**
 * Our side: a fresh device (made before the clock starts), then `edgesh --device DIR` with the install
 * line on stdin, timed from spawn to exit; afterwards the stored file is hashed (untimed) and checked.
 */
async function ours(d: Daemons, work: string, proto: ProtoName, pkg: Pkg): Promise<Side> {
  const dir = join(work, `device-${++devices}`);
  const device = await openDevice(dir, { session: { user: 'bench', id: 'bench' }, vendorDir: VENDOR_DIR });
  try {
    await copyFile(d.env.TRANSPORTS_KNOWN_HOSTS ?? '', device.paths.knownHostsFile);
    const { line, password } = installLine(d, proto, pkg);
    const [command, ...args] = shebangCommand(EDGESH);
    const env = { ...process.env, NODE_OPTIONS: await nodeOptions() };
    const input = password === undefined ? `${line}\n` : `${line}\n${password}\n`;
    const ran = await timed(() =>
      runCommand(command, [...args, '--device', dir, '--user', 'bench'], { env, input }),
    );
    if (!ran.stdout.includes(`Installed ${pkg.name} 1.0.0 (Signed`)) {
      throw new Error(`${proto}: unexpected output of the install: ${ran.stdout.trim()}`);
    }
    const details = await device.details(pkg.name);
    if (details.verification !== 'Signed') throw new Error(`${proto}: installed as ${details.verification}`);
    const storeDir = join(device.paths.storeDir, pkg.name);
    const stored = (await readdir(storeDir)).find((f) => f.endsWith('.wmopkg'));
    if (!stored) throw new Error(`${proto}: no package file in ${storeDir}`);
    return {
      seconds: ran.seconds,
      sha256: await sha256Of(join(storeDir, stored)),
      rssMiB: Math.round(((ran.maxRss ?? 0) / MiB) * 10) / 10,
      ...(ran.cpu ? { cpu: ran.cpu } : {}),
      ...(ran.receives?.[0] ? { receive: ran.receives[0] } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The reference pipeline in bash (pipefail), timed from spawn to exit; returns the digest it printed. */
async function theirs(script: string): Promise<Side> {
  const started = performance.now();
  const child = spawn('bash', ['-o', 'pipefail', '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`reference failed (${code}): ${script}`);
  return { seconds: (performance.now() - started) / 1000, sha256: /([0-9a-f]{64})/.exec(out)?.[1] ?? '' };
}

/**
 * Flushes dirty pages before a timed run (untimed), so that neither side pays for the other's write-back:
 * the reference leaves its 512 MiB file unsynced, which the kernel would write out during our next run.
 * `leftover` (the previous run's output file) is removed first.
 */
async function settleDisk(leftover?: string): Promise<void> {
  if (leftover) await rm(leftover, { force: true });
  await runCommand('sync', []);
}

/**
 * The three stages of an install, each alone, on the same file: receive it (the standard client, to
 * /dev/null), hash it (`openssl dgst -sha256` of the served file, in the page cache), write it durably
 * (`dd … conv=fsync` beside our devices). An install that overlapped them perfectly would take as long
 * as the slowest.
 */
interface Stages {
  readonly receive: { readonly label: string; readonly script: string };
  readonly file: string;
  readonly out: string;
}

/** Seconds as shown in the details: `0.482 s`. */
function secs(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}

/**
 * Ours against the three stages of `stages`, in the same rounds (ours, receive, hash, disk; each after
 * a sync); the best of each counts, our ratio is to the slowest stage. Details give every stage with
 * our ratio to it, and where the time of our best run went.
 */
async function compareStages(
  label: string,
  target: number,
  mine: () => Promise<Side>,
  stages: Stages,
): Promise<{ result: BenchResult; runs: Side[] }> {
  const hash = `openssl dgst -sha256 ${stages.file}`;
  const disk = `dd if=${stages.file} of=${stages.out} bs=1M conv=fsync status=none`;
  await theirs(hash);
  const [runs, received, hashed, written] = await alternate<Side>(RUNS, [
    async () => {
      await settleDisk(stages.out);
      return mine();
    },
    async () => {
      await settleDisk(stages.out);
      return theirs(stages.receive.script);
    },
    async () => {
      await settleDisk(stages.out);
      return theirs(hash);
    },
    async () => {
      await settleDisk(stages.out);
      return theirs(disk);
    },
  ]);
  await rm(stages.out, { force: true });
  const best = fastest(runs!);
  const refs = [
    { name: stages.receive.label, side: fastest(received!), runs: received! },
    { name: 'openssl dgst -sha256 FILE', side: fastest(hashed!), runs: hashed! },
    { name: 'dd if=FILE of=OUT bs=1M conv=fsync', side: fastest(written!), runs: written! },
  ];
  for (const r of [...runs!, ...hashed!]) {
    if (r.sha256 !== refs[1]!.side.sha256) {
      throw new Error(`${label}: digests differ (${r.sha256} / ${refs[1]!.side.sha256})`);
    }
  }
  const slowest = refs.reduce((a, b) => (b.side.seconds > a.side.seconds ? b : a));
  const all = (list: readonly Side[]) => list.map((r) => r.seconds.toFixed(2)).join(', ');
  return {
    runs: runs!,
    result: {
      name: label,
      reference: `the slowest stage alone, ${slowest.name}`,
      ours: round(best.seconds),
      theirs: round(slowest.side.seconds),
      target,
      kind: 'ratio',
      unit: 's',
      details: [
        `stages (best of ${RUNS}): ${refs.map((r) => `${r.name} ${r.side.seconds.toFixed(3)} s (ours ${(best.seconds / r.side.seconds).toFixed(2)})`).join('; ')}`,
        `our best run: ${breakdown(best)}`,
        `all runs: ours ${all(runs!)} s; ${refs.map((r) => `${r.name.split(' ')[0]} ${all(r.runs)} s`).join('; ')}`,
      ],
    },
  };
}

/** Where the time of one of our runs went, from the reporter's figures. */
function breakdown(run: Side): string {
  const wall = `${run.seconds.toFixed(3)} s process start to exit`;
  if (!run.cpu) return wall;
  const thread = run.receive?.hashThreadCpuMs;
  const others = run.cpu.totalMs - run.cpu.mainMs - (thread ?? 0);
  const writes = run.receive?.hashThreadWriteMs;
  const parts = [
    `CPU: main thread ${secs(run.cpu.mainMs)}`,
    ...(thread === undefined
      ? []
      : [
          `hashing thread ${secs(thread)}${writes === undefined ? '' : ` (the file writes it started took ${secs(writes)} on libuv's threads)`}`,
        ]),
    `other threads (file writes, V8's helpers) ${secs(others)}`,
  ];
  const waits = run.receive
    ? [
        `the main thread waited ${secs(run.receive.diskWaitMs ?? 0)} on the disk`,
        ...(run.receive.hashWaitMs === undefined
          ? []
          : [
              `${secs(run.receive.hashWaitMs)} on the hashing thread${writes === undefined ? '' : ' (which writes the file)'}`,
            ]),
      ]
    : [];
  return `${wall}; ${parts.join(', ')}${waits.length > 0 ? `; ${waits.join(', ')}` : ''}`;
}

/** One comparison: a warm-up of the reference, then both sides in turn; the digests must agree. */
async function compare(
  label: string,
  reference: string,
  target: number,
  mine: () => Promise<Side>,
  script: string,
): Promise<{ result: BenchResult; runs: Side[] }> {
  await theirs(script);
  const [runs, refs] = await alternate<Side>(RUNS, [
    async () => {
      await settleDisk();
      return mine();
    },
    async () => {
      await settleDisk();
      return theirs(script);
    },
  ]);
  const a = fastest(runs!);
  const b = fastest(refs!);
  for (const r of [...runs!, ...refs!]) {
    if (r.sha256 !== b.sha256) throw new Error(`${label}: digests differ (${r.sha256} / ${b.sha256})`);
  }
  return {
    runs: runs!,
    result: {
      name: label,
      reference,
      ours: round(a.seconds),
      theirs: round(b.seconds),
      target,
      kind: 'ratio',
      unit: 's',
      note: `best of ${RUNS}, each after a sync; ours: edgesh 'package install' of a signed package into a fresh device, process start to exit (all runs ${runs!.map((r) => r.seconds.toFixed(2)).join(', ')} s; reference ${refs!.map((r) => r.seconds.toFixed(2)).join(', ')} s)`,
    },
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function maxRss(runs: readonly Side[]): number {
  return Math.max(...runs.map((r) => r.rssMiB ?? 0));
}

/** Runs the whole set with one start of the daemons. */
async function runAll(): Promise<BenchResult[]> {
  const why = missing();
  if (why) {
    process.stderr.write(`bench transports: not run: ${why}\n`);
    return [];
  }
  const d = await startDaemons();
  const { dir: work, cleanup } = await scratch('transports');
  try {
    const { env, host } = d;
    // A device made here creates the vendor key pair in VENDOR_DIR on first use.
    await openDevice(join(work, 'keys'), { session: { user: 'bench', id: 'bench' }, vendorDir: VENDOR_DIR });
    await rm(join(work, 'keys'), { recursive: true, force: true });
    const big = await ensurePackage(d.srv, BIG, work);
    const mid = await ensurePackage(d.srv, MID, work);
    const netrc = join(work, 'netrc');
    await writeFile(
      netrc,
      `machine ${host} login ${env.TRANSPORTS_USER} password ${env.TRANSPORTS_PASSWORD}\n`,
      { mode: 0o600 },
    );
    const out = join(work, 'F');
    const sizeNote = (path: string) => path.split('/').pop();
    const results: BenchResult[] = [];

    const file = big;
    const ddOut = join(work, 'dd.out');
    const http = await compareStages('install 512 MiB over http', 1.3, () => ours(d, work, 'http', BIG), {
      receive: {
        label: 'curl -s URL -o /dev/null',
        script: `curl -s http://${host}:${env.TRANSPORTS_HTTP_PORT}/${sizeNote(big)} -o /dev/null`,
      },
      file,
      out: ddOut,
    });
    results.push(http.result);

    const ftp = await compareStages('install 512 MiB over ftp', 1.3, () => ours(d, work, 'ftp', BIG), {
      receive: {
        label: 'curl -s ftp://… -o /dev/null',
        script: `curl -s --netrc-file ${netrc} ftp://${host}:${env.TRANSPORTS_FTP_PORT}/${sizeNote(big)} -o /dev/null`,
      },
      file,
      out: ddOut,
    });
    results.push(ftp.result);

    const sshOpts = `-q -i ${env.TRANSPORTS_SSH_KEY} -o UserKnownHostsFile=${env.TRANSPORTS_KNOWN_HOSTS} -o StrictHostKeyChecking=yes -o BatchMode=yes -P ${env.TRANSPORTS_SSH_PORT}`;
    const sftp = await compareStages('install 512 MiB over sftp', 1.3, () => ours(d, work, 'sftp', BIG), {
      receive: {
        label: 'sftp get to /dev/null',
        script: `sftp ${sshOpts} ${env.TRANSPORTS_USER}@${host}:${sizeNote(big)} /dev/null`,
      },
      file,
      out: ddOut,
    });
    results.push(sftp.result);

    const tftp = await compare(
      'install 64 MiB over tftp',
      'curl --tftp-blksize 1468 tftp://… | tee F | openssl dgst -sha256',
      1.2,
      () => ours(d, work, 'tftp', MID),
      `curl -s --tftp-blksize 1468 tftp://${host}:${env.TRANSPORTS_TFTP_PORT}/${sizeNote(mid)} | tee ${out} | openssl dgst -sha256`,
    );
    results.push(tftp.result);

    const small: Side[] = [];
    for (let i = 0; i < RUNS; i++) small.push(await ours(d, work, 'http', MID));
    const bigRss = maxRss(http.runs);
    const smallRss = maxRss(small);
    const rssNote = (runs: readonly Side[]) => runs.map((r) => r.rssMiB).join(', ');
    results.push({
      name: 'peak RSS while installing 512 MiB over http',
      reference: '—',
      ours: bigRss,
      theirs: 0,
      target: 120,
      kind: 'absolute',
      unit: 'MiB',
      note: `highest of ${RUNS} edgesh processes (${rssNote(http.runs)} MiB); 64 MiB install: ${smallRss} MiB (${rssNote(small)})`,
    });
    results.push({
      name: 'peak RSS growth, 512 MiB vs 64 MiB install',
      reference: '—',
      ours: round(bigRss - smallRss),
      theirs: 0,
      target: 10,
      kind: 'absolute',
      unit: 'MiB',
    });
    return results;
  } finally {
    await cleanup();
    await stopDaemons();
  }
}

/** The benches of this part; one entry runs them all, sharing one start of the daemons. */
export const benches: Record<string, Bench> = { transports: runAll };
