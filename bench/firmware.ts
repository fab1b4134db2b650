// Benchmark of the firmware lifecycle: switching to a 256 MiB firmware at boot against `tar -xzf` of its data.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DataEntry, readPackageFile, writePackage } from '../firmware-sim/format/index.js';
import { type LocalDevice, loadVendorSecretKey, openDevice } from '../firmware-sim/index.js';
import type { Bench } from './types.js';
import { MiB, runCommand, scratch, writeNoise } from './util.js';

const RUNS = 5;

/**
 * A firmware-like blob: 64 KiB of noise, then 64 KiB of text, and so on (a firmware image compresses
 * to about half, as binaries do).
 */
async function writeBlob(path: string, noise: string, size: number): Promise<void> {
  const source = await open(noise, 'r');
  const out = await open(path, 'w');
  try {
    const text = Buffer.alloc(64 * 1024, 'firmware component: configuration and messages\n');
    const random = Buffer.alloc(64 * 1024);
    for (let at = 0; at < size; at += 2 * random.length) {
      await source.read(random, 0, random.length, (at / 2) % (16 * MiB));
      await out.write(random);
      await out.write(text);
    }
  } finally {
    await source.close();
    await out.close();
  }
}

/** The data of a 256 MiB firmware: four 48 MiB images and 6,000 files of about 11 KiB. */
async function firmwareData(dir: string): Promise<DataEntry[]> {
  const noise = join(dir, 'noise.bin');
  await writeNoise(noise, 16 * MiB);
  const data: DataEntry[] = [{ name: './boot/', type: 'directory', mode: 0o755 }];
  for (let i = 0; i < 4; i++) {
    const path = join(dir, `image${i}.bin`);
    await writeBlob(path, noise, 48 * MiB);
    data.push({ name: `./boot/image${i}.bin`, type: 'file', mode: 0o644, source: path, size: 48 * MiB });
  }
  const small = join(dir, 'small.bin');
  await writeBlob(small, noise, 64 * MiB);
  const handle = await open(small, 'r');
  try {
    for (let d = 0; d < 60; d++) {
      data.push({ name: `./usr/lib/fw${d}/`, type: 'directory', mode: 0o755 });
      for (let f = 0; f < 100; f++) {
        const size = Math.floor((64 * MiB) / 6000);
        const content = Buffer.alloc(size);
        await handle.read(content, 0, size, (d * 100 + f) * size);
        data.push({ name: `./usr/lib/fw${d}/f${f}.so`, type: 'file', mode: 0o755, content });
      }
    }
  } finally {
    await handle.close();
  }
  return data;
}

/** The data.tar.gz member of a package, copied out (for `tar -xzf`). */
async function extractDataMember(pkg: string, out: string): Promise<void> {
  const sink = createWriteStream(out);
  const written = new Promise<void>((resolve, reject) => {
    sink.on('finish', resolve);
    sink.on('error', reject);
  });
  await readPackageFile(pkg, {
    onData: async (chunk) => {
      if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
    },
  });
  sink.end();
  await written;
}

async function install(target: LocalDevice, path: string): Promise<void> {
  await target.install({
    name: 'firmware-next',
    persistent: false,
    origin: { kind: 'media', label: 'external', path: 'firmware-next.wmopkg' },
    stream: createReadStream(path, { highWaterMark: MiB }),
    confirmDowngrade: async () => true,
  });
}

export const benches: Record<string, Bench> = {
  async 'switch to a 256 MiB firmware at boot'() {
    const { dir, cleanup } = await scratch('firmware-switch');
    try {
      const vendorDir = join(dir, 'vendor');
      const target = await openDevice(join(dir, 'device'), {
        session: { user: 'bench', id: 'bench' },
        vendorDir,
      });
      const key = await loadVendorSecretKey(vendorDir);
      const pkg = join(dir, 'firmware-next.wmopkg');
      await writePackage(
        {
          control: [
            ['Package', 'firmware'],
            ['Version', '5.27.0'],
            ['Architecture', 'arm64'],
            ['Maintainer', 'Bench <bench@example.com>'],
            ['Tags', 'firmware'],
            ['Description', 'a 256 MiB firmware'],
          ],
          data: await firmwareData(dir),
          mtime: 1_700_000_000,
          sign: key,
          // Level 1 makes the fixture quickly; inflating costs about the same at any level.
          gzipLevel: 1,
        },
        pkg,
      );
      const tarball = join(dir, 'data.tar.gz');
      await extractDataMember(pkg, tarball);
      // Each run: the package installed again (untimed; the same version is a reinstall, written into
      // the other slot), then ours and tar's, each after a sync (like hyperfine --prepare sync), one
      // after the other so that both meet the same load of a shared machine.
      let ours = Number.POSITIVE_INFINITY;
      let theirs = Number.POSITIVE_INFINITY;
      for (let run = 0; run < RUNS; run++) {
        await install(target, pkg);
        await runCommand('sync', []);
        let start = performance.now();
        const report = await target.boot();
        ours = Math.min(ours, (performance.now() - start) / 1000);
        if (report.firmware?.change?.done !== true) {
          throw new Error(`the firmware did not switch: ${report.firmware?.change?.reason ?? 'no change'}`);
        }
        // The old fallback's files are deleted in the background: not into the next measurement.
        while ((await readdir(join(dir, 'device/firmware'))).some((name) => name.startsWith('.tmp-'))) {
          await sleep(50);
        }
        const out = join(dir, `tar${run}`);
        await mkdir(out);
        await runCommand('sync', []);
        start = performance.now();
        await runCommand('tar', ['-xzf', tarball, '-C', out]);
        theirs = Math.min(theirs, (performance.now() - start) / 1000);
        await runCommand('rm', ['-rf', out]);
      }
      return [
        {
          name: 'switch to a 256 MiB firmware at boot (4 × 48 MiB images, 6,000 files)',
          reference: 'tar -xzf data.tar.gz',
          ours,
          theirs,
          target: 1.5,
          kind: 'ratio',
          unit: 's',
          note: `best of ${RUNS}, each after sync; ours = the whole boot: re-hash the stored package, unpack into the spare slot, syncfs, commit device.json, point firmware/current`,
        },
      ];
    } finally {
      await cleanup();
    }
  },
};
