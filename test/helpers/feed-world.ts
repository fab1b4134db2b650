// Feeds in the world of the shell's tests: signed feeds served by the mock servers and on the stick, fixed keys and dates.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { indexFeed } from '../../firmware-sim/feeds/index.js';
import { buildPackage, type TestPackage } from '../../lab/packages.js';
import { type ServerConfig, VENDOR, type World } from './world.js';

/** The date every feed of the world is indexed at, so that transcripts show the same `Release`. */
const INDEXED = new Date('2026-01-01T00:00:00Z');

/** What the world serves besides its own servers, and where it keeps the feeds. */
export interface FeedWorld {
  /** Servers to add to the world's (by host). */
  readonly servers: Readonly<Record<string, ServerConfig>>;
}

const signed = VENDOR.secretKey;
const p = (
  name: string,
  version: string,
  description: string,
  extra: Partial<TestPackage> = {},
): TestPackage => ({
  name,
  version,
  description,
  sign: signed,
  data: [{ name: `./usr/share/${name}/README`, type: 'file', mode: 0o644, content: `${name} ${version}\n` }],
  ...extra,
});

/** The first feed: a chain app → libb → liba, a recommendation, an unsigned package, one that cannot be met. */
const FIRST: readonly TestPackage[] = [
  p('liba', '1.0', 'Shared library A'),
  p('libb', '2.1', 'Shared library B', { depends: 'liba (>= 1.0)' }),
  p('app', '1.0', 'The application\n It needs both libraries.', {
    depends: 'libb, firmware (>= 5.0)',
    fields: [['Recommends', 'extra']],
  }),
  p('extra', '1.0', 'Optional extras for app'),
  p('tool', '3.0', 'A tool on its own'),
  p('needy', '1.0', 'Needs a newer liba', { depends: 'liba (>= 2.0)' }),
  p('plugin', '0.9', 'Unsigned plugin for app', { depends: 'app' }),
];
/** The second: liba and tool move on, app 2.0 needs a new libc. */
const SECOND: readonly TestPackage[] = [
  p('liba', '1.1', 'Shared library A'),
  p('libb', '2.1', 'Shared library B', { depends: 'liba (>= 1.0)' }),
  p('libc', '1.0', 'Shared library C'),
  p('app', '2.0', 'The application\n It needs all three libraries.', { depends: 'libb, libc' }),
  p('extra', '1.0', 'Optional extras for app'),
  p('tool', '3.1', 'A tool on its own'),
];

async function feed(
  dir: string,
  packages: readonly TestPackage[],
  options: { now?: Date; validForDays?: number } = {},
): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const pkg of packages) {
    const unsigned = pkg.name === 'plugin';
    const { sign, ...rest } = pkg;
    await buildPackage(
      dir,
      unsigned ? rest : { ...rest, ...(sign ? { sign } : {}) },
      `${pkg.name}_${pkg.version}.wmopkg`,
    );
  }
  await indexFeed(dir, {
    sign: signed,
    now: options.now ?? INDEXED,
    validForDays: options.validForDays ?? 3650,
  });
}

/** Every file under `dir` as `PREFIX/relative/path` → local file, as the mock servers take them. */
async function files(dir: string, prefix: string, into: Record<string, string>): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    into[`${prefix}/${relative(dir, path).split(sep).join('/')}`] = path;
  }
}

/**
 * Builds the feeds into the world's directory: `feed/` (the first feed) and `feed2/` (the second) on
 * 192.0.2.10 (http, https, ftp, tftp) and behind a login on 192.0.2.11 (sftp, scp, ftp; password
 * `secret`), `bad/` (its Packages changed after signing),
 * `stale/` (its Release expired in 2020); and the first feed on the world's stick (`media://external/feed`).
 */
export async function buildFeedWorld(world: World): Promise<FeedWorld> {
  const root = join(world.dir, 'feeds');
  await feed(join(root, 'feed'), FIRST);
  await feed(join(root, 'feed2'), SECOND);
  await feed(join(root, 'bad'), [p('evil', '1.0', 'Not what was signed')]);
  const packages = join(root, 'bad', 'Packages');
  const tampered = (await readFile(packages, 'utf8')).replace('Version: 1.0', 'Version: 6.6.6');
  await writeFile(packages, tampered);
  await writeFile(join(root, 'bad', 'Packages.gz'), gzipSync(tampered));
  await feed(join(root, 'stale'), [p('old', '1.0', 'From a frozen mirror')], {
    now: new Date('2020-01-01T00:00:00Z'),
    validForDays: 30,
  });
  const served: Record<string, string> = {};
  for (const name of ['feed', 'feed2', 'bad', 'stale']) await files(join(root, name), name, served);
  const usb = world.config.drives?.[0]?.partitions[0]?.mountpoint;
  if (usb !== undefined) await feed(join(usb, 'feed'), FIRST);
  return {
    servers: {
      '192.0.2.10': { protos: ['http', 'https', 'ftp', 'tftp'], files: served },
      '192.0.2.11': {
        protos: ['sftp', 'scp', 'ftp'],
        password: 'secret',
        files: served,
      },
    },
  };
}
