// Benchmark of the media read path: a package read from the simulated stick and hashed as it flows, against openssl.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createMediaResolver, DEFAULT_MEDIA_LABELS } from '../media/index.js';
import type { Bench, BenchResult } from './types.js';

const MiB = 1024 * 1024;
const SIZE = 512 * MiB;
const RUNS = 3;

async function writeRandom(path: string, size: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    // A repeated random block: incompressible enough for a hash, quick to write.
    const block = createHash('sha512').update('edgesh').digest();
    const chunk = Buffer.alloc(4 * MiB);
    for (let i = 0; i < chunk.length; i += block.length) block.copy(chunk, i);
    for (let written = 0; written < size; written += chunk.length) await handle.write(chunk);
  } finally {
    await handle.close();
  }
}

async function best(run: () => Promise<void>): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    fastest = Math.min(fastest, (performance.now() - start) / 1000);
  }
  return fastest;
}

/** `install media external` minus the store: resolve, open, SHA-256 of the stream; 512 MiB. */
export const benches: Record<string, Bench> = {
  async 'media read 512 MiB'(): Promise<BenchResult[]> {
    const root = await mkdtemp(join(tmpdir(), 'edgesh-bench-media-'));
    try {
      const stick = join(root, 'usb0');
      await mkdir(stick);
      const file = join(stick, 'big.wmopkg');
      await writeRandom(file, SIZE);
      const resolver = createMediaResolver({ usbStick: stick, lister: async () => [] });
      let ourDigest = '';
      const ours = await best(async () => {
        const resolved = await resolver.resolve(DEFAULT_MEDIA_LABELS, 'external', 'big.wmopkg');
        const transfer = await resolver.open(resolved, { maxBytes: 1024 * MiB, onProgress: () => {} });
        const hash = createHash('sha256');
        for await (const chunk of transfer.stream) hash.update(chunk as Buffer);
        ourDigest = hash.digest('hex');
      });
      let theirDigest = '';
      const theirs = await best(async () => {
        const { stdout } = await promisify(execFile)('openssl', ['dgst', '-sha256', '-r', file]);
        theirDigest = stdout.split(' ')[0] ?? '';
      });
      if (ourDigest !== theirDigest) throw new Error(`digest mismatch: ${ourDigest} vs ${theirDigest}`);
      return [
        {
          name: 'read 512 MiB from media, SHA-256 as it flows',
          reference: 'openssl dgst -sha256 FILE',
          ours,
          theirs,
          target: 1.1,
          kind: 'ratio',
          unit: 's',
          note: `best of ${RUNS}, file in the page cache`,
        },
      ];
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
};
