// The updater as the shell sees it: requests, settings, plans and runs as typed data (no text to parse).
import type { FeedFetcher } from '../feeds-api.js';

/** A relation of a version constraint: `>= 2.0` (dpkg's operators). */
export type ConstraintRelation = '<<' | '<=' | '=' | '>=' | '>>';

/** `version >= 2.0` of an install request. */
export interface VersionConstraint {
  readonly relation: ConstraintRelation;
  readonly version: string;
}

/**
 * Where a request comes from:
 * - `explicit`: set in the `updater` context (`install`, `uninstall`);
 * - `package`: recorded when the operator installed the package by name from a feed (`package install NAME`);
 * - `local`: the package was installed from a file (an address or media): kept at its version, never
 *   removed for lack of a feed.
 * An explicit request about a name replaces a recorded or local one in the plan.
 */
export type RequestSource = 'explicit' | 'package' | 'local';

/** One request of the updater (Turris's `Install` / `Uninstall`). */
export interface UpdaterRequest {
  readonly kind: 'install' | 'uninstall';
  readonly name: string;
  /** Install requests only. A local request is `= VERSION` of the installed version. */
  readonly constraint?: VersionConstraint;
  /** Higher wins when requests contradict each other; 50 when not given (Turris). */
  readonly priority: number;
  readonly source: RequestSource;
  /** An explicit or recorded request that another one about the same name overrides. */
  readonly shadowed?: boolean;
}

/** What `reboot` does after an applied plan. */
export type RebootMode = 'auto' | 'manual';

/** The updater's settings (`etc/updater/config`). */
export interface UpdaterSettings {
  /** `approval on`: a run applies only an approved plan (or one pending longer than `delayHours`). */
  readonly approval: boolean;
  /** `delay HOURS`: a plan applies by itself once it has been pending this long; 0: no delay. */
  readonly delayHours: number;
  readonly reboot: RebootMode;
}

/**
 * Why a step is in a plan: the resolver's kind (`requested`, `dependency`, `recommended`, `upgrade`,
 * `uninstall`, `conflict`, `replaced`, `broken`) or the updater's own `not-requested` (installed,
 * not requested, and nothing requested needs it), with the words `plan` prints.
 */
export interface UpdaterReason {
  readonly kind: string;
  /** `dependency of a`, `not requested`. */
  readonly text: string;
}

/** One step of a plan. */
export interface UpdaterStep {
  readonly action: 'install' | 'upgrade' | 'downgrade' | 'remove';
  readonly name: string;
  /** The version after the step (absent for `remove`). */
  readonly version?: string;
  /** The version before (absent for `install`). */
  readonly from?: string;
  /** The feed it comes from (install, upgrade, downgrade). */
  readonly feed?: string;
  /** Bytes to download. */
  readonly size?: number;
  readonly reason: UpdaterReason;
}

/** A request, as plans name it: `uninstall y (priority 40)`. */
export interface RequestRef {
  readonly kind: 'install' | 'uninstall';
  readonly name: string;
  readonly constraint?: VersionConstraint;
  readonly priority: number;
}

/** A request that lost to requests of higher priority. */
export interface LostRequestView {
  readonly request: RequestRef;
  readonly to: readonly RequestRef[];
  /** The version kept installed because of it (an uninstall that lost), if any. */
  readonly installed?: string;
}

/** A newer version the plan leaves out, and why (`rollout 10 %`). */
export interface HeldVersion {
  readonly name: string;
  readonly version: string;
  /** The version installed (kept), if any. */
  readonly installed?: string;
  readonly reason: string;
}

/** What one feed's update did at the start of a plan or run. */
export interface FeedUpdate {
  readonly feed: string;
  /** `unchanged`: one conditional request said so; `failed`: the previous index stays. */
  readonly result: 'updated' | 'unchanged' | 'failed';
  /** Why it failed (`Packages.sig does not verify …`). */
  readonly message?: string;
}

/**
 * Whether a run may apply the plan now:
 * - `not-needed`: approval is off and there is no delay, or the plan does nothing;
 * - `approved`: its id was approved (`approve PLAN-ID`);
 * - `delay-elapsed`: pending longer than the delay;
 * - `waiting`: it waits for approval (`until`: when the delay approves it by itself, if there is one).
 */
export type ApprovalState =
  | { readonly kind: 'not-needed' }
  | { readonly kind: 'approved' }
  | { readonly kind: 'delay-elapsed'; readonly since: string }
  | { readonly kind: 'waiting'; readonly since?: string; readonly until?: string };

/** `plan`: what a run would do now. */
export interface UpdaterPlan {
  /** A hash of the steps: what `approve` takes; the same plan has the same id on every device. */
  readonly id: string;
  readonly steps: readonly UpdaterStep[];
  readonly lost: readonly LostRequestView[];
  readonly held: readonly HeldVersion[];
  readonly feeds: readonly FeedUpdate[];
  readonly approval: ApprovalState;
  /** Bytes to download for the plan. */
  readonly downloadBytes: number;
}

/** How a run ended. */
export type RunResult = 'applied' | 'nothing-to-do' | 'waiting' | 'failed';

/** One run, as `show` and the event log tell it. */
export interface RunRecord {
  /** ISO 8601 start time. */
  readonly at: string;
  /** `cli` (the `run` command) or `timer` (`edgesh-updater`). */
  readonly trigger: 'cli' | 'timer';
  readonly result: RunResult;
  readonly planId?: string;
  /** Steps applied (for `applied`). */
  readonly steps: number;
  /** Why it failed or waits, one line. */
  readonly message?: string;
  /** An applied plan waits for a reboot (`reboot manual`), or the device rebooted (`auto`). */
  readonly reboot?: 'pending' | 'done';
}

/** `show`: everything the updater knows about itself. */
export interface UpdaterStatus {
  /** Every request: explicit, recorded and local, by name; `shadowed` ones lose to an explicit one. */
  readonly requests: readonly UpdaterRequest[];
  readonly settings: UpdaterSettings;
  readonly lastRun?: RunRecord;
  /** The plan that waits for approval, when there is one. */
  readonly pending?: { readonly id: string; readonly since: string };
  /** Plan ids approved and not yet applied. */
  readonly approved: readonly string[];
}

/** What the caller hands to `plan` and `run`: how to fetch, and how to stop. */
export interface UpdaterOptions {
  /** Opens the feeds' files; built by the caller over the transports, never asking anyone. */
  readonly fetcher: FeedFetcher;
  readonly signal?: AbortSignal;
}
