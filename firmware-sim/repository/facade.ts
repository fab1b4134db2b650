// The feeds' part of the device's contract: each call said as what it was doing, the repository room loaded on first use.
import type {
  ApplyPlanOptions,
  ApplyPlanResult,
  DependentView,
  DependsView,
  FeedConfig,
  FeedPackageInfo,
  FeedPlan,
  FeedPlanRequest,
  FeedStatus,
  FeedUpdateOptions,
  FeedUpdateResult,
} from '../api.js';
import type { RepositoryHost } from './host.js';

/** Runs a task; a failure becomes a one-line error saying what was being done (the device's `guard`). */
export type Guard = <T>(doing: string, task: () => Promise<T>) => Promise<T>;

/** What `availablePackages` looks for: names, or a text in names and descriptions. */
export type AvailableQuery = { readonly names?: readonly string[]; readonly text?: string };

/** A feed package with every field of its stanza, as `availableDetails` gives it. */
export type AvailableDetails = FeedPackageInfo & {
  readonly fields: ReadonlyArray<readonly [string, string]>;
};

/** The repository room, loaded on first use: the prompt must not wait for the resolver. */
export function load(): Promise<typeof import('./index.js')> {
  return import('./index.js');
}

/** The feed calls of a device, over its host; `LocalDevice` delegates them here. */
export class FeedsFacade {
  constructor(
    private readonly host: RepositoryHost,
    private readonly guard: Guard,
  ) {}

  feeds(): Promise<FeedStatus[]> {
    return this.guard('reading the feeds', async () => (await load()).feedStatuses(this.host.paths));
  }

  setFeed(feed: FeedConfig): Promise<'added' | 'changed' | 'unchanged'> {
    return this.guard(`configuring feed ${feed.name}`, async () => (await load()).setFeed(this.host, feed));
  }

  removeFeed(name: string): Promise<void> {
    return this.guard(`removing feed ${name}`, async () => (await load()).removeFeed(this.host, name));
  }

  updateFeeds(options: FeedUpdateOptions): Promise<FeedUpdateResult[]> {
    return this.guard('updating the feeds', async () => (await load()).updateFeeds(this.host, options));
  }

  feedNames(): Promise<string[]> {
    return this.guard('reading the feeds', async () => (await load()).feedNames(this.host.paths));
  }

  availablePackages(query?: {
    readonly names?: readonly string[];
    readonly text?: string;
  }): Promise<FeedPackageInfo[]> {
    return this.guard('reading the feeds', async () =>
      (await load()).availablePackages(this.host.paths, query),
    );
  }

  availableDetails(
    name: string,
  ): Promise<Array<FeedPackageInfo & { readonly fields: ReadonlyArray<readonly [string, string]> }>> {
    return this.guard('reading the feeds', async () =>
      (await load()).availableDetails(this.host.paths, name),
    );
  }

  dependsOf(name: string): Promise<DependsView> {
    return this.guard(`reading the relations of ${name}`, async () =>
      (await load()).dependsOf(this.host.paths, await this.host.device(), name),
    );
  }

  dependentsOf(name: string, options?: { readonly recursive?: boolean }): Promise<DependentView[]> {
    return this.guard(`reading what depends on ${name}`, async () =>
      (await load()).dependentsOf(this.host.paths, name, options),
    );
  }

  planFeeds(request: FeedPlanRequest): Promise<FeedPlan> {
    return this.guard('making a plan', async () =>
      (await load()).planFeeds(this.host.paths, await this.host.device(), request),
    );
  }

  planRemove(names: readonly string[]): Promise<FeedPlan> {
    return this.guard('making a plan', async () =>
      (await load()).planRemove(this.host.paths, await this.host.device(), names),
    );
  }

  planAutoremove(): Promise<FeedPlan> {
    return this.guard('making a plan', async () =>
      (await load()).planAutoremoval(this.host.paths, await this.host.device()),
    );
  }

  applyPlan(plan: FeedPlan, options: ApplyPlanOptions): Promise<ApplyPlanResult> {
    return this.guard('applying the plan', async () => (await load()).applyPlan(this.host, plan, options));
  }
}
