// A plan of the resolver: its steps with their reasons, what was held back, and how it reads.
import type { Request } from './jobs.js';
import type { FeedEntry } from './universe.js';

/** Why a step is in the plan. */
export type Reason =
  /** Named by a request. */
  | { readonly kind: 'requested' }
  /** A dependency (`Depends`/`Pre-Depends`) of the package named. */
  | { readonly kind: 'dependency'; readonly of: string }
  /** Recommended by the package named. */
  | { readonly kind: 'recommended'; readonly by: string }
  /** An upgrade of everything, or of this package. */
  | { readonly kind: 'upgrade' }
  /** A request to uninstall it. */
  | { readonly kind: 'uninstall' }
  /** It conflicts with the package named, which the plan installs or keeps. */
  | { readonly kind: 'conflict'; readonly with: string }
  /** The package named replaces it (`Replaces` and `Conflicts`). */
  | { readonly kind: 'replaced'; readonly by: string }
  /** A package it depends on goes away (the dependency named). */
  | { readonly kind: 'broken'; readonly needs: string }
  /** Installed as a dependency, and nothing installed needs it any more. */
  | { readonly kind: 'unneeded' };

/** What a step does to one package. */
export type StepAction = 'install' | 'upgrade' | 'downgrade' | 'remove';

/** One step of a plan. */
export interface PlanStep {
  readonly action: StepAction;
  readonly name: string;
  /** The version after the step (absent for `remove`). */
  readonly version?: string;
  /** The version before the step (absent for `install`). */
  readonly from?: string;
  /** What to fetch, for `install`, `upgrade` and `downgrade`. */
  readonly entry?: FeedEntry;
  /** After the step, the package counts as installed as a dependency (autoremove may take it). */
  readonly auto: boolean;
  readonly reason: Reason;
}

/** A newer version that the plan does not take because it is held back. */
export interface HeldBack {
  readonly name: string;
  readonly version: string;
  readonly reason: string;
}

/** A request that lost to requests of higher priority. */
export interface LostRequest {
  readonly request: Request;
  readonly to: readonly Request[];
}

/** What to do, step by step: removals first, then installs and upgrades, dependencies before dependents. */
export interface Plan {
  readonly steps: readonly PlanStep[];
  readonly held: readonly HeldBack[];
  readonly lost: readonly LostRequest[];
  /** Installed packages the plan keeps whose mark changes (a dependency now requested by name). */
  readonly marks: ReadonlyArray<{ readonly name: string; readonly auto: boolean }>;
}

/** A reason in words: `dependency of a`, `conflicts with c`. */
export function formatReason(reason: Reason): string {
  switch (reason.kind) {
    case 'requested':
      return 'requested';
    case 'dependency':
      return `dependency of ${reason.of}`;
    case 'recommended':
      return `recommended by ${reason.by}`;
    case 'upgrade':
      return 'upgrade';
    case 'uninstall':
      return 'uninstall requested';
    case 'conflict':
      return `conflicts with ${reason.with}`;
    case 'replaced':
      return `replaced by ${reason.by}`;
    case 'broken':
      return `needs ${reason.needs}, which is removed`;
    case 'unneeded':
      return 'no longer needed';
  }
}

/** A step in words: `b 2.1 (dependency of a)`, `c 1.0 → 1.2`; requested and upgrade steps say no reason. */
export function formatStep(step: PlanStep): string {
  const what =
    step.action === 'remove'
      ? `${step.name} ${step.from}`
      : step.from === undefined
        ? `${step.name} ${step.version}`
        : `${step.name} ${step.from} → ${step.version}`;
  const quiet = step.reason.kind === 'requested' || step.reason.kind === 'upgrade';
  return quiet ? what : `${what} (${formatReason(step.reason)})`;
}

const HEADINGS: ReadonlyArray<[StepAction, string]> = [
  ['install', 'Install'],
  ['upgrade', 'Upgrade'],
  ['downgrade', 'Downgrade'],
  ['remove', 'Remove'],
];

/**
 * The plan on one line: `Install: a 1.0, b 2.1 (dependency of a); Upgrade: c 1.0 → 1.2`. Under
 * each heading, what was asked for comes first, then the rest in the plan's order.
 */
export function formatPlan(plan: Plan): string {
  const parts = HEADINGS.flatMap(([action, heading]) => {
    const mine = plan.steps.filter((step) => step.action === action);
    const steps = [
      ...mine.filter((step) => step.reason.kind === 'requested'),
      ...mine.filter((step) => step.reason.kind !== 'requested'),
    ];
    return steps.length === 0 ? [] : [`${heading}: ${steps.map(formatStep).join(', ')}`];
  });
  return parts.length === 0 ? 'Nothing to do' : parts.join('; ');
}
