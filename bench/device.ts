// Benchmarks of the simulated device: boot-time verification, activation of many small files, names().
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type DataEntry, readPackageFile, writePackage } from '../firmware-sim/format/index.js';
import { type LocalDevice, loadVendorSecretKey, openDevice } from '../firmware-sim/index.js';
import type { Bench } from './types.js';
import { best, MiB, runCommand, scratch, writeNoise } from './util.js';

const RUNS = 5;
/** `limits.pathDepth` of a new device. */
const DEPTH_LIMIT = 64;

/**
 * `count` entries as chains of directories `depth - 1` levels deep with a file in each (the deepest
 * file has `depth` components), yielded one by one so that the fixture is never all in memory.
 */
function* deepTree(count: number, depth: number): Generator<DataEntry> {
  let made = 0;
  for (let chain = 0; made < count; chain++) {
    let path = `./c${chain}`;
    for (let level = 1; level < depth && made < count; level++) {
      yield { name: `${path}/`, type: 'directory', mode: 0o755 };
      made++;
      if (made < count) {
        yield { name: `${path}/f`, type: 'file', mode: 0o644, content: `${chain}.${level}\n` };
        made++;
      }
      path += '/d';
    }
  }
}

async function device(dir: string): Promise<{ device: LocalDevice; vendorDir: string }> {
  const vendorDir = `${dir}.vendor`;
  return { device: await openDevice(dir, { session: { user: 'bench', id: 'bench' }, vendorDir }), vendorDir };
}

function control(name: string): ReadonlyArray<readonly [string, string]> {
  return [
    ['Package', name],
    ['Version', '1.0.0'],
    ['Architecture', 'all'],
    ['Maintainer', 'Bench <bench@example.com>'],
    ['Description', `benchmark package ${name}`],
  ];
}

async function install(target: LocalDevice, path: string, name: string): Promise<void> {
  await target.install({
    name,
    persistent: false,
    origin: { kind: 'media', label: 'external', path: `${name}.wmopkg` },
    stream: createReadStream(path, { highWaterMark: MiB }),
    confirmDowngrade: async () => true,
  });
}

/** The data.tar.gz member of a package, copied out (for `tar -xzf`). */
async function extractDataMember(pkg: string, out: string): Promise<void> {
  const sink = createWriteStream(out);
  const chunks: Buffer[] = [];
  await readPackageFile(pkg, {
    onData: (chunk) => {
      chunks.push(chunk);
    },
  });
  await pipeline(Readable.from(chunks), sink);
}

/** Best time in seconds of `runs` runs, each after an untimed `prepare`. */
async function bestPrepared(
  runs: number,
  prepare: () => Promise<unknown>,
  run: (index: number) => Promise<unknown>,
): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    await prepare();
    const start = performance.now();
    await run(i);
    fastest = Math.min(fastest, (performance.now() - start) / 1000);
  }
  return fastest;
}

