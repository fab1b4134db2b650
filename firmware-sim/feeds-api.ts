// The feeds as the shell and the updater see the device: configuration, update, plans and their application.
import type { Readable } from 'node:stream';
import type { Verification } from '../common/vocabulary.js';

/** A feed as configured (`feed [persistent] NAME URL`); `url` as `formatFeedUrl` writes it. */
export interface FeedConfig {
  readonly name: string;
  readonly url: string;
  /** Survives a factory reset. */
  readonly persistent: boolean;
}

/**
 * How well a kept index is protected against replay: `protected` (a signed `Release` with
 * `Valid-Until`), `no-expiry` (a signed `Release` without it), `none` (no `Release` at all).
 * Dates are ISO 8601.
 */
export type FeedFreshness =
  | { readonly state: 'protected'; readonly date: string; readonly validUntil: string }
  | { readonly state: 'no-expiry'; readonly date: string }
  | { readonly state: 'none' };

/** One feed as `show feeds` lists it. */
export interface FeedStatus extends FeedConfig {
  /** When an update last took or confirmed the kept index (ISO 8601); absent: never updated. */
  readonly updatedAt?: string;
  /** Packages in the kept index. */
  readonly packages?: number;
  /** Stanzas of the kept index left out as unusable. */
  readonly skipped?: number;
  readonly freshness?: FeedFreshness;
  /** Key that signed the kept `Packages`. */
  readonly keyNumber?: string;
  /** The kept `Release` has expired since it was taken (a stale or frozen feed). */
  readonly expired?: boolean;
  /** The last update of this feed failed (the kept index, if any, is the one before). */
  readonly failure?: { readonly at: string; readonly code: string; readonly message: string };
}

/** What an http server said about a file, sent back to it on the next fetch (`If-Modified-Since`, `If-None-Match`). */
export interface FetchValidators {
  readonly lastModified?: string;
  readonly etag?: string;
}

/** One file of a feed as a fetcher opened it. */
export type FeedFile =
  | {
      readonly kind: 'stream';
      readonly stream: Readable;
      /** Size announced by the server, if any. */
      readonly size?: number;
      readonly validators?: FetchValidators;
    }
  /** The server says the file is unchanged since `validators` (http 304). */
  | { readonly kind: 'not-modified' }
  /** The server or media has no such file. */
  | { readonly kind: 'absent' };

/** How a file of a feed is fetched. */
export interface FeedFetchOptions {
  /** Ask only for a file changed since (http); other protocols fetch it anyway. */
  readonly validators?: FetchValidators;
  /** Largest file accepted, in bytes. */
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
  /** What the operator sees while it flows (a progress bar on a terminal): `base: Packages.gz`. */
  readonly label?: string;
}

/**
 * Opens files of feeds over the device's transports and media. Built by the shell (it may ask for a
 * password or about a host key) or by a program that never asks (the updater); the device decides
 * what to fetch and what to make of it.
 */
export interface FeedFetcher {
  /** Opens `path` (relative to the feed's directory: `Packages`, `pool/a_1.0.wmopkg`). */
  open(feed: FeedConfig, path: string, options: FeedFetchOptions): Promise<FeedFile>;
}

/** What `updateFeeds` did to one feed. */
export type FeedUpdateResult =
  | {
      readonly name: string;
      /** `updated`: a new index is kept; `unchanged`: the server has the kept one. */
      readonly outcome: 'updated' | 'unchanged';
      readonly packages: number;
      /** Stanzas left out, each `line N: why`. */
      readonly skipped: readonly string[];
      readonly freshness: FeedFreshness;
      readonly keyNumber: string;
    }
  | {
      readonly name: string;
      readonly outcome: 'failed';
      /** A stable code: `FEED_*` (the index), `TRANSPORT_*` or `MEDIA_*` (the fetch), `DEVICE_*`. */
      readonly code: string;
      readonly message: string;
      /** An index from an earlier update is kept and still used. */
      readonly kept: boolean;
    };

/** Options of `updateFeeds`. */
export interface FeedUpdateOptions {
  readonly fetcher: FeedFetcher;
  /** Only these feeds (default: all, in configured order). */
  readonly names?: readonly string[];
  readonly signal?: AbortSignal;
  /** Called as each feed is done, so that the shell can print as it goes. */
  readonly onResult?: (result: FeedUpdateResult) => void;
}

/** A version constraint of an install request: `>= 2.0`. */
export interface FeedConstraint {
  readonly relation: '<<' | '<=' | '=' | '>=' | '>>';
  readonly version: string;
}

