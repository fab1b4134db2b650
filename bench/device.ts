// Benchmarks of the simulated device: boot-time verification, activation of many small files, names().
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type DataEntry, readPackageFile, writePackage } from '../firmware-sim/format/index.js';
import { type LocalDevice, loadVendorSecretKey, openDevice } from '../firmware-sim/index.js';
import type { Bench } from './types.js';
import { alternate, best, lowest, MiB, runCommand, scratch, writeNoise } from './util.js';

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

/** The device's entry point, for a child process. */
const DEVICE_MODULE = new URL('../firmware-sim/index.js', import.meta.url).href;

/**
 * One boot of the device in DIR in a process of its own (started by `prefix`, e.g. taskset), every
 * package already active; the seconds of the boot alone, as the child measured them. The child is a
 * file (`script`, written by `writeBootScript`), not `node --input-type=module -e`: worker threads
 * inherit the parent's node options, `--input-type` among them, and a worker started with it fails
 * at once, so that the boot verified on its own thread alone and the two cores measured the same.
 */
async function bootInChild(
  script: string,
  dir: string,
  vendorDir: string,
  prefix: readonly string[],
): Promise<number> {
  const [command, ...rest] = [...prefix, process.execPath, script, dir, vendorDir];
  const ran = await runCommand(command!, rest);
  return Number(ran.stdout.trim());
}

/** Writes the program `bootInChild` runs into `dir`; returns its path. */
async function writeBootScript(dir: string): Promise<string> {
  const path = join(dir, 'boot-once.mjs');
  await writeFile(
    path,
    `const { openDevice } = await import(${JSON.stringify(DEVICE_MODULE)});
const device = await openDevice(process.argv[2], { session: { user: 'bench', id: 'bench' }, vendorDir: process.argv[3] });
const start = performance.now();
const report = await device.boot();
if (!report.lines.every((l) => l.reason === 'already active')) throw new Error('unexpected boot report');
console.log((performance.now() - start) / 1000);
`,
  );
  return path;
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
      // The same boot in a process of its own, on every core and on one (taskset: what a single-core
      // device runs, verifying on its own thread as before), in turns.
      const script = await writeBootScript(dir);
      const [everyCore, oneCore] = await alternate(RUNS, [
        () => bootInChild(script, join(dir, 'device'), vendorDir, []),
        () => bootInChild(script, join(dir, 'device'), vendorDir, ['taskset', '-c', '0']),
      ]);
      const many = lowest(everyCore!);
      const one = lowest(oneCore!);
      const cores = availableParallelism();
      return [
        {
          name: 'boot verification, 100 packages × 10 MiB',
          reference: 'openssl dgst -sha256 (the 100 stored files, one process)',
          ours,
          theirs,
          target: 0.7,
          kind: 'ratio',
          unit: 's',
          note: `best of ${RUNS}; every package already active, re-verified on every core (${cores} here)`,
          details: [
            `by cores, the boot alone in a process of its own (best of ${RUNS}, in turns): ${cores} cores ${many.toFixed(3)} s (${(many / theirs).toFixed(2)} × openssl), 1 core ${one.toFixed(3)} s (${(one / theirs).toFixed(2)}); ${(one / many).toFixed(2)} times faster on ${cores}`,
          ],
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
      // Ours, plain tar and tar with the same durability (sync -f: syncfs of the target's file
      // system) take turns, so that a busy moment of the machine hits all three alike.
      let round = 0;
      const timedAfterSync = async (run: () => Promise<unknown>) => {
        await runCommand('sync', []);
        const start = performance.now();
        await run();
        return (performance.now() - start) / 1000;
      };
      const [boots, plain, durable] = await alternate(RUNS, [
        () =>
          timedAfterSync(async () => {
            const report = await devices[round]!.boot();
            if (!report.lines[0]?.activated) throw new Error(`not activated: ${report.lines[0]?.reason}`);
          }),
        async () => {
          const out = join(dir, `tar${round}`);
          await mkdir(out);
          return timedAfterSync(() => runCommand('tar', ['-xzf', tarball, '-C', out]));
        },
        async () => {
          const out = join(dir, `tar-sync${round++}`);
          await mkdir(out);
          return timedAfterSync(() =>
            runCommand('sh', ['-c', 'tar -xzf "$1" -C "$2" && sync -f "$2"', 'sh', tarball, out]),
          );
        },
      ]);
      const ours = lowest(boots!);
      const tar = lowest(plain!);
      const tarSync = lowest(durable!);
      const all = (xs: readonly number[]) => xs.map((x) => x.toFixed(3)).join(', ');
      const note = `best of ${RUNS}, each after sync, in turns; ours = the whole boot: re-hash, unpack to a stage, move into rootfs, syncfs, commit`;
      return [
        {
          name: 'activate a package of 10,000 small files, against tar with the same durability',
          reference: 'tar -xzf data.tar.gz -C DIR && sync -f DIR',
          ours,
          theirs: tarSync,
          target: 1.5,
          kind: 'ratio',
          unit: 's',
          note,
          details: [
            `against plain tar -xzf (${tar.toFixed(3)} s, its files left unsynced): ${(ours / tar).toFixed(2)}; of the ${(ours - tar).toFixed(3)} s more, ${(tarSync - tar).toFixed(3)} s is making the files durable (what sync -f adds to tar), ${(ours - tarSync).toFixed(3)} s the rest of the boot (verification, staging, the move into rootfs, the commit)`,
            `all runs: ours ${all(boots!)} s; tar ${all(plain!)} s; tar && sync -f ${all(durable!)} s`,
          ],
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
