// What the updater needs of the device it runs in, and of the feeds: small interfaces, so each side can change.
import type { Readable } from 'node:stream';
import type { BootReport } from '../api.js';
import type { DeviceFile } from '../config/device-file.js';
import type { FeedEntry, Universe } from '../feeds/index.js';
import type { Layout } from '../state/layout.js';
import type { FeedFetch, FeedUpdate } from './types.js';

/** The device around the updater: its paths, facts, lock, log and boot. */
export interface UpdaterHost {
  readonly paths: Layout;
  /** `device.json`, read afresh. */
  device(): Promise<DeviceFile>;
  /** Runs `task` under the device lock (recovering first what a crash left). */
  locked<T>(task: () => Promise<T>): Promise<T>;
  /** Appends events to the log (the caller holds the lock). */
  log(events: readonly string[]): Promise<void>;
  /** A failure as the device reports it: file-system errors as one-line `DeviceError`s. */
  failure(error: unknown, doing: string): Error;
  /** The boot sequence (the caller holds the lock): `reboot auto` after an applied plan. */
  boot(): Promise<BootReport>;
  /** The device's feeds. */
  feeds(): Promise<FeedSource>;
}

/** A conditional request the fast path of `edgesh-updater` may make without starting node. */
export interface FeedProbe {
  readonly feed: string;
  /** An http(s) URL of the file whose change means the feed changed. */
  readonly url: string;
  readonly etag?: string;
  readonly lastModified?: string;
}

/** What the updater needs of the feeds: update their indexes, read them, fetch a package. */
export interface FeedSource {
  /**
   * Brings every configured feed's index up to date (the caller holds the lock). An unchanged feed
   * costs one conditional request; a feed that fails (unreachable, bad signature, expired, rolled
   * back) keeps its previous index and says why.
   */
  update(fetch: FeedFetch, signal?: AbortSignal): Promise<FeedUpdate[]>;
  /** The packages of every feed's kept index, feeds in their configured order. */
  universe(): Promise<Universe>;
  /** The bytes of a feed package; the caller checks them against the index (size, SHA-256). */
  open(entry: FeedEntry, fetch: FeedFetch, signal?: AbortSignal): Promise<Readable>;
  /**
   * The conditional requests that tell whether any feed changed, when every feed can be asked so
   * (http or https, no login); `undefined` otherwise. Also the earliest time the kept indexes go
   * stale (a `Valid-Until`), if any.
   */
  probes(): Promise<{ readonly probes: readonly FeedProbe[]; readonly staleAt?: number } | undefined>;
}
