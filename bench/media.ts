// Benchmark of the media read path: a package read from the simulated stick and hashed as it flows, against openssl.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { takeReturn } from '../common/lent.js';
import { createMediaResolver, DEFAULT_MEDIA_LABELS } from '../media/index.js';
import type { Bench, BenchResult } from './types.js';
import { best, MiB, writeNoise } from './util.js';

const SIZE = 512 * MiB;
const RUNS = 3;

/** `install media external` minus the store: resolve, open, SHA-256 of the stream; 512 MiB. */
export const benches: Record<string, Bench> = {
  async 'media read 512 MiB'(): Promise<BenchResult[]> {
    const root = await mkdtemp(join(tmpdir(), 'edgesh-bench-media-'));
    try {
      const stick = join(root, 'usb0');
      await mkdir(stick);
      const file = join(stick, 'big.wmopkg');
      await writeNoise(file, SIZE);
      const resolver = createMediaResolver({ usbStick: stick, lister: async () => [] });
      let ourDigest = '';
      const ours = await best(RUNS, async () => {
        const resolved = await resolver.resolve(DEFAULT_MEDIA_LABELS, 'external', 'big.wmopkg');
        const transfer = await resolver.open(resolved, { maxBytes: 1024 * MiB, onProgress: () => {} });
        const hash = createHash('sha256');
        // Each chunk given back once hashed, as the install gives it back once hashed and written.
        for await (const chunk of transfer.stream) {
          hash.update(chunk as Buffer);
          takeReturn(chunk as Buffer)?.();
        }
        ourDigest = hash.digest('hex');
      });
      let theirDigest = '';
      const theirs = await best(RUNS, async () => {
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
