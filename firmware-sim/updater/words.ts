// The updater's plans in words, one line each: what `plan` prints and what the event log keeps.
import type { HeldVersion, LostRequestView, RequestRef, UpdaterReason, UpdaterStep } from './types.js';

/** A reason in words: `dependency of a`, `not requested`. */
export function formatUpdaterReason(reason: UpdaterReason): string {
  return reason.text;
}

/**
 * A step: `install b 2.1: dependency of a`, `upgrade c 1.0 → 1.2: requested`, `remove x 1.0: not
 * requested`; `arrow` is `->` where only ASCII may be written (the event log, `terminal ascii`).
 */
export function formatUpdaterStep(step: UpdaterStep, arrow = '→'): string {
  const what =
    step.action === 'remove'
      ? `${step.name} ${step.from}`
      : step.from === undefined
        ? `${step.name} ${step.version}`
        : `${step.name} ${step.from} ${arrow} ${step.version}`;
  return `${step.action} ${what}: ${formatUpdaterReason(step.reason)}`;
}

/** A request as a plan names it: `uninstall (priority 40)` about the package at hand, else with its name. */
export function formatRequestRef(request: RequestRef, about?: string): string {
  const name = request.name === about ? '' : ` ${request.name}`;
  const version = request.constraint
    ? ` version ${request.constraint.relation} ${request.constraint.version}`
    : '';
  return `${request.kind}${name}${version} (priority ${request.priority})`;
}

/**
 * A request that lost: `keep y 1.0: uninstall (priority 40) lost to install a (priority 60)` (an
 * uninstall of an installed package), `skip y: install (priority 40) lost to uninstall (priority 60)`.
 */
export function formatLost(lost: LostRequestView): string {
  const { name } = lost.request;
  const head = lost.installed !== undefined ? `keep ${name} ${lost.installed}` : `skip ${name}`;
  const to = lost.to.map((r) => formatRequestRef(r, name)).join(', ');
  return `${head}: ${formatRequestRef(lost.request, name)} lost to ${to}`;
}

/** A version held back: `keep c 1.0: 2.0 held back: rollout 10 %`, `skip c 2.0: held back: rollout 10 %`. */
export function formatHeld(held: HeldVersion): string {
  return held.installed !== undefined
    ? `keep ${held.name} ${held.installed}: ${held.version} held back: ${held.reason}`
    : `skip ${held.name} ${held.version}: held back: ${held.reason}`;
}
