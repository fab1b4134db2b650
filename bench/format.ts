// Benchmark of `wmopkg verify` on a 512 MiB package against openssl's SHA-256 of the same file.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPublicKey, generateKeyPair, writePackage } from '../firmware-sim/format/index.js';
import { shebangCommand } from '../lab/paths.js';
import type { Bench } from './types.js';
import { best, MiB, nodeOptions, runCommand, scratch, writeNoise } from './util.js';

const WMOPKG = resolve(fileURLToPath(import.meta.url), '../../bin/wmopkg-start.cjs');
const RUNS = 5;

export const benches: Record<string, Bench> = {
  async 'wmopkg verify 512 MiB'() {
    const { dir, cleanup } = await scratch('verify');
    try {
      const payload = `${dir}/payload.bin`;
      await writeNoise(payload, 512 * MiB);
      const { publicKey, secretKey } = generateKeyPair('bench');
      const { writeFile } = await import('node:fs/promises');
      await writeFile(`${dir}/key.pub`, formatPublicKey(publicKey));
      const pkg = `${dir}/big.wmopkg`;
      await writePackage(
        {
          control: [
            ['Package', 'big'],
            ['Version', '1.0'],
            ['Architecture', 'all'],
            ['Maintainer', 'Bench <bench@example.com>'],
            ['Description', 'large package'],
          ],
          data: [{ name: './payload.bin', type: 'file', source: payload, size: 512 * MiB }],
          mtime: 1_700_000_000,
          sign: secretKey,
          gzipLevel: 1,
        },
        pkg,
      );
      // The installed `wmopkg`, started as its shebang says; the reporter of peak RSS rides in NODE_OPTIONS.
      const [command, ...args] = shebangCommand(WMOPKG);
      const env = { ...process.env, NODE_OPTIONS: await nodeOptions() };
      let rss = 0;
      // Warm the page cache once for both sides.
      await runCommand('openssl', ['dgst', '-sha256', pkg]);
      const ours = await best(RUNS, async () => {
        const ran = await runCommand(command, [...args, 'verify', pkg, '-p', `${dir}/key.pub`], { env });
        if (!/: Signed:/.test(ran.stdout)) throw new Error(`verify said: ${ran.stdout.trim()}`);
        rss = Math.max(rss, ran.maxRss ?? 0);
      });
      const theirs = await best(RUNS, () => runCommand('openssl', ['dgst', '-sha256', pkg]));
      return [
        {
          name: 'wmopkg verify 512 MiB',
          reference: 'openssl dgst -sha256 FILE',
          ours,
          theirs,
          target: 1.1,
          kind: 'ratio',
          unit: 's',
          note: `best of ${RUNS}, file in the page cache, both as new processes`,
        },
        {
          name: 'peak RSS of wmopkg verify 512 MiB',
          reference: '',
          ours: rss / MiB,
          theirs: 0,
          target: 80,
          kind: 'absolute',
          unit: 'MiB',
        },
      ];
    } finally {
      await cleanup();
    }
  },
};
