// The planner: requests and priorities, the installed packages and the feeds → resolver job → a plan with reasons and an id.
import { createHash } from 'node:crypto';
import { DeviceError } from '../errors.js';
import {
  type FeedEntry,
  FeedError,
  type InstalledPackage,
  type Plan,
  type PlanStep,
  type Reason,
  type Request,
  resolve,
  type Universe,
} from '../feeds/index.js';
import { rolloutHold } from './rollout.js';
import type {
  HeldVersion,
  LostRequestView,
  RequestRef,
  UpdaterReason,
  UpdaterRequest,
  UpdaterStep,
} from './types.js';

/** What the planner weighs. */
export interface PlanInput {
  readonly universe: Universe;
  /** The packages installed now (`local`: installed from a file); `auto` is decided here. */
  readonly installed: readonly Omit<InstalledPackage, 'auto'>[];
  /** Every request (explicit, recorded, local); `shadowed` ones are left out. */
  readonly requests: readonly UpdaterRequest[];
  readonly serial: string;
  readonly firmwareVersion: string;
  readonly architectures: readonly string[];
}

/** A plan before approval is weighed: its steps, what to download for each, and its id. */
export interface ComputedPlan {
  readonly id: string;
  readonly steps: readonly UpdaterStep[];
  readonly lost: readonly LostRequestView[];
  readonly held: readonly HeldVersion[];
  /** The feed package each install, upgrade and downgrade step fetches, by name. */
  readonly entries: ReadonlyMap<string, FeedEntry>;
  readonly downloadBytes: number;
}

/** Length of a plan id in hex digits: 48 bits, short enough to type, far from colliding in a fleet. */
export const PLAN_ID_DIGITS = 12;

/**
 * Computes the plan. Every installed package that no request names is passed to the resolver as
 * installed "as a dependency", with autoremove: kept while something requested needs it, removed
 * (`not requested`) otherwise. Every package is moved to the newest version the requests, the
 * rollout and the dependencies allow; a local package stays at its version. Conflicting requests
 * are decided by priority; equal priorities in conflict throw `DEVICE_UPDATER_CONFLICT` naming
 * both, and requests no set of packages meets throw `DEVICE_UPDATER_UNRESOLVABLE` with the chain.
 */
export function computePlan(input: PlanInput): ComputedPlan {
  const active = input.requests.filter((r) => !r.shadowed);
  const wanted = new Set(active.filter((r) => r.kind === 'install').map((r) => r.name));
  const installed: InstalledPackage[] = input.installed.map((pkg) => ({
    ...pkg,
    auto: !wanted.has(pkg.name),
  }));
  const requests: Request[] = active.map(toResolverRequest);
  let plan: Plan;
  try {
    plan = resolve(input.universe, installed, requests, {
      architectures: input.architectures,
      system: [{ name: 'firmware', version: input.firmwareVersion }],
      upgradeAll: true,
      autoremove: true,
      hold: rolloutHold(input.serial),
    });
  } catch (error) {
    throw planError(error);
  }
  const byName = new Map(installed.map((pkg) => [pkg.name, pkg]));
  // A package nobody requested goes because nobody requested it, whatever else it needed.
  const steps = plan.steps.map((step) =>
    step.action === 'remove' && !wanted.has(step.name) && step.reason.kind === 'broken'
      ? toStep({ ...step, reason: { kind: 'unneeded' } })
      : toStep(step),
  );
  const entries = new Map<string, FeedEntry>();
  for (const step of plan.steps) if (step.entry !== undefined) entries.set(step.name, step.entry);
  return {
    id: planId(plan.steps),
    steps,
    lost: plan.lost.map((lost) => {
      const kept = byName.get(lost.request.name);
      return {
        request: refOf(lost.request),
        to: lost.to.map(refOf),
        ...(lost.request.kind === 'uninstall' && kept ? { installed: kept.version } : {}),
      };
    }),
    held: plan.held.map((held) => {
      const now = byName.get(held.name);
      return { ...held, ...(now ? { installed: now.version } : {}) };
    }),
    entries,
    downloadBytes: plan.steps.reduce((sum, step) => sum + (step.entry?.package.size ?? 0), 0),
  };
}

/** A plan's id: SHA-256 over each step's action, name, versions and the file it fetches. */
export function planId(steps: readonly PlanStep[]): string {
  const hash = createHash('sha256');
  for (const step of steps) {
    hash.update(
      `${step.action}\0${step.name}\0${step.from ?? ''}\0${step.version ?? ''}\0${step.entry?.package.sha256 ?? ''}\n`,
    );
  }
  return hash.digest('hex').slice(0, PLAN_ID_DIGITS);
}

function toResolverRequest(request: UpdaterRequest): Request {
  if (request.kind === 'uninstall')
    return { kind: 'uninstall', name: request.name, priority: request.priority };
  return {
    kind: 'install',
    name: request.name,
    ...(request.constraint ? { constraint: request.constraint } : {}),
    priority: request.priority,
  };
}

function refOf(request: Request): RequestRef {
  return {
    kind: request.kind === 'uninstall' ? 'uninstall' : 'install',
    name: request.name,
    ...(request.kind === 'install' && request.constraint ? { constraint: request.constraint } : {}),
    priority: request.priority ?? 50,
  };
}

function toStep(step: PlanStep): UpdaterStep {
  return {
    action: step.action,
    name: step.name,
    ...(step.version === undefined ? {} : { version: step.version }),
    ...(step.from === undefined ? {} : { from: step.from }),
    ...(step.entry === undefined ? {} : { feed: step.entry.feed, size: step.entry.package.size }),
    reason: reasonOf(step.reason),
  };
}

/** The resolver's reason in the updater's words: a package nothing requested needs is `not requested`. */
function reasonOf(reason: Reason): UpdaterReason {
  switch (reason.kind) {
    case 'unneeded':
      return { kind: 'not-requested' };
    case 'uninstall':
      return { kind: 'uninstall-requested' };
    default:
      return reason;
  }
}

/** A resolver failure as the device reports it. */
function planError(error: unknown): Error {
  if (!(error instanceof FeedError)) return error as Error;
  if (error.code === 'FEED_REQUEST_CONFLICT') {
    return new DeviceError('DEVICE_UPDATER_CONFLICT', `requests in conflict: ${error.message}`, {
      cause: error,
    });
  }
  return new DeviceError('DEVICE_UPDATER_UNRESOLVABLE', error.message, { cause: error });
}
