// The planner: requests and priorities → one resolver job on the device's feeds → a plan with reasons and an id.
import { createHash } from 'node:crypto';
import type { FeedPlan, FeedPlanStep, FeedRequest, FeedsDevice } from '../api.js';
import { formatRequest } from '../feeds/index.js';
import type { InstalledSet } from './installed.js';
import { DEFAULT_PRIORITY } from './requests.js';
import { rolloutHold } from './rollout.js';
import type { HeldVersion, LostRequestView, RequestRef, UpdaterRequest, UpdaterStep } from './types.js';
import { formatRequestRef } from './words.js';

/** What the planner weighs. */
export interface PlanInput {
  readonly feeds: Pick<FeedsDevice, 'planFeeds' | 'availablePackages'>;
  /** Every request (explicit, recorded, local); `shadowed` ones are left out. */
  readonly requests: readonly UpdaterRequest[];
  readonly installed: InstalledSet;
  /** The device's serial: where it falls in each staged rollout. */
  readonly serial: string;
}

/** A plan before approval is weighed: its steps in the updater's words, its id, and the feeds' plan to apply. */
export interface ComputedPlan {
  readonly id: string;
  readonly steps: readonly UpdaterStep[];
  readonly lost: readonly LostRequestView[];
  readonly held: readonly HeldVersion[];
  readonly downloadBytes: number;
  /** What `applyPlan` takes. */
  readonly feedPlan: FeedPlan;
}

/** Length of a plan id in hex digits: 48 bits, short enough to type, far from colliding in a fleet. */
export const PLAN_ID_DIGITS = 12;

/**
 * Computes the plan. Install and uninstall requests go to the resolver with their priorities; every
 * installed package that no request names is passed as installed "as a dependency", with
 * autoremove: kept while something requested needs it, removed (`not requested`) otherwise. A
 * local package (installed from a file) counts as requested and stays at its version; so does a
 * requested package the feeds no longer offer. Everything else moves to the newest version the
 * requests, the staged rollout and the dependencies allow. Equal priorities in conflict, or
 * requests no set of packages meets, fail with `DEVICE_UNRESOLVABLE` naming the requests or the chain.
 */
export async function computePlan(input: PlanInput): Promise<ComputedPlan> {
  const { installed } = input;
  const active = input.requests.filter((r) => !r.shadowed);
  const installs = active.filter((r) => r.kind === 'install' && r.source !== 'local').map((r) => r.name);
  const offered = new Set(
    installs.length === 0
      ? []
      : (await input.feeds.availablePackages({ names: installs })).map((p) => p.name),
  );
  // Passed to the resolver: the local ones are its `local` packages already (kept at their version);
  // a requested package no feed has any more is kept as installed rather than failing every run.
  const asked = active.filter(
    (r) =>
      r.source !== 'local' &&
      !(r.kind === 'install' && !offered.has(r.name) && installed.records.has(r.name)),
  );
  const wanted = new Set(active.filter((r) => r.kind === 'install').map((r) => r.name));
  const feedPlan = await input.feeds.planFeeds({
    requests: asked.map(toFeedRequest),
    upgradeAll: true,
    autoremove: true,
    auto: (name) => !wanted.has(name),
    hold: rolloutHold(input.serial),
  });
  const lost = feedPlan.lost.flatMap((text) => lostOf(text, asked, installed));
  // A package whose install request lost goes for that reason: the step says it, not another line.
  const losing = new Map(lost.filter((l) => l.request.kind === 'install').map((l) => [l.request.name, l]));
  const steps = feedPlan.steps.map((step) => {
    const lostTo = step.action === 'remove' ? losing.get(step.name) : undefined;
    if (lostTo === undefined) return toStep(step, wanted);
    return { ...toStep(step, wanted), reason: { kind: 'lost', text: lostText(lostTo) } };
  });
  return {
    id: planId(feedPlan.steps),
    steps,
    lost: lost.filter((l) => !(l.request.kind === 'install' && installed.records.has(l.request.name))),
    held: feedPlan.held.map((held) => {
      const now = installed.records.get(held.name);
      return { ...held, ...(now ? { installed: now.version } : {}) };
    }),
    downloadBytes: feedPlan.steps.reduce((sum, step) => sum + (step.download?.size ?? 0), 0),
    feedPlan,
  };
}

/** A plan's id: SHA-256 over each step's action, name, versions and the file it fetches. */
export function planId(steps: readonly FeedPlanStep[]): string {
  const hash = createHash('sha256');
  for (const step of steps) {
    hash.update(
      `${step.action}\0${step.name}\0${step.from ?? ''}\0${step.version ?? ''}\0${step.download?.sha256 ?? ''}\n`,
    );
  }
  return hash.digest('hex').slice(0, PLAN_ID_DIGITS);
}

function toFeedRequest(request: UpdaterRequest): FeedRequest {
  if (request.kind === 'uninstall')
    return { kind: 'uninstall', name: request.name, priority: request.priority };
  return {
    kind: 'install',
    name: request.name,
    ...(request.constraint ? { constraint: request.constraint } : {}),
    priority: request.priority,
  };
}

/** A step in the updater's words: a package nobody requested goes because nobody requested it. */
function toStep(step: FeedPlanStep, wanted: ReadonlySet<string>): UpdaterStep {
  const notRequested =
    step.action === 'remove' &&
    !wanted.has(step.name) &&
    (step.because === 'unneeded' || step.because === 'broken');
  return {
    action: step.action,
    name: step.name,
    ...(step.version === undefined ? {} : { version: step.version }),
    ...(step.from === undefined ? {} : { from: step.from }),
    ...(step.download === undefined ? {} : { feed: step.download.feed, size: step.download.size }),
    reason: notRequested
      ? { kind: 'not-requested', text: 'not requested' }
      : // The resolver's `upgrade` says why in one word; the updater's plan says what it is.
        { kind: step.because, text: step.because === 'upgrade' ? 'newer version' : step.reason },
  };
}

/** Why a request lost, in a step's words: `install (priority 60) lost to uninstall b (priority 70)`. */
function lostText(lost: LostRequestView): string {
  const { name } = lost.request;
  return `${formatRequestRef(lost.request, name)} lost to ${lost.to.map((r) => formatRequestRef(r, name)).join(', ')}`;
}

/** How the resolver writes a request in a lost line: `uninstall y (priority 40)`. */
function requestText(request: UpdaterRequest): string {
  return `${formatRequest(toFeedRequest(request) as Parameters<typeof formatRequest>[0])} (priority ${request.priority})`;
}

function refOf(request: UpdaterRequest): RequestRef {
  return {
    kind: request.kind,
    name: request.name,
    ...(request.constraint ? { constraint: request.constraint } : {}),
    priority: request.priority ?? DEFAULT_PRIORITY,
  };
}

/**
 * A lost request of the feeds' plan (`uninstall y (priority 40) lost to install a (priority 60)`) as
 * data, by finding the requests it names among those asked (it names nothing else).
 */
function lostOf(text: string, asked: readonly UpdaterRequest[], installed: InstalledSet): LostRequestView[] {
  const lost = asked.find((r) => text.startsWith(`${requestText(r)} lost to `));
  if (lost === undefined) return [];
  const rest = text.slice(`${requestText(lost)} lost to `.length).split(', ');
  const to = asked.filter((r) => rest.includes(requestText(r)));
  const kept = installed.records.get(lost.name);
  return [
    {
      request: refOf(lost),
      to: to.map(refOf),
      ...(lost.kind === 'uninstall' && kept ? { installed: kept.version } : {}),
    },
  ];
}
