// The boot's rule for plans: the packages one plan installed are activated together, or none of them.
import type { Verification } from '../api.js';
import type { ActiveRecord, StoreRecord } from '../store/records.js';

/** What the boot decides of a stored package before unpacking it: its verdict, and why it may not run. */
export interface StoredVerdict {
  readonly verification: Verification;
  readonly refused?: string;
}

/** Why a package of a plan is not activated at this boot, and its verdict. */
export interface Held {
  readonly verification: Verification;
  readonly reason: string;
}

/** The gate a boot passes each package through. */
export interface PlanGate {
  /** The order to take packages in: name order, with each plan's packages after those of it they need. */
  order(names: readonly string[]): string[];
  /** Why `name` is held back at this boot, or `undefined`. */
  held(name: string): Held | undefined;
  /** What came of `name`; a plan's package that was not activated holds back those that need it. */
  done(name: string, line: { readonly activated: boolean; readonly reason: string }): void;
}

/**
 * Looks at the packages that plans installed and that are not active yet: when one of a plan's
 * packages may not run (its verdict, the activation rule, architecture or firmware, checked by
 * `verdict` before anything is unpacked), none of that plan's packages is activated, each with the
 * reason. A package whose activation then fails (a maintainer script, a file conflict) holds back the
 * packages of its plan that need it; what it needs stays active, as dpkg leaves dependencies configured.
 */
export async function planGate(
  records: ReadonlyMap<string, StoreRecord>,
  active: ReadonlyMap<string, ActiveRecord>,
  verdict: (record: StoreRecord) => Promise<StoredVerdict>,
): Promise<PlanGate> {
  const pending = new Map<string, StoreRecord>();
  const plans = new Map<string, string[]>();
  for (const [name, record] of records) {
    if (record.plan === undefined || active.get(name)?.installId === record.installId) continue;
    pending.set(name, record);
    const members = plans.get(record.plan.id);
    if (members) members.push(name);
    else plans.set(record.plan.id, [name]);
  }
  const held = new Map<string, Held>();
  const verdicts = new Map<string, StoredVerdict>();
  for (const members of plans.values()) {
    if (members.length < 2) continue;
    members.sort();
    for (const name of members) verdicts.set(name, await verdict(pending.get(name)!));
    const failed = members.find((name) => verdicts.get(name)!.refused !== undefined);
    if (failed === undefined) continue;
    const why = verdicts.get(failed)!.refused!;
    const f = pending.get(failed)!;
    for (const name of members) {
      if (name === failed) continue;
      const needs = needsOf(name, pending).has(failed);
      held.set(name, {
        verification: verdicts.get(name)!.verification,
        reason: `${needs ? 'needs' : 'installed together with'} ${failed} ${f.version}, which may not be activated (${why})`,
      });
    }
  }
  /** The members of `name`'s plan it needs, directly or through others. */
  function needsOf(name: string, within: ReadonlyMap<string, StoreRecord>): Set<string> {
    const found = new Set<string>();
    const queue = [name];
    for (let i = 0; i < queue.length; i++) {
      for (const dep of within.get(queue[i]!)?.plan?.needs ?? []) {
        if (within.get(dep)?.plan?.id !== within.get(name)?.plan?.id || found.has(dep)) continue;
        found.add(dep);
        queue.push(dep);
      }
    }
    return found;
  }
  return {
    order(names) {
      const out: string[] = [];
      const seen = new Set<string>();
      const wanted = new Set(names);
      const visit = (name: string) => {
        if (seen.has(name)) return;
        seen.add(name);
        for (const dep of [...(pending.get(name)?.plan?.needs ?? [])].sort()) {
          if (wanted.has(dep) && pending.get(dep)?.plan?.id === pending.get(name)?.plan?.id) visit(dep);
        }
        out.push(name);
      };
      for (const name of names) visit(name);
      return out;
    },
    held: (name) => held.get(name),
    done(name, line) {
      const record = pending.get(name);
      if (record === undefined || line.activated || held.has(name)) return;
      for (const [other, r] of pending) {
        if (other === name || r.plan?.id !== record.plan?.id || held.has(other)) continue;
        if (!needsOf(other, pending).has(name)) continue;
        held.set(other, {
          verification: verdicts.get(other)?.verification ?? r.verification,
          reason: `needs ${name} ${record.version}, which was not activated (${line.reason})`,
        });
      }
    },
  };
}
