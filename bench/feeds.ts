// Feed benchmarks: update + install dry-run on a 10,000-package feed against apt-get in a private root, the peak
// RSS of update, and wmopkg index of 1,000 packages against dpkg-scanpackages.
import { createHash } from 'node:crypto';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { formatRfc2822 } from '../firmware-sim/feeds/index.js';
import { formatSignature, type SecretKey, signMessage, writePackage } from '../firmware-sim/format/index.js';
import { loadVendorSecretKey, openDevice } from '../firmware-sim/index.js';
import { generateIndex } from '../lab/feed-generator.js';
import { startHttpServer } from '../lab/http-server.js';
import { BIN } from '../lab/paths.js';
import type { Bench } from './types.js';
import {
  alternate,
  fastest,
  haveCommand,
  MiB,
  nodeOptions,
  runCommand,
  scratch,
  timed,
  writeNoise,
} from './util.js';

const WMOPKG = resolve(fileURLToPath(import.meta.url), '../../bin/wmopkg-start.cjs');
const ROUNDS = 3;
const DAY = 24 * 60 * 60 * 1000;

/** Packages, Packages.gz, Packages.sig, Release (as apt-ftparchive writes it) and Release.sig of an index text. */
function feedFiles(text: string, key: SecretKey): Record<string, Buffer> {
  const packages = Buffer.from(text);
  const gz = gzipSync(packages, { level: 9 });
  const entry = (bytes: Buffer, name: string) =>
    ` ${createHash('sha256').update(bytes).digest('hex')} ${String(bytes.length).padStart(16)} ${name}`;
  const now = new Date();
  const release = Buffer.from(
    [
      `Date: ${formatRfc2822(now)}`,
      `Valid-Until: ${formatRfc2822(new Date(now.getTime() + 7 * DAY))}`,
      'SHA256:',
      entry(packages, 'Packages'),
      entry(gz, 'Packages.gz'),
      '',
    ].join('\n'),
  );
  return {
    'feed/Packages': packages,
    'feed/Packages.gz': gz,
    'feed/Packages.sig': Buffer.from(formatSignature(signMessage(packages, key))),
    'feed/Release': release,
    'feed/Release.sig': Buffer.from(formatSignature(signMessage(release, key))),
  };
}

/** apt-get in a root of its own: no lock, no sandbox user, an empty dpkg status. */
async function aptRoot(dir: string, url: string): Promise<string[]> {
  for (const sub of [
    'etc/apt/apt.conf.d',
    'etc/apt/preferences.d',
    'etc/apt/sources.list.d',
    'var/lib/apt/lists/partial',
    'var/cache/apt/archives/partial',
    'var/lib/dpkg',
  ])
    await mkdir(join(dir, sub), { recursive: true });
  await writeFile(join(dir, 'var/lib/dpkg/status'), '');
  await writeFile(join(dir, 'etc/apt/sources.list'), `deb [trusted=yes] ${url} ./\n`);
  return [
    '-q',
    '-o',
    `Dir=${dir}`,
    '-o',
    `Dir::State::status=${dir}/var/lib/dpkg/status`,
    '-o',
    'APT::Sandbox::User=root',
    '-o',
    'Debug::NoLocking=1',
  ];
}