/** One request to the resolver (docs/feeds.md); the higher `priority` wins a contradiction (default 50). */
export type FeedRequest =
  | {
      readonly kind: 'install';
      readonly name: string;
      readonly constraint?: FeedConstraint;
      readonly priority?: number;
    }
  | { readonly kind: 'uninstall'; readonly name: string; readonly priority?: number }
  | { readonly kind: 'upgrade'; readonly name: string; readonly priority?: number };

/** A package of a feed as a hold hook and the query commands see it. */
export interface FeedPackageInfo {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  readonly feed: string;
  /** `Rollout: N` of its stanza (percent of devices that may take it). */
  readonly rollout?: number;
  /** First line of `Description`. */
  readonly description: string;
  readonly filename: string;
  readonly size: number;
  readonly sha256: string;
}

/** What `planFeeds` is asked. */
export interface FeedPlanRequest {
  readonly requests: readonly FeedRequest[];
  /** Upgrade every installed feed package to the newest version that fits. */
  readonly upgradeAll?: boolean;
  /** Remove packages installed as dependencies that nothing needs any more. */
  readonly autoremove?: boolean;
  /** Leave `Recommends` alone. */
  readonly noRecommends?: boolean;
  /**
   * Counts an installed package as installed only as a dependency, whatever its record says (the
   * updater passes what no request names, so that `autoremove` takes it); default: the record's mark.
   */
  readonly auto?: (name: string) => boolean;
  /** Holds a feed package back (staged rollout, local policy): returns why, or `undefined`. */
  readonly hold?: (pkg: FeedPackageInfo) => string | undefined;
}

/** One step of a plan. */
export interface FeedPlanStep {
  readonly action: 'install' | 'upgrade' | 'downgrade' | 'remove';
  readonly name: string;
  /** The version after the step (absent for `remove`). */
  readonly version?: string;
  /** The version before the step (absent for `install`). */
  readonly from?: string;
  /** After the step, the package counts as installed only as a dependency. */
  readonly auto: boolean;
  /** Why, in words: `requested`, `dependency of a`, `conflicts with c`, `needs b, which is removed`. */
  readonly reason: string;
  /** The kind of reason (`requested`, `dependency`, `recommended`, `upgrade`, `uninstall`, …). */
  readonly because: string;
  /** What to download, for every step but `remove`. */
  readonly download?: FeedPackageInfo;
  /** Packages this plan installs or changes that this one depends on: the boot activates them together. */
  readonly needs?: readonly string[];
}

/** A plan, made on the installed packages as they were (`basis`); nothing is changed by making one. */
export interface FeedPlan {
  /** Removals first, then installs and upgrades, each package after what it needs. */
  readonly steps: readonly FeedPlanStep[];
  /** Newer versions the plan does not take, and why (`rollout 10 %`). */
  readonly held: ReadonlyArray<{ readonly name: string; readonly version: string; readonly reason: string }>;
  /** Requests that lost to higher priorities: `uninstall b (priority 40) lost to install a (priority 60)`. */
  readonly lost: readonly string[];
  /** Kept packages whose mark changes (a dependency now asked for by name). */
  readonly marks: ReadonlyArray<{ readonly name: string; readonly auto: boolean }>;
  /** The plan on one line: `Install: a 1.0, b 2.1 (dependency of a); Upgrade: c 1.0 → 1.2`. */
  readonly summary: string;
  /** What was asked (recorded by the request hooks when the plan is applied). */
  readonly requests: readonly FeedRequest[];
  /** Feeds used with a caveat: `feed extra: Release expired on …; update failed`. */
  readonly warnings: readonly string[];
  /** The installed packages the plan was made on; `applyPlan` refuses it once they changed. */
  readonly basis: string;
}

/** What applying one step did. */
export interface FeedStepResult {
  readonly action: FeedPlanStep['action'];
  readonly name: string;
  readonly version: string;
  readonly previousVersion?: string;
  /** The verdict on the downloaded package (absent for `remove`). */
  readonly verification?: Verification;
  /** Why the verification is not `Signed`. */
  readonly reason?: string;
  readonly keyNumber?: string;
  /** Whether the next boot will activate it under the current boot configuration. */
  readonly willActivate?: boolean;
  readonly persistent?: boolean;
  readonly auto: boolean;
}

