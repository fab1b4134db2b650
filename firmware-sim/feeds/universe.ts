// Every package the configured feeds offer, indexed by name and by what they provide.
import type { FeedPackage } from './packages-index.js';

/** A package of a feed, and which feed it came from. */
export interface FeedEntry {
  readonly feed: string;
  readonly package: FeedPackage;
}

/** One feed's packages, as `parsePackagesIndex` returns them. */
export interface FeedContent {
  readonly name: string;
  readonly packages: readonly FeedPackage[];
}

/** What the resolver asks of the feeds: the versions of a name, and what provides a name. */
export interface PackageSource {
  /** The versions of a package in the feeds (in feed order). */
  versionsOf(name: string): readonly FeedEntry[];
  /** The packages that provide `name` (a virtual package, or another package's name). */
  providersOf(name: string): readonly FeedEntry[];
}

/**
 * The packages of all feeds, looked up by name and by provided (virtual) name. Feeds are given in
 * order of preference: when two feeds have the same name and version, the first one's is kept.
 * Building it costs one pass; the resolver then touches only what a job reaches.
 */
export class Universe implements PackageSource {
  private readonly named = new Map<string, FeedEntry[]>();
  private readonly provided = new Map<string, FeedEntry[]>();
  /** Packages in all. */
  readonly size: number;

  constructor(feeds: Iterable<FeedContent>) {
    let size = 0;
    for (const feed of feeds) {
      for (const pkg of feed.packages) {
        const versions = this.named.get(pkg.name);
        if (versions?.some((entry) => entry.package.version === pkg.version)) continue;
        const entry: FeedEntry = { feed: feed.name, package: pkg };
        if (versions) versions.push(entry);
        else this.named.set(pkg.name, [entry]);
        for (const provide of pkg.provides) {
          const list = this.provided.get(provide.name);
          if (list) list.push(entry);
          else this.provided.set(provide.name, [entry]);
        }
        size++;
      }
    }
    this.size = size;
  }

  /** The versions of a package in the feeds (in feed order). */
  versionsOf(name: string): readonly FeedEntry[] {
    return this.named.get(name) ?? [];
  }

  /** The packages that provide `name` (a virtual package, or another package's name). */
  providersOf(name: string): readonly FeedEntry[] {
    return this.provided.get(name) ?? [];
  }

  /** Every package name, in no particular order. */
  names(): IterableIterator<string> {
    return this.named.keys();
  }

  /** Every package of every feed. */
  *entries(): Generator<FeedEntry> {
    for (const versions of this.named.values()) yield* versions;
  }
}