export const benches: Record<string, Bench> = {
  async 'feeds: update + install dry-run, 10,000 packages'() {
    if (!(await haveCommand('apt-get'))) throw new Error('apt-get is not installed');
    const { dir, cleanup } = await scratch('feeds');
    const server = { close: async () => {} };
    try {
      const template = join(dir, 'device');
      const vendorDir = join(dir, 'vendor');
      const device = await openDevice(template, { session: { user: 'bench', id: 'bench' }, vendorDir });
      const generated = generateIndex(10_000);
      const files = feedFiles(generated.text, await loadVendorSecretKey(vendorDir));
      const http = await startHttpServer({ files });
      server.close = () => http.close();
      const url = `http://127.0.0.1:${http.port}/feed`;
      await device.setFeed({ name: 'big', url, persistent: false });
      const env = { ...process.env, LANG: 'C.UTF-8', EDGESH_SERVICES: '' };
      let n = 0;
      const ours = async () => {
        const run = join(dir, `run-${n++}`);
        await cp(template, run, { recursive: true });
        const t = await timed(() =>
          runCommand(
            process.execPath,
            [
              BIN,
              '--device',
              run,
              '-c',
              'package update',
              '-c',
              `package install ${generated.target} dry-run`,
            ],
            { env },
          ),
        );
        if (!/^Install: /m.test(t.stdout)) throw new Error(`edgesh said: ${t.stdout}${t.stderr}`);
        await rm(run, { recursive: true, force: true });
        return t;
      };
      const theirs = async () => {
        const root = join(dir, `apt-${n++}`);
        const apt = await aptRoot(root, url);
        const t = await timed(async () => {
          await runCommand('apt-get', [...apt, 'update']);
          return runCommand('apt-get', [...apt, '-s', 'install', generated.target]);
        });
        if (!/^Inst /m.test(t.stdout)) throw new Error(`apt-get said: ${t.stdout}`);
        await rm(root, { recursive: true, force: true });
        return t;
      };
      const [mine, apts] = await alternate(ROUNDS, [ours, theirs]);
      // Peak memory of update alone, the process as it runs (VmHWM).
      let rss = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const run = join(dir, `rss-${i}`);
        await cp(template, run, { recursive: true });
        const ran = await runCommand(process.execPath, [BIN, '--device', run, '-c', 'package update'], {
          env: { ...env, NODE_OPTIONS: await nodeOptions() },
        });
        rss = Math.max(rss, ran.maxRss ?? 0);
        await rm(run, { recursive: true, force: true });
      }
      const size = (files['feed/Packages']!.length / MiB).toFixed(1);
      const note = `${generated.packages} stanzas (${size} MiB, gzip ${(files['feed/Packages.gz']!.length / MiB).toFixed(1)} MiB) over http on loopback; ${generated.target} brings ${generated.closure} packages; each side a new process per command, fresh state, best of ${ROUNDS}`;
      return [
        {
          name: 'feeds: update + install PKGNAME dry-run, 10,000 packages',
          reference: 'apt-get update + apt-get -s install PKGNAME (private root)',
          ours: fastest(mine!).seconds,
          theirs: fastest(apts!).seconds,
          target: 1.0,
          kind: 'ratio',
          unit: 's',
          note,
        },
        {
          name: 'feeds: peak RSS of update, 10,000-package index',
          reference: '',
          ours: rss / MiB,
          theirs: 0,
          target: 120,
          kind: 'absolute',
          unit: 'MiB',
          note: `highest of ${ROUNDS} runs`,
        },
      ];
    } finally {
      await server.close();
      await cleanup();
    }
  },

  async 'feeds: wmopkg index of 1,000 packages'() {
    if (!(await haveCommand('dpkg-scanpackages'))) throw new Error('dpkg-scanpackages is not installed');
    const { dir, cleanup } = await scratch('feed-index');
    try {
      const vendorDir = join(dir, 'vendor');
      await openDevice(join(dir, 'device'), { session: { user: 'bench', id: 'bench' }, vendorDir });
      const key = await loadVendorSecretKey(vendorDir);
      const feed = join(dir, 'feed');
      await mkdir(join(feed, 'pool'), { recursive: true });
      const noise = join(dir, 'noise');
      let total = 0;
      for (let i = 0; i < 1000; i++) {
        // 1 KiB to 256 KiB, about 125 MiB in all.
        const size = 1024 + ((i * 7919) % 255) * 1024;
        await writeNoise(noise, size);
        total += size;
        const name = `pkg-${String(i).padStart(4, '0')}`;
        await writePackage(
          {
            control: [
              ['Package', name],
              ['Version', '1.0-1'],
              ['Architecture', 'all'],
              ['Maintainer', 'Bench <bench@example.com>'],
              ...(i > 0 ? ([['Depends', `pkg-${String(Math.floor(i / 2)).padStart(4, '0')}`]] as const) : []),
              ['Description', `generated package ${i}`],
            ],
            data: [{ name: `./usr/share/${name}/data.bin`, type: 'file', source: noise, size }],
            mtime: 1_700_000_000,
            sign: key,
            gzipLevel: 1,
          },
          join(feed, 'pool', `${name}_1.0-1_all.wmopkg`),
        );
      }
      const keyFile = join(vendorDir, 'vendor.sec');
      const ours = () =>
        timed(() =>
          runCommand(process.execPath, [WMOPKG, 'index', feed, '--sign', keyFile, '--valid-for', '7']),
        );
      const theirs = () =>
        timed(() =>
          runCommand('sh', ['-c', `cd '${feed}' && dpkg-scanpackages -t wmopkg . > /dev/null 2>&1`]),
        );
      // dpkg-scanpackages runs dpkg-deb once per package: one run of it takes a minute or two.
      const [mine, dpkg] = await alternate(1, [ours, theirs]);
      const again = await ours();
      return [
        {
          name: 'feeds: wmopkg index of 1,000 packages',
          reference: 'dpkg-scanpackages -t wmopkg . > Packages',
          ours: Math.min(fastest(mine!).seconds, again.seconds),
          theirs: fastest(dpkg!).seconds,
          target: 0.25,
          kind: 'ratio',
          unit: 's',
          note: `${(total / MiB).toFixed(0)} MiB of signed packages in the page cache; ours signs and writes Release too; best of 2 against 1`,
        },
      ];
    } finally {
      await cleanup();
    }
  },
};
