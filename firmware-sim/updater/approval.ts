// Approvals and delayed updates (Turris's three modes): whether a run may apply a plan now.
import type { ApprovalState, UpdaterSettings } from './types.js';

/** What the updater remembers about approvals between runs. */
export interface ApprovalMemory {
  /** The plan a run found waiting, and since when (ISO 8601). */
  readonly pending?: { readonly id: string; readonly since: string };
  /** Plan ids approved by the operator, newest last. */
  readonly approved: readonly string[];
}

/** Approved ids kept at most: enough for a fleet operator approving ahead, not a growing file. */
const MAX_APPROVED = 16;

const HOUR_MS = 3_600_000;

/**
 * Whether a run may apply the plan `id` (of `steps` steps) at `now`. Turris's modes map onto the two
 * settings: automatic (approval off, delay 0), delayed updates (a delay: a plan waits that long since
 * a run first found it, unless approved earlier), approval needed (approval on, delay 0: only an
 * approved plan). A plan that does nothing needs no approval. A plan that changes (a new version
 * published) is a new plan: its delay starts again, and an approval of the old id does not cover it.
 */
export function approvalOf(
  id: string,
  steps: number,
  settings: UpdaterSettings,
  memory: ApprovalMemory,
  now: Date,
): ApprovalState {
  if (steps === 0 || (!settings.approval && settings.delayHours === 0)) return { kind: 'not-needed' };
  if (memory.approved.includes(id)) return { kind: 'approved' };
  const since = memory.pending?.id === id ? memory.pending.since : undefined;
  if (settings.delayHours === 0) return { kind: 'waiting', ...(since === undefined ? {} : { since }) };
  const start = since === undefined ? now.getTime() : Date.parse(since);
  const until = start + settings.delayHours * HOUR_MS;
  if (since !== undefined && until <= now.getTime()) return { kind: 'delay-elapsed', since };
  return {
    kind: 'waiting',
    since: since ?? now.toISOString(),
    until: new Date(until).toISOString(),
  };
}

/** Whether the state lets a run apply the plan. */
export function mayApply(state: ApprovalState): boolean {
  return state.kind !== 'waiting';
}

/** The memory after a run found plan `id` waiting: the same plan keeps its start, a new one starts now. */
export function rememberPending(memory: ApprovalMemory, id: string, now: Date): ApprovalMemory {
  if (memory.pending?.id === id) return memory;
  return { ...memory, pending: { id, since: now.toISOString() } };
}

/** The memory after a plan was applied or there was nothing to do: nothing pending, its approval used. */
export function forgetPlan(memory: ApprovalMemory, id: string | undefined): ApprovalMemory {
  return { approved: memory.approved.filter((a) => a !== id) };
}

/** The memory with `id` approved (again: moved to the end), keeping the newest MAX_APPROVED. */
export function rememberApproval(memory: ApprovalMemory, id: string): ApprovalMemory {
  const approved = [...memory.approved.filter((a) => a !== id), id].slice(-MAX_APPROVED);
  return { ...memory, approved };
}
