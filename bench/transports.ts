// Benchmarks of the transports against the standard tools, on loopback, with the real daemons (SPEC §8).
//
// Run: `npm run build && node dist/bench/transports.js` (as root, with vsftpd, tftpd-hpa, openssh-server,
// nginx and curl installed); `bench/run.ts` imports `benches`. The daemons are started by
// .ci/setup.d/20-transports.sh under their own state directory and ports, and stopped afterwards.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openRemote } from '../transports/index.js';
import type { ProtoName, TransportContext } from '../transports/types.js';
import type { Bench, BenchResult } from './types.js';

const MiB = 1024 * 1024;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SETUP = join(ROOT, '.ci', 'setup.d', '20-transports.sh');
const SELF = fileURLToPath(import.meta.url);

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

/** Times each side runs; the best of them counts (the first run of all warms the page cache). */
const RUNS = 3;

/**
 * The work an install does with the bytes, kept in one place so that it can be switched to the device's
 * real install: SHA-256 of the stream while it is written to a temporary file, fsync, rename.
 */
export async function sink(
  stream: Readable,
  dir: string,
): Promise<{ sha256: string; bytes: number; fsyncSeconds: number }> {
  const temp = join(dir, `.part-${process.pid}`);
  const final = join(dir, 'installed.wmopkg');
  const hash = createHash('sha256');
  const file = await open(temp, 'w');
  let bytes = 0;
  try {
    // One write in flight at a time, the next chunk hashed meanwhile: the disk and the hash overlap.
    let writing: Promise<unknown> = Promise.resolve();
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      hash.update(buf);
      bytes += buf.length;
      await writing;
      writing = file.write(buf);
    }
    await writing;
    const syncStart = performance.now();
    await file.sync();
    const fsyncSeconds = (performance.now() - syncStart) / 1000;
    await file.close();
    await rename(temp, final);
    return { sha256: hash.digest('hex'), bytes, fsyncSeconds };
  } catch (error) {
    await file.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

interface Daemons {
  readonly env: Record<string, string>;
  readonly srv: string;
}

type Side = { seconds: number; sha256: string; rssMiB?: number; wall?: number; fsyncSeconds?: number };

const run = promisify(execFile);

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
  return { env, srv: env.TRANSPORTS_SRV ?? '' };
}

async function stopDaemons(): Promise<void> {
  await run('bash', [SETUP, 'stop'], { env: { ...process.env, ...BENCH_ENV } });
}

/** A file of random bytes in the served directory (kept between runs). */
async function ensureFile(srv: string, name: string, size: number): Promise<string> {
  const path = join(srv, name);
  if ((await stat(path).catch(() => undefined))?.size === size) return path;
  const handle = await open(path, 'w', 0o644);
  const chunk = Buffer.alloc(4 * MiB);
  for (let done = 0; done < size; done += chunk.length) {
    randomFillSync(chunk);
    await handle.write(chunk, 0, Math.min(chunk.length, size - done));
  }
  await handle.close();
  return path;
}

/** Runs our side in a child process (so that its peak RSS is its own) and returns its report. */
async function ours(proto: ProtoName, d: Daemons, name: string): Promise<Side> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, [SELF, '--child', proto, JSON.stringify(d.env), name], {
    maxBuffer: MiB,
  });
  const report = JSON.parse(stdout) as Side;
  return { ...report, wall: (performance.now() - started) / 1000 };
}

