// Feeds for device tests: a directory of built packages, indexed and signed; fetchers over the stick and the real transports.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { createFeedFetcher, type FeedFetcherParts } from '../../contexts/feed-fetch.js';
import type { FeedFetcher } from '../../firmware-sim/api.js';
import { type IndexOptions, indexFeed } from '../../firmware-sim/feeds/index.js';
import { DEVICE_DEFAULTS, type LocalDevice } from '../../firmware-sim/index.js';
import { buildPackage, type TestPackage } from '../../lab/packages.js';
import { createMediaResolver } from '../../media/index.js';
import { openRemote } from '../../transports/index.js';

/** Builds `packages` into `dir` (as `NAME_VERSION.wmopkg`) and indexes the directory. */
export async function writeFeed(
  dir: string,
  packages: readonly TestPackage[],
  options: IndexOptions = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const p of packages) await buildPackage(dir, p, `${p.name}_${p.version ?? '1.0.0'}.wmopkg`);
  await indexFeed(dir, options);
}

/** A fetcher that reads feeds from the device's simulated stick (`media://external/…`); no network. */
export function mediaFetcher(device: LocalDevice, extra: Partial<FeedFetcherParts> = {}): FeedFetcher {
  return createFeedFetcher({
    openRemote: async () => {
      throw new Error('no network in this test');
    },
    media: {
      resolver: createMediaResolver({ usbStick: device.paths.usbStick, lister: async () => [] }),
      labels: async () => (await device.bootConfig()).media,
    },
    ...parts(device),
    ...extra,
  });
}

/** A fetcher over the real transports (loopback servers of lab/). */
export function networkFetcher(device: LocalDevice, extra: Partial<FeedFetcherParts> = {}): FeedFetcher {
  return createFeedFetcher({ openRemote, ...parts(device), ...extra });
}

function parts(device: LocalDevice) {
  return {
    defaultPorts: DEVICE_DEFAULTS.defaultPorts,
    user: 'tester',
    knownHostsFile: device.paths.knownHostsFile,
    caDir: device.paths.caDir,
    connectTimeoutMs: 5000,
    stallTimeoutMs: 5000,
  };
}

/** Every file under `dir`, keyed `PREFIX/relative/path`, as the lab's servers serve them. */
export async function servedTree(dir: string, prefix: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[`${prefix}/${relative(dir, path).split(sep).join('/')}`] = await readFile(path);
  }
  return out;
}
