// Feeds and installed packages for the updater's tests: signed feed directories, a fetcher over them, store records.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createFeedFetcher } from '../../contexts/feed-fetch.js';
import type { FeedConfig, FeedFetcher, FeedFetchOptions, FeedFile } from '../../firmware-sim/api.js';
import { formatRfc2822, indexFeed } from '../../firmware-sim/feeds/index.js';
import { formatSignature, type SecretKey, signMessage } from '../../firmware-sim/format/index.js';
import { DEVICE_DEFAULTS, type LocalDevice } from '../../firmware-sim/index.js';
import type { Layout } from '../../firmware-sim/state/layout.js';
import { RECORD_FILE } from '../../firmware-sim/store/packages.js';
import { formatRecord, type StoreRecord } from '../../firmware-sim/store/records.js';
import { type RunningHttpServer, startHttpServer } from '../../lab/http-server.js';
import { buildPackage, type TestPackage } from '../../lab/packages.js';
import { openRemote } from '../../transports/index.js';
import { type Fields, packagesText } from './feed-fixtures.js';

/** Signs a feed index: `Packages`, `Packages.gz`, `Packages.sig`, and with `release` a signed `Release`. */
async function writeFeedIndex(
  dir: string,
  packages: string,
  key: SecretKey,
  options: { release?: { date: Date; validUntil?: Date } } = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const bytes = Buffer.from(packages);
  const gz = gzipSync(bytes);
  await writeFile(join(dir, 'Packages'), bytes);
  await writeFile(join(dir, 'Packages.gz'), gz);
  await writeFile(join(dir, 'Packages.sig'), formatSignature(signMessage(bytes, key)));
  for (const f of ['Release', 'Release.sig']) await rm(join(dir, f), { force: true });
  if (options.release) {
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const release = [
      `Date: ${formatRfc2822(options.release.date)}`,
      ...(options.release.validUntil ? [`Valid-Until: ${formatRfc2822(options.release.validUntil)}`] : []),
      'SHA256:',
      ` ${sha(bytes)} ${bytes.length} Packages`,
      ` ${sha(gz)} ${gz.length} Packages.gz`,
      '',
    ].join('\n');
    await writeFile(join(dir, 'Release'), release);
    await writeFile(join(dir, 'Release.sig'), formatSignature(signMessage(Buffer.from(release), key)));
  }
}

/** A feed of stanzas only (no package files): enough to plan on. */
export function writeStanzaFeed(dir: string, stanzas: readonly Fields[], key: SecretKey): Promise<void> {
  return writeFeedIndex(dir, packagesText(stanzas), key);
}

/**
 * A `FeedFetcher` over local directories: the feed `http://feeds.test/NAME` is the directory
 * `root/NAME`. It stands in for the network only (the device does the rest): an ETag of the content,
 * `not-modified` when it matches, `absent` for a missing file; every request is counted.
 */
export function dirFetcher(root: string): FeedFetcher & { readonly requests: string[] } {
  const requests: string[] = [];
  return {
    requests,
    async open(feed: FeedConfig, path: string, options: FeedFetchOptions): Promise<FeedFile> {
      const dir = new URL(feed.url).pathname;
      const file = join(root, dir, path);
      requests.push(`${feed.name}/${path}${options.validators ? ' (conditional)' : ''}`);
      const bytes = await readFile(file).catch(() => undefined);
      if (bytes === undefined) return { kind: 'absent' };
      const etag = `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"`;
      if (options.validators?.etag === etag) return { kind: 'not-modified' };
      if (bytes.length > options.maxBytes) throw new Error(`${path}: larger than ${options.maxBytes}`);
      const size = (await stat(file)).size;
      return { kind: 'stream', stream: createReadStream(file), size, validators: { etag } };
    },
  };
}

/** An installed package for `writeRecords`: `'a 1.0'`, its control fields, and how it came. */
export interface InstalledSpec {
  readonly spec: string;
  readonly fields?: Fields;
  /** Installed from a file (no feed). */
  readonly local?: boolean;
  /** Installed only as a dependency. */
  readonly auto?: boolean;
  readonly persistent?: boolean;
}

/**
 * Writes store records as the device would have them after installs (the package file itself is a
 * placeholder: planning reads records only). Every earlier record is removed first.
 */