/** The reference pipeline in bash (pipefail), timed from spawn to exit; returns the digest it printed. */
async function theirs(script: string, env: Record<string, string>): Promise<Side> {
  const started = performance.now();
  const child = spawn('bash', ['-o', 'pipefail', '-c', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`reference failed (${code}): ${script}`);
  return { seconds: (performance.now() - started) / 1000, sha256: /([0-9a-f]{64})/.exec(out)?.[1] ?? '' };
}

/** Runs both sides alternately (so that a busy moment of the machine hits both) and keeps each side's best. */
async function bestOf(a: () => Promise<Side>, b: () => Promise<Side>): Promise<[Side, Side]> {
  let bestA: Side | undefined;
  let bestB: Side | undefined;
  for (let i = 0; i < RUNS; i++) {
    const ra = await a();
    const rb = await b();
    if (!bestA || ra.seconds < bestA.seconds) bestA = ra;
    if (!bestB || rb.seconds < bestB.seconds) bestB = rb;
  }
  return [bestA as Side, bestB as Side];
}

/** One comparison: warm-up, then ours and theirs alternately; the digests must agree. */
async function compare(
  label: string,
  reference: string,
  target: number,
  proto: ProtoName,
  d: Daemons,
  file: string,
  script: string,
  scriptEnv: Record<string, string>,
): Promise<{ result: BenchResult; mine: Side }> {
  await theirs(script, scriptEnv);
  const [mine, ref] = await bestOf(
    () => ours(proto, d, file),
    () => theirs(script, scriptEnv),
  );
  if (mine.sha256 !== ref.sha256)
    throw new Error(`${label}: digests differ (${mine.sha256} / ${ref.sha256})`);
  return {
    mine,
    result: {
      name: label,
      reference,
      ours: round(mine.seconds),
      theirs: round(ref.seconds),
      target,
      kind: 'ratio',
      unit: 's',
      note: `best of ${RUNS}; ours in-process (open → hashed, written, fsynced, renamed; fsync ${round(mine.fsyncSeconds ?? 0)} s, the reference does none), child wall ${round(mine.wall ?? 0)} s`,
    },
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Runs the whole set with one start of the daemons. */
async function runAll(): Promise<BenchResult[]> {
  const why = missing();
  if (why) {
    process.stderr.write(`bench transports: not run: ${why}\n`);
    return [];
  }
  const d = await startDaemons();
  const scratch = await mkdtemp(join(tmpdir(), 'edgesh-bench-ref-'));
  try {
    const { env } = d;
    const host = env.TRANSPORTS_HOST ?? '127.0.0.1';
    await ensureFile(d.srv, 'big.wmopkg', 512 * MiB);
    await ensureFile(d.srv, 'mid.wmopkg', 64 * MiB);
    const netrc = join(scratch, 'netrc');
    await writeFile(
      netrc,
      `machine ${host} login ${env.TRANSPORTS_USER} password ${env.TRANSPORTS_PASSWORD}\n`,
      { mode: 0o600 },
    );
    const out = join(scratch, 'F');
    const results: BenchResult[] = [];

    const http = await compare(
      'install 512 MiB over http',
      'curl -s URL | tee F | openssl dgst -sha256',
      1.0,
      'http',
      d,
      'big.wmopkg',
      `curl -s http://${host}:${env.TRANSPORTS_HTTP_PORT}/big.wmopkg | tee ${out} | openssl dgst -sha256`,
      {},
    );
    results.push(http.result);

    results.push(
      (
        await compare(
          'install 512 MiB over ftp',
          'curl -s ftp://… | tee F | openssl dgst -sha256',
          1.0,
          'ftp',
          d,
          'big.wmopkg',
          `curl -s --netrc-file ${netrc} ftp://${host}:${env.TRANSPORTS_FTP_PORT}/big.wmopkg | tee ${out} | openssl dgst -sha256`,
          {},
        )
      ).result,
    );

    const sshOpts = `-q -i ${env.TRANSPORTS_SSH_KEY} -o UserKnownHostsFile=${env.TRANSPORTS_KNOWN_HOSTS} -o StrictHostKeyChecking=yes -o BatchMode=yes -P ${env.TRANSPORTS_SSH_PORT}`;
    results.push(
      (
        await compare(
          'install 512 MiB over sftp',
          'sftp get, then openssl dgst -sha256',
          1.0,
          'sftp',
          d,
          'big.wmopkg',
          `sftp ${sshOpts} ${env.TRANSPORTS_USER}@${host}:big.wmopkg ${out} && openssl dgst -sha256 ${out}`,
          {},
        )
      ).result,
    );

    results.push(
      (
        await compare(
          'install 64 MiB over tftp',
          'curl --tftp-blksize 1468 tftp://… | tee F | openssl dgst -sha256',
          1.2,
          'tftp',
          d,
          'mid.wmopkg',
          `curl -s --tftp-blksize 1468 tftp://${host}:${env.TRANSPORTS_TFTP_PORT}/mid.wmopkg | tee ${out} | openssl dgst -sha256`,
          {},
        )
      ).result,
    );

    const small = await ours('http', d, 'mid.wmopkg');
    const bigRss = http.mine.rssMiB ?? 0;
    const smallRss = small.rssMiB ?? 0;
    results.push({
      name: 'peak RSS while installing 512 MiB over http',
      reference: '—',
      ours: bigRss,
      theirs: 0,
      target: 120,
      kind: 'absolute',
      unit: 'MiB',
      note: `64 MiB install: ${smallRss} MiB`,
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
    await rm(scratch, { recursive: true, force: true });
    await stopDaemons();
  }
}

/** The benches of this part; one entry runs them all, sharing one start of the daemons. */
export const benches: Record<string, Bench> = { transports: runAll };

/** Child mode: one download through openRemote into `sink`, reported as JSON on stdout. */
async function child(proto: ProtoName, env: Record<string, string>, file: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'edgesh-bench-sink-'));
  try {
    const port = (name: string) => Number(env[name]);
    const ctx: TransportContext = {
      defaultPorts: {
        ftp: port('TRANSPORTS_FTP_PORT'),
        tftp: port('TRANSPORTS_TFTP_PORT'),
        scp: port('TRANSPORTS_SSH_PORT'),
        sftp: port('TRANSPORTS_SSH_PORT'),
        http: port('TRANSPORTS_HTTP_PORT'),
        https: port('TRANSPORTS_HTTPS_PORT'),
      },
      user: env.TRANSPORTS_USER ?? 'root',
      knownHostsFile: env.TRANSPORTS_KNOWN_HOSTS ?? '',
      caDir: env.TRANSPORTS_CA_DIR ?? '',
      sshKeyFiles: env.TRANSPORTS_SSH_KEY ? [env.TRANSPORTS_SSH_KEY] : [],
      maxBytes: 2 * 1024 * MiB,
      connectTimeoutMs: 10_000,
      stallTimeoutMs: 30_000,
    };
    const started = performance.now();
    const transfer = await openRemote(
      {
        proto,
        host: env.TRANSPORTS_HOST ?? '127.0.0.1',
        path: file,
        ...(proto === 'ftp' ? { password: env.TRANSPORTS_PASSWORD ?? '' } : {}),
      },
      ctx,
    );
    const { sha256, fsyncSeconds } = await sink(transfer.stream, dir);
    const seconds = (performance.now() - started) / 1000;
    const rssMiB = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
    process.stdout.write(JSON.stringify({ seconds, sha256, rssMiB, fsyncSeconds }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === SELF) {
  const [mode, proto, env, file] = process.argv.slice(2);
  if (mode === '--child') {
    await child(proto as ProtoName, JSON.parse(env ?? '{}') as Record<string, string>, file ?? '');
  } else {
    for (const r of await runAll()) {
      const ratio =
        r.kind === 'ratio'
          ? ` ratio ${(r.ours / r.theirs).toFixed(2)} (target ≤ ${r.target})`
          : ` (target ≤ ${r.target} ${r.unit})`;
      process.stdout.write(
        `${r.name}: ours ${r.ours} ${r.unit}, reference ${r.theirs} ${r.unit}${ratio}${r.note ? ` — ${r.note}` : ''}\n`,
      );
    }
  }
}
