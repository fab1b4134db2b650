// The documents of the feed commands (docs/automation.md): feed, no feed, show feeds, update, and the plans.
import type {
  ApplyPlanResult,
  FeedFreshness,
  FeedPackageInfo,
  FeedPlan,
  FeedStatus,
  FeedStepResult,
  FeedUpdateResult,
} from '../firmware-sim/api.js';
import { orNull } from './json.js';

/** `feed [persistent] NAME URL | json`. */
export type FeedSetDoc = {
  /** `added`, `changed` (another URL or persistent flag), `unchanged`. */
  readonly result: 'added' | 'changed' | 'unchanged';
  readonly changed: boolean;
  readonly name: string;
  readonly url: string;
  readonly persistent: boolean;
};

/** `no feed NAME | json`. */
export type FeedRemoveDoc = { readonly result: 'removed'; readonly changed: true; readonly name: string };

/** How a kept index is protected against replay; the dates `null` where they do not apply. */
export type FreshnessDoc = {
  /** `protected` (signed Release with Valid-Until), `no-expiry`, `none` (no Release). */
  readonly state: 'protected' | 'no-expiry' | 'none';
  readonly date: string | null;
  readonly valid_until: string | null;
};

/** One feed of `show feeds | json`. */
export type FeedDoc = {
  readonly name: string;
  readonly url: string;
  readonly persistent: boolean;
  readonly updated_at: string | null;
  readonly packages: number | null;
  readonly skipped: number | null;
  readonly freshness: FreshnessDoc | null;
  readonly signing_key: string | null;
  readonly expired: boolean;
  readonly failure: { readonly at: string; readonly code: string; readonly message: string } | null;
};

/** `show feeds | json`. */
export type FeedListDoc = { readonly feeds: readonly FeedDoc[] };

/** What `update` did to one feed. */
export type FeedUpdateDoc = {
  readonly name: string;
  /** `updated`, `unchanged` (the server has the kept index), `failed`. */
  readonly result: 'updated' | 'unchanged' | 'failed';
  readonly packages: number | null;
  /** Stanzas left out, each `line N: why` (empty for `failed`). */
  readonly skipped: readonly string[];
  readonly freshness: FreshnessDoc | null;
  readonly signing_key: string | null;
  /** For `failed`: the stable code and the message; else `null`. */
  readonly error: { readonly code: string; readonly message: string } | null;
  /** For `failed`: whether an earlier index is kept and still used; else `null`. */
  readonly kept: boolean | null;
};

/** `update | json` (when every feed updated; a failure is an error, as without `| json`). */
export type FeedUpdatesDoc = { readonly changed: boolean; readonly feeds: readonly FeedUpdateDoc[] };

/** A step of a plan, as planned and, once applied, as it went. */
export type PlanStepDoc = {
  readonly action: 'install' | 'upgrade' | 'downgrade' | 'remove';
  readonly name: string;
  /** The version after the step, `null` for `remove`. */
  readonly version: string | null;
  /** The version before the step, `null` for `install`. */
  readonly previous_version: string | null;
  /** After the step, installed only as a dependency. */
  readonly auto: boolean;
  /** Why, in the resolver's words: `requested`, `dependency of a`. */
  readonly reason: string;
  /** The kind of reason: `requested`, `dependency`, `recommended`, `upgrade`, `uninstall`, … */
  readonly reason_kind: string;
  /** The feed it comes from, `null` for `remove`. */
  readonly feed: string | null;
  /** Once applied: the verdict on the downloaded package, `null` for `remove` and before. */
  readonly verification: string | null;
  /** Once applied: why the verification is not `Signed`; else `null`. */
  readonly verification_reason: string | null;
  readonly signing_key: string | null;
  /** Once applied: whether the next boot activates it; `null` for `remove` and before. */
  readonly will_activate: boolean | null;
  /** Once applied: whether it is persistent now; `null` for `remove` and before. */
  readonly persistent: boolean | null;
};

/** `install PKGNAME`, `upgrade`, `autoremove` (and `remove` with dependents) from the feeds. */
export type PlanResultDoc = {
  /** `applied`, `dry-run` (planned only), `unchanged` (nothing to do). */
  readonly result: 'applied' | 'dry-run' | 'unchanged';
  readonly changed: boolean;
  readonly dry_run: boolean;
  readonly steps: readonly PlanStepDoc[];
  readonly marks: ReadonlyArray<{ readonly name: string; readonly auto: boolean }>;
  readonly held: ReadonlyArray<{ readonly name: string; readonly version: string; readonly reason: string }>;
  readonly lost: readonly string[];
  readonly reboot_required: boolean;
  readonly warnings: readonly string[];
};