export async function writeRecords(
  layout: Layout,
  specs: ReadonlyArray<string | InstalledSpec>,
): Promise<void> {
  await rm(layout.storeDir, { recursive: true, force: true });
  await mkdir(layout.storeDir, { recursive: true });
  for (const [i, s] of specs.entries()) {
    const {
      spec,
      fields = {},
      local = false,
      auto = false,
      persistent = false,
    } = typeof s === 'string' ? { spec: s } : s;
    const [name, version] = spec.split(' ') as [string, string];
    const installId = `test${i}-${name}`;
    const control: Array<[string, string]> = [
      ['Package', name],
      ['Version', version],
      ['Architecture', fields.Architecture ?? 'all'],
      ['Maintainer', 'Test <test@example.com>'],
      ['Description', `${name} package`],
      ...Object.entries(fields).filter(([k]) => k !== 'Architecture'),
    ];
    const record: StoreRecord = {
      format: 1,
      name,
      installId,
      file: `${installId}.wmopkg`,
      version,
      architecture: fields.Architecture ?? 'all',
      description: `${name} package`,
      fields: control,
      persistent,
      origin: local
        ? { kind: 'media', label: 'external', path: `${name}.wmopkg` }
        : {
            kind: 'remote',
            proto: 'http',
            host: 'feeds.test',
            port: 80,
            path: `main/${name}_${version}_all.wmopkg`,
          },
      installedAt: '2026-11-21T10:00:00.000Z',
      size: 1024,
      members: [],
      verification: 'Signed',
      reason: '',
      ...(local ? {} : { feed: 'main' }),
      ...(auto ? { auto: true } : {}),
    };
    const dir = join(layout.storeDir, name);
    await mkdir(dir);
    await writeFile(join(dir, record.file), 'placeholder');
    await writeFile(join(dir, RECORD_FILE), formatRecord(record));
  }
}

/** A feed of real packages served by the lab's http server (conditional requests as nginx answers them). */
export interface ServedFeed {
  /** The feed's URL (`http://127.0.0.1:PORT/main`). */
  readonly url: string;
  readonly server: RunningHttpServer;
  /** Builds a signed package into the feed's directory (published at the next `publish`). */
  add(spec: TestPackage): Promise<void>;
  /** Indexes the directory (signed; `rollout` as `wmopkg index --rollout`) and serves the result. */
  publish(options?: { rollout?: Record<string, number>; validForDays?: number }): Promise<void>;
  /** Changes a served file's bytes without re-signing (a tampered index). */
  tamper(path: string, change: (bytes: Buffer) => Buffer): void;
  /** The requests the server saw since the last `clear`. */
  requests(): ReadonlyArray<{ path: string; method: string; status?: number }>;
  clear(): void;
  close(): Promise<void>;
}

/** Serves a new feed `main` from `dir`, its packages signed (and indexed) with `key`. */
export async function serveFeed(dir: string, key: SecretKey): Promise<ServedFeed> {
  await mkdir(dir, { recursive: true });
  const files: Record<string, Buffer> = {};
  const server = await startHttpServer({ files });
  let seen = 0;
  return {
    url: `http://127.0.0.1:${server.port}/main`,
    server,
    async add(spec) {
      await buildPackage(dir, { sign: key, ...spec }, `${spec.name}_${spec.version ?? '1.0.0'}_all.wmopkg`);
    },
    async publish(options = {}) {
      await indexFeed(dir, {
        sign: key,
        ...(options.rollout ? { rollout: new Map(Object.entries(options.rollout)) } : {}),
        ...(options.validForDays === undefined ? {} : { validForDays: options.validForDays }),
      });
      for (const k of Object.keys(files)) delete files[k];
      for (const name of await readdir(dir)) {
        if (!name.startsWith('.')) files[`main/${name}`] = await readFile(join(dir, name));
      }
    },
    tamper(path, change) {
      files[`main/${path}`] = change(files[`main/${path}`]!);
    },
    requests: () => server.requests.slice(seen),
    clear() {
      seen = server.requests.length;
    },
    close: () => server.close(),
  };
}

/** The fetcher `edgesh-updater` builds: the real transports, nobody to ask. */
export function transportFetcher(device: LocalDevice): FeedFetcher {
  return createFeedFetcher({
    openRemote,
    defaultPorts: DEVICE_DEFAULTS.defaultPorts,
    user: 'updater',
    knownHostsFile: device.paths.knownHostsFile,
    caDir: device.paths.caDir,
  });
}
