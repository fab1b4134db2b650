// What the updater remembers between runs (`var/lib/updater/state.json`): approvals, the pending plan, the last run.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import type { ApprovalMemory } from './approval.js';
import type { RunRecord, RunResult } from './types.js';

/** The state file's content. */
export interface RunState extends ApprovalMemory {
  readonly lastRun?: RunRecord;
}

const EMPTY: RunState = { approved: [] };
const RESULTS: readonly RunResult[] = ['applied', 'nothing-to-do', 'waiting', 'failed'];
const PLAN_ID = /^[0-9a-f]{12}$/;

const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * Reads the state. A file that does not parse is taken as empty (it holds no request and no
 * setting, only memory: at worst a pending plan starts its delay again and an approval is
 * asked again, which errs on the safe side).
 */
export async function readRunState(file: string): Promise<RunState> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return EMPTY;
  }
  if (typeof value !== 'object' || value === null) return EMPTY;
  const o = value as Record<string, unknown>;
  const approved = Array.isArray(o.approved) ? o.approved.filter((a) => isString(a) && PLAN_ID.test(a)) : [];
  const p = o.pending as Record<string, unknown> | undefined;
  const pending =
    p && isString(p.id) && PLAN_ID.test(p.id) && isString(p.since) && !Number.isNaN(Date.parse(p.since))
      ? { id: p.id, since: p.since }
      : undefined;
  const r = o.lastRun as Record<string, unknown> | undefined;
  const lastRun =
    r &&
    isString(r.at) &&
    (r.trigger === 'cli' || r.trigger === 'timer') &&
    RESULTS.includes(r.result as RunResult) &&
    Number.isSafeInteger(r.steps)
      ? (r as unknown as RunRecord)
      : undefined;
  return { approved, ...(pending ? { pending } : {}), ...(lastRun ? { lastRun } : {}) };
}

/** Writes the state atomically. */
export async function writeRunState(file: string, state: RunState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}