/** A package of the feeds (`search`, `show available`). */
export type FeedPackageDoc = {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  readonly feed: string;
  /** The first line of `Description`. */
  readonly description: string;
  readonly filename: string;
  readonly size: number;
  readonly sha256: string;
  /** `Rollout: N` of its stanza (percent of devices that may take it), else `null`. */
  readonly rollout: number | null;
};

/** A package of the feeds as a document. */
export function feedPackageDoc(p: FeedPackageInfo): FeedPackageDoc {
  return {
    name: p.name,
    version: p.version,
    architecture: p.architecture,
    feed: p.feed,
    description: p.description,
    filename: p.filename,
    size: p.size,
    sha256: p.sha256,
    rollout: orNull(p.rollout),
  };
}

/** The steps of a plan that is only shown (`show upgradable`). */
export function planStepsDoc(plan: FeedPlan): PlanStepDoc[] {
  return plannedSteps(plan);
}

/** A freshness as a document. */
export function freshnessDoc(f: FeedFreshness | undefined): FreshnessDoc | null {
  if (f === undefined) return null;
  return {
    state: f.state,
    date: f.state === 'none' ? null : f.date,
    valid_until: f.state === 'protected' ? f.validUntil : null,
  };
}

/** A feed of `show feeds` as a document. */
export function feedDoc(f: FeedStatus): FeedDoc {
  return {
    name: f.name,
    url: f.url,
    persistent: f.persistent,
    updated_at: orNull(f.updatedAt),
    packages: orNull(f.packages),
    skipped: orNull(f.skipped),
    freshness: freshnessDoc(f.freshness),
    signing_key: orNull(f.keyNumber),
    expired: f.expired === true,
    failure: f.failure === undefined ? null : { ...f.failure },
  };
}

/** One feed's update as a document. */
export function feedUpdateDoc(r: FeedUpdateResult): FeedUpdateDoc {
  if (r.outcome === 'failed') {
    return {
      name: r.name,
      result: 'failed',
      packages: null,
      skipped: [],
      freshness: null,
      signing_key: null,
      error: { code: r.code, message: r.message },
      kept: r.kept,
    };
  }
  return {
    name: r.name,
    result: r.outcome,
    packages: r.packages,
    skipped: [...r.skipped],
    freshness: freshnessDoc(r.freshness),
    signing_key: r.keyNumber,
    error: null,
    kept: null,
  };
}

/** The steps of a plan before it is applied. */
function plannedSteps(plan: FeedPlan): PlanStepDoc[] {
  return plan.steps.map((s) => ({
    action: s.action,
    name: s.name,
    version: orNull(s.version),
    previous_version: orNull(s.from),
    auto: s.auto,
    reason: s.reason,
    reason_kind: s.because,
    feed: orNull(s.download?.feed),
    verification: null,
    verification_reason: null,
    signing_key: null,
    will_activate: null,
    persistent: null,
  }));
}

/** A step as applied, with the plan's reason and feed for it. */
function appliedStep(s: FeedStepResult, plan: FeedPlan): PlanStepDoc {
  const planned = plan.steps.find((p) => p.name === s.name && p.action === s.action);
  return {
    action: s.action,
    name: s.name,
    version: s.action === 'remove' ? null : s.version,
    previous_version: s.action === 'remove' ? s.version : orNull(s.previousVersion),
    auto: s.auto,
    reason: planned?.reason ?? '',
    reason_kind: planned?.because ?? '',
    feed: orNull(planned?.download?.feed),
    verification: orNull(s.verification),
    verification_reason: orNull(s.reason),
    signing_key: orNull(s.keyNumber),
    will_activate: orNull(s.willActivate),
    persistent: s.action === 'remove' ? null : s.persistent === true,
  };
}

/** A plan that was not applied (nothing to do, or `dry-run`) as a document. */
export function plannedDoc(plan: FeedPlan, result: 'unchanged' | 'dry-run'): PlanResultDoc {
  return {
    result,
    changed: false,
    dry_run: result === 'dry-run',
    steps: plannedSteps(plan),
    marks: plan.marks.map((m) => ({ ...m })),
    held: plan.held.map((h) => ({ ...h })),
    lost: [...plan.lost],
    reboot_required: false,
    warnings: [...plan.warnings],
  };
}

/** An applied plan as a document; `warnings` are the plan's and those of the result. */
export function appliedDoc(
  plan: FeedPlan,
  result: ApplyPlanResult,
  warnings: (steps: readonly PlanStepDoc[]) => readonly string[],
): PlanResultDoc {
  const steps = result.steps.map((s) => appliedStep(s, plan));
  return {
    result: 'applied',
    changed: result.steps.length > 0 || result.marks.length > 0,
    dry_run: false,
    steps,
    marks: result.marks.map((m) => ({ ...m })),
    held: plan.held.map((h) => ({ ...h })),
    lost: [...plan.lost],
    reboot_required: result.steps.length > 0,
    warnings: [...plan.warnings, ...warnings(steps)],
  };
}
