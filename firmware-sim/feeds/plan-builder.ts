// Turning the resolver's chosen packages into a plan: steps against what is installed, with reasons.
import { compareVersions, type Dependency } from '../format/index.js';
import type { Candidate, Encoding } from './encoding.js';
import type { InstalledPackage } from './jobs.js';
import type { HeldBack, LostRequest, Plan, PlanStep, Reason } from './plan.js';
import { formatGroup, offers } from './relations.js';

/** What the resolver decided. */
export interface Chosen {
  readonly encoding: Encoding;
  readonly installed: readonly InstalledPackage[];
  /** The candidate of each name that is installed after the plan. */
  readonly fixed: ReadonlyMap<string, Candidate>;
  /** Why each name was chosen (first reason found). */
  readonly reasons: ReadonlyMap<string, Reason>;
  /** The names requests were about. */
  readonly names: readonly string[];
  /** Whether an installed package was meant to move to its newest version. */
  upgrading(name: string): boolean;
}

/**
 * The plan from installed to chosen: removals first (by name), then installs, upgrades and
 * downgrades with each package's dependencies before it; every step with its reason.
 */
export function buildPlan(
  chosen: Chosen,
  requested: ReadonlySet<string>,
  uninstalled: ReadonlySet<string>,
  lost: readonly LostRequest[],
): Plan {
  return new PlanBuilder(chosen).build(requested, uninstalled, lost);
}

class PlanBuilder {
  private readonly encoding: Encoding;
  private readonly installed: readonly InstalledPackage[];
  private readonly fixed: ReadonlyMap<string, Candidate>;
  private readonly reasons: ReadonlyMap<string, Reason>;
  private readonly installedByName: ReadonlyMap<string, InstalledPackage>;

  constructor(private readonly chosen: Chosen) {
    this.encoding = chosen.encoding;
    this.installed = chosen.installed;
    this.fixed = chosen.fixed;
    this.reasons = chosen.reasons;
    this.installedByName = new Map(chosen.installed.map((pkg) => [pkg.name, pkg]));
  }

  build(
    requested: ReadonlySet<string>,
    uninstalled: ReadonlySet<string>,
    lost: readonly LostRequest[],
  ): Plan {
    const removals: PlanStep[] = [];
    const changes = new Map<string, PlanStep>();
    const marks: Array<{ name: string; auto: boolean }> = [];
    for (const pkg of this.installed) {
      const chosen = this.fixed.get(pkg.name);
      const auto = requested.has(pkg.name) ? false : pkg.auto;
      if (chosen === undefined) {
        removals.push({
          action: 'remove',
          name: pkg.name,
          from: pkg.version,
          auto: pkg.auto,
          reason: this.removalReason(pkg, uninstalled),
        });
      } else if (chosen.installed !== undefined) {
        if (auto !== pkg.auto) marks.push({ name: pkg.name, auto });
      } else {
        const newer = compareVersions(chosen.version, pkg.version) > 0;
        changes.set(pkg.name, {
          action: newer ? 'upgrade' : 'downgrade',
          name: pkg.name,
          version: chosen.version,
          from: pkg.version,
          entry: chosen.entry!,
          auto,
          reason: requested.has(pkg.name) ? { kind: 'requested' } : this.changeReason(pkg),
        });
      }
    }
    for (const candidate of this.fixed.values()) {
      if (candidate.system || this.installedByName.has(candidate.name)) continue;
      const reason = this.reasons.get(candidate.name) ?? { kind: 'requested' };
      changes.set(candidate.name, {
        action: 'install',
        name: candidate.name,
        version: candidate.version,
        entry: candidate.entry!,
        auto: reason.kind !== 'requested',
        reason,
      });
    }
    removals.sort((a, b) => (a.name < b.name ? -1 : 1));
    return {
      steps: [...removals, ...this.dependencyOrder(changes)],
      held: this.heldBack(),
      lost: [...lost],
      marks,
    };
  }