/** Options of `applyPlan`. */
export interface ApplyPlanOptions {
  readonly fetcher: FeedFetcher;
  /** New packages survive a factory reset, and so do the installed packages they need. */
  readonly persistent?: boolean;
  readonly signal?: AbortSignal;
  /** A step's download starts (for progress). */
  readonly onDownload?: (step: FeedPlanStep) => void;
  /**
   * Refuse the whole plan when a package it installs would not be activated at the next boot (an
   * untrusted key without allow-untrusted): nobody reads a warning when the updater applies a plan.
   */
  readonly onlyWhatRuns?: boolean;
}

/** What `applyPlan` did, in the plan's order; it takes effect at the next boot. */
export interface ApplyPlanResult {
  readonly steps: readonly FeedStepResult[];
  /** Marks changed on kept packages. */
  readonly marks: ReadonlyArray<{ readonly name: string; readonly auto: boolean }>;
}

/** A relation group of a package and what meets it now (`show depends`). */
export interface DependencyView {
  /** `Depends`, `Pre-Depends`, `Recommends`, `Conflicts`, … */
  readonly field: string;
  /** The group as written: `b (>= 2.0) | c`. */
  readonly group: string;
  /** Installed packages that meet it. */
  readonly installed: readonly string[];
  /** Newest feed packages that meet it (name and version), when nothing installed does. */
  readonly available: readonly string[];
}

/** `show depends NAME`: the package looked at (installed, else the newest in the feeds) and its relations. */
export interface DependsView {
  readonly name: string;
  readonly version: string;
  readonly source: 'installed' | 'feed';
  readonly relations: readonly DependencyView[];
}

/** One installed package that depends on another (`show whatdepends`). */
export interface DependentView {
  readonly name: string;
  readonly version: string;
  /** The group of its that the package meets: `b (>= 2.0)`. */
  readonly through: string;
}

/** A request made by the operator through the device (`install NAME`, `remove NAME`), for the request hooks. */
export interface RequestRecord {
  readonly kind: 'install' | 'uninstall';
  readonly name: string;
  /** ISO 8601. */
  readonly at: string;
}

/**
 * Called under the device lock once a plan or a removal is committed, with the requests it carried
 * (the updater keeps the operator's requests this way). A hook that throws does not undo the change;
 * its failure is logged.
 */
export type RequestHook = (records: readonly RequestRecord[]) => Promise<void>;

/** The feed part of the `Device` contract. Errors are `DeviceError`s (`DEVICE_FEED*` codes among them). */
export interface FeedsDevice {
  /** Configured feeds, in order. */
  feeds(): Promise<FeedStatus[]>;
  /** Adds a feed, or changes one of that name (another URL drops its kept index). */
  setFeed(feed: FeedConfig): Promise<'added' | 'changed' | 'unchanged'>;
  /** Removes a feed and its kept index. */
  removeFeed(name: string): Promise<void>;
  /** Fetches every feed's index (only what changed), verifies it and keeps it atomically; one result per feed. */
  updateFeeds(options: FeedUpdateOptions): Promise<FeedUpdateResult[]>;
  /** Package names of the kept indexes, sorted: fast, for TAB completion. */
  feedNames(): Promise<string[]>;
  /** Newest version of each feed package (or of the named ones) whose name or description holds `text`. */
  availablePackages(query?: {
    readonly names?: readonly string[];
    readonly text?: string;
  }): Promise<FeedPackageInfo[]>;
  /** Every version of a feed package, each with every field of its stanza, newest first. */
  availableDetails(
    name: string,
  ): Promise<Array<FeedPackageInfo & { readonly fields: ReadonlyArray<readonly [string, string]> }>>;
  /** `show depends`. */
  dependsOf(name: string): Promise<DependsView>;
  /** `show whatdepends`: installed packages that depend on `name` (with `recursive`, on those too). */
  dependentsOf(name: string, options?: { readonly recursive?: boolean }): Promise<DependentView[]>;
  /** A plan of the resolver over the kept indexes and the installed packages. */
  planFeeds(request: FeedPlanRequest): Promise<FeedPlan>;
  /** A plan that removes `names` and every installed package left without what it depends on. */
  planRemove(names: readonly string[]): Promise<FeedPlan>;
  /** A plan that removes the packages installed as dependencies that nothing needs any more. */
  planAutoremove(): Promise<FeedPlan>;
  /**
   * Applies a plan: downloads every package (each checked against the index's size and SHA-256, then
   * verified as any install), then commits all of it at once; the next boot activates its packages
   * together. Refused with `DEVICE_CHANGED` when the installed packages are no longer the plan's basis.
   */
  applyPlan(plan: FeedPlan, options: ApplyPlanOptions): Promise<ApplyPlanResult>;
  /** Registers a request hook; returns its removal. */
  onRequests(hook: RequestHook): () => void;
}