export const benches: Record<string, Bench> = {
  async 'boot verification of 100 packages of 10 MiB'() {
    const { dir, cleanup } = await scratch('device-verify');
    try {
      const { device: target, vendorDir } = await device(join(dir, 'device'));
      const key = await loadVendorSecretKey(vendorDir);
      const payload = join(dir, 'payload.bin');
      await writeNoise(payload, 10 * MiB);
      const files: string[] = [];
      for (let i = 0; i < 100; i++) {
        const name = `p${String(i).padStart(3, '0')}`;
        const path = join(dir, `${name}.wmopkg`);
        await writePackage(
          {
            control: control(name),
            data: [{ name: `./opt/${name}/payload.bin`, type: 'file', source: payload, size: 10 * MiB }],
            mtime: 1_700_000_000,
            sign: key,
            // Stored blocks: the payload does not compress, and the fixture is made quickly.
            gzipLevel: 0,
          },
          path,
        );
        await install(target, path, name);
      }
      const first = await target.boot();
      if (!first.lines.every((l) => l.activated)) throw new Error('a package was not activated');
      for (const record of await readdir(join(dir, 'device/cfg/packages'))) {
        const entries = await readdir(join(dir, 'device/cfg/packages', record));
        files.push(join(dir, 'device/cfg/packages', record, entries.find((e) => e.endsWith('.wmopkg'))!));
      }
      await runCommand('openssl', ['dgst', '-sha256', ...files]);
      const ours = await best(RUNS, async () => {
        const report = await target.boot();
        if (!report.lines.every((l) => l.reason === 'already active'))
          throw new Error('unexpected boot report');
      });
      const theirs = await best(RUNS, () => runCommand('openssl', ['dgst', '-sha256', ...files]));
      return [
        {
          name: 'boot verification, 100 packages × 10 MiB',
          reference: 'openssl dgst -sha256 (the 100 stored files, one process)',
          ours,
          theirs,
          target: 1.3,
          kind: 'ratio',
          unit: 's',
          note: `best of ${RUNS}; every package already active, re-verified through one descriptor each`,
        },
      ];
    } finally {
      await cleanup();
    }
  },

  async 'activation of a package of 10,000 small files'() {
    const { dir, cleanup } = await scratch('device-activate');
    try {
      const seed = await device(join(dir, 'seed'));
      const key = await loadVendorSecretKey(seed.vendorDir);
      const data: DataEntry[] = [];
      for (let d = 0; d < 100; d++) {
        data.push({ name: `./usr/share/many/d${d}/`, type: 'directory', mode: 0o755 });
        for (let f = 0; f < 100; f++) {
          const text = randomBytes(50 + ((d * 100 + f) % 950)).toString('base64');
          data.push({ name: `./usr/share/many/d${d}/f${f}.txt`, type: 'file', mode: 0o644, content: text });
        }
      }
      const pkg = join(dir, 'many.wmopkg');
      await writePackage({ control: control('many'), data, mtime: 1_700_000_000, sign: key }, pkg);
      const tarball = join(dir, 'data.tar.gz');
      await extractDataMember(pkg, tarball);
      const devices: LocalDevice[] = [];
      for (let run = 0; run < RUNS; run++) {
        const { device: fresh } = await openDevice(join(dir, `device${run}`), {
          session: { user: 'bench', id: 'bench' },
          vendorDir: seed.vendorDir,
        }).then((d) => ({ device: d }));
        await install(fresh, pkg, 'many');
        devices.push(fresh);
      }
      // Each run starts with nothing dirty in the page cache (like hyperfine --prepare sync): the
      // activation ends with a syncfs, which would otherwise also wait for earlier, unrelated writes.
      const ours = await bestPrepared(
        RUNS,
        () => runCommand('sync', []),
        async (run) => {
          const report = await devices[run]!.boot();
          if (!report.lines[0]?.activated) throw new Error(`not activated: ${report.lines[0]?.reason}`);
        },
      );
      const theirs = await bestPrepared(
        RUNS,
        () => runCommand('sync', []),
        async (run) => {
          const out = join(dir, `tar${run}`);
          await mkdir(out);
          await runCommand('tar', ['-xzf', tarball, '-C', out]);
        },
      );
      return [
        {
          name: 'activate a package of 10,000 small files',
          reference: 'tar -xzf data.tar.gz',
          ours,
          theirs,
          target: 1.5,
          kind: 'ratio',
          unit: 's',
          note: `best of ${RUNS}, each after sync; ours = the whole boot: re-hash, unpack to a stage, move into rootfs, syncfs, commit`,
        },
      ];
    } finally {
      await cleanup();
    }
  },

  async 'boot of a package of 100,000 entries'() {
    const { dir, cleanup } = await scratch('device-100k');
    try {
      const seed = await device(join(dir, 'seed'));
      const key = await loadVendorSecretKey(seed.vendorDir);
      const signed = join(dir, 'deep.wmopkg');
      const unsigned = join(dir, 'deep-unsigned.wmopkg');
      // The most the default limits allow, in the shape that once cost 5 ms an entry: chains of
      // directories nested to the depth limit, a file at every level (100,000 entries in all).
      const data = () => deepTree(100_000, DEPTH_LIMIT);
      await writePackage(
        { control: control('deep'), data: data(), mtime: 1_700_000_000, sign: key, gzipLevel: 1 },
        signed,
      );
      await writePackage(
        { control: control('deep'), data: data(), mtime: 1_700_000_000, gzipLevel: 1 },
        unsigned,
      );
      const tarball = join(dir, 'data.tar.gz');
      await extractDataMember(signed, tarball);
      const boots: LocalDevice[] = [];
      for (const [index, pkg] of [signed, unsigned].entries()) {
        const fresh = await openDevice(join(dir, `device${index}`), {
          session: { user: 'bench', id: 'bench' },
          vendorDir: seed.vendorDir,
        });
        await install(fresh, pkg, 'deep');
        boots.push(fresh);
      }
      const timed = async (target: LocalDevice, activated: boolean): Promise<number> => {
        await runCommand('sync', []);
        const start = performance.now();
        const report = await target.boot();
        const seconds = (performance.now() - start) / 1000;
        if (report.lines[0]?.activated !== activated)
          throw new Error(`unexpected: ${report.lines[0]?.reason}`);
        return seconds;
      };
      const activating = await timed(boots[0]!, true);
      const refusing = await timed(boots[1]!, false);
      await runCommand('sync', []);
      const out = join(dir, 'tar');
      await mkdir(out);
      const tarStart = performance.now();
      await runCommand('tar', ['-xzf', tarball, '-C', out]);
      const tar = (performance.now() - tarStart) / 1000;
      const note = `one run each after sync; tar -xzf of the same data.tar.gz took ${tar.toFixed(2)} s`;
      return [
        {
          name: 'boot activating a package of 100,000 entries nested to the depth limit',
          reference: '—',
          ours: activating,
          theirs: 0,
          target: 15,
          kind: 'absolute',
          unit: 's',
          note: `${note}; the whole boot: verify, re-hash while unpacking, move into rootfs, syncfs, commit`,
        },
        {
          name: 'boot of the same package unsigned (not activated, so never unpacked)',
          reference: '—',
          ours: refusing,
          theirs: 0,
          target: 15,
          kind: 'absolute',
          unit: 's',
          note: 'one hashing pass; nothing inflated',
        },
      ];
    } finally {
      await cleanup();
    }
  },

  async 'names() with 2,000 installed packages'() {
    const { dir, cleanup } = await scratch('device-names');
    try {
      const { device: target } = await device(join(dir, 'device'));
      // names() reads the store directory only: the package directories are enough to measure it.
      for (let i = 0; i < 2000; i++) await mkdir(join(dir, 'device/cfg/packages', `package-${i}`));
      let count = 0;
      const ours = await best(20, async () => {
        count = (await target.names()).length;
      });
      if (count !== 2000) throw new Error(`names() returned ${count}`);
      return [
        {
          name: 'names() with 2,000 installed packages',
          reference: '—',
          ours: ours * 1000,
          theirs: 0,
          target: 15,
          kind: 'absolute',
          unit: 'ms',
          note: 'best of 20; one readdir',
        },
      ];
    } finally {
      await cleanup();
    }
  },
};