  /** Why an installed package has another version: the package whose dependency or conflict forced it. */
  private changeReason(pkg: InstalledPackage): Reason {
    if (this.chosen.upgrading(pkg.name)) return { kind: 'upgrade' };
    const current = this.encoding.candidatesOf(pkg.name).find((c) => c.installed !== undefined)!;
    for (const other of this.fixed.values()) {
      const needs = other.depends.some(
        (group) =>
          group.some((dep) => dep.name === pkg.name || current.provides.some((p) => p.name === dep.name)) &&
          !group.some((dep) => offers(current, dep)) &&
          !this.metWithout(group, pkg.name),
      );
      if (needs) return { kind: 'dependency', of: other.name };
      if (this.conflicting(other, current)) return { kind: 'conflict', with: other.name };
    }
    return { kind: 'upgrade' };
  }

  private metByFixed(group: readonly Dependency[]): boolean {
    return group.some((dep) =>
      this.encoding.providers(dep).some((provider) => this.fixed.get(provider.name) === provider),
    );
  }

  private metWithout(group: readonly Dependency[], name: string): boolean {
    return group.some((dep) =>
      this.encoding
        .providers(dep)
        .some((provider) => provider.name !== name && this.fixed.get(provider.name) === provider),
    );
  }

  /** Why an installed package goes away. */
  private removalReason(pkg: InstalledPackage, uninstalled: ReadonlySet<string>): Reason {
    if (uninstalled.has(pkg.name)) return { kind: 'uninstall' };
    const current = this.encoding.candidatesOf(pkg.name).find((c) => c.installed !== undefined)!;
    for (const other of this.fixed.values()) {
      if (!this.conflicting(other, current)) continue;
      if (other.replaces.some((dep) => offers(current, dep))) return { kind: 'replaced', by: other.name };
      return { kind: 'conflict', with: other.name };
    }
    const broken = current.depends.find((group) => !this.metByFixed(group));
    if (broken !== undefined) return { kind: 'broken', needs: formatGroup(broken) };
    if (pkg.auto) return { kind: 'unneeded' };
    return { kind: 'conflict', with: 'the other packages of the plan' };
  }

  private conflicting(a: Candidate, b: Candidate): boolean {
    if (a.name === b.name) return false;
    return a.conflicts.some((dep) => offers(b, dep)) || b.conflicts.some((dep) => offers(a, dep));
  }

  /** Installs and upgrades with each package's dependencies before it (post-order from the roots). */
  private dependencyOrder(changes: ReadonlyMap<string, PlanStep>): PlanStep[] {
    const out: PlanStep[] = [];
    const visited = new Set<string>();
    const visit = (name: string) => {
      if (visited.has(name)) return;
      visited.add(name);
      const candidate = this.fixed.get(name);
      for (const group of candidate?.depends ?? []) {
        for (const dep of group) {
          for (const provider of this.encoding.providers(dep)) {
            if (this.fixed.get(provider.name) === provider) visit(provider.name);
          }
        }
      }
      const step = changes.get(name);
      if (step !== undefined) out.push(step);
    };
    for (const name of this.fixed.keys()) visit(name);
    return out;
  }

  /** Newer versions the hold hook kept out, for the names the plan installs or keeps. */
  private heldBack(): HeldBack[] {
    const held: HeldBack[] = [];
    const names = new Set([...this.fixed.keys(), ...this.chosen.names]);
    for (const name of names) {
      const chosen = this.fixed.get(name);
      for (const excluded of this.encoding.excludedFor(name)) {
        const pkg = excluded.entry.package;
        if (excluded.kind !== 'held' || pkg.name !== name) continue;
        if (chosen !== undefined && compareVersions(pkg.version, chosen.version) <= 0) continue;
        held.push({ name, version: pkg.version, reason: excluded.reason });
      }
    }
    return held;
  }
}
