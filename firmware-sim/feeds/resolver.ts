// The resolver: requests and installed packages in, a plan out; complete (SAT), with apt's preferences.
import { compareVersions, type Dependency } from '../format/index.js';
import { type Candidate, Encoding } from './encoding.js';
import { FeedError } from './errors.js';
import { explain } from './explain.js';
import {
  DEFAULT_PRIORITY,
  formatRequest,
  type InstalledPackage,
  type Request,
  type ResolveOptions,
} from './jobs.js';
import { Optimist } from './optimist.js';
import type { LostRequest, Plan, Reason } from './plan.js';
import { buildPlan } from './plan-builder.js';
import { formatGroup, offers } from './relations.js';
import { type Checker, type Literal, type SatModel, SatProblem } from './sat.js';
import type { PackageSource } from './universe.js';

/**
 * Computes a plan that does what `requests` ask on top of `installed`, with packages from
 * `universe`, or throws a `FeedError`: `FEED_UNRESOLVABLE` naming the chain that fails,
 * `FEED_REQUEST_CONFLICT` when requests of equal priority contradict each other.
 *
 * Complete: when a consistent set of packages exists, one is found (every choice below is made
 * only after the SAT solver confirmed that a solution still exists with it). Among the solutions
 * it prefers, in this order: the requests by priority (a request that contradicts higher ones is
 * `lost`); keeping every installed package installed (as few removals as possible); the newest
 * version of each requested package; installed packages at their version (unless upgraded);
 * for each dependency, the first alternative that can be met, at its newest version, as apt does;
 * `Recommends` met where they can be; nothing installed that nothing needs.
 */
export function resolve(
  universe: PackageSource,
  installed: readonly InstalledPackage[],
  requests: readonly Request[],
  options: ResolveOptions,
): Plan {
  const encoding = new Encoding(
    universe,
    installed,
    requests.map((r) => r.name),
    options,
  );
  // First without the solver: most jobs' first choices hold together, and then they are the
  // choices the solver would confirm (see Optimist).
  if (!options.alwaysSolve) {
    const hopeful = new Resolution(encoding, new Optimist(), installed, requests, options);
    try {
      const plan = hopeful.run();
      if (hopeful.holdsTogether()) return plan;
    } catch (error) {
      if (error instanceof FeedError) throw error;
    }
  }
  const sat = new SatProblem();
  encoding.emit(sat);
  return new Resolution(encoding, sat, installed, requests, options).run();
}

/** Up to this many installed packages, the fewest removals are found exactly (see `keepInstalled`). */
const MINIMIZE_LIMIT = 64;

/** A choice to make: candidates in the order preferred, for a dependency group or a name. */
interface Want {
  readonly candidates: readonly Candidate[];
  /** The group this want meets: skipped when something fixed already meets it. */
  readonly group?: readonly Dependency[];
  readonly reason?: Reason;
}

interface Selected {
  readonly request: Request;
  readonly literal: Literal;
  readonly index: number;
}

class Resolution {
  private readonly installedByName: ReadonlyMap<string, InstalledPackage>;
  private readonly fixed = new Map<string, Candidate>();
  private readonly reasons = new Map<string, Reason>();
  private readonly queue: Candidate[] = [];
  private next = 0;
  private model: SatModel | undefined;
  private accepted: readonly Selected[] = [];
  private kept: readonly string[] = [];

  constructor(
    private readonly encoding: Encoding,
    /** The SAT problem of `encoding` (already emitted), or an `Optimist`. */
    private readonly sat: Checker,
    private readonly installed: readonly InstalledPackage[],
    private readonly requests: readonly Request[],
    private readonly options: ResolveOptions,
  ) {
    this.installedByName = new Map(installed.map((pkg) => [pkg.name, pkg]));
  }

  run(): Plan {
    const { accepted, lost } = this.decideRequests();
    const kept = this.keepInstalled(accepted);
    this.accepted = accepted;
    this.kept = kept;
    this.model = this.sat.solve();
    if (this.model === undefined) throw new Error('internal: the accepted requests have no solution');
    for (const candidate of this.encoding.candidates) {
      if (candidate.system) this.fix(candidate, undefined);
    }
    for (const { request } of accepted) {
      if (request.kind === 'uninstall') continue;
      const choice = this.tryFix(this.requestChoices(request));
      if (choice === undefined) throw new Error(`internal: ${formatRequest(request)} has no choice`);
      this.reasons.set(choice.name, { kind: 'requested' });
      this.drain();
    }
    this.satisfyAll(
      kept.filter((name) => !this.fixed.has(name)).map((name) => ({ candidates: this.preferences(name) })),
    );
    this.drain();
    this.recommends();
    return this.plan(accepted, lost);
  }

  /**
   * Whether the packages chosen hold together and do what was asked: every dependency met, no
   * conflict, every accepted request met, every kept package installed, the system packages there.
   */
  holdsTogether(): boolean {
    const chosen = [...this.fixed.values()];
    for (const candidate of chosen) {
      if (!candidate.depends.every((group) => this.metByFixed(group))) return false;
      for (const dep of candidate.conflicts) {
        if (chosen.some((other) => other.name !== candidate.name && offers(other, dep))) return false;
      }
    }
    for (const { request } of this.accepted) {
      if (request.kind === 'uninstall') {
        if (this.fixed.has(request.name)) return false;
      } else if (!this.requestChoices(request).some((c) => this.fixed.get(c.name) === c)) return false;
    }
    return (
      this.kept.every((name) => this.fixed.has(name)) &&
      this.encoding.candidates.every((c) => !c.system || this.fixed.get(c.name) === c)
    );
  }

  /** Takes the requests by priority; each must be possible on its own, and one that contradicts higher ones loses. */
  private decideRequests(): { accepted: Selected[]; lost: LostRequest[] } {
    const selected: Selected[] = this.requests.map((request, index) => {
      const literal = `r${index}`;
      this.sat.quickly(() => {
        for (const clause of this.requestClauses(request)) this.sat.clause([`-${literal}`, ...clause]);
      });
      return { request, literal, index };
    });
    for (const one of selected) {
      if (one.request.kind === 'upgrade' && !this.installedByName.has(one.request.name)) {
        throw new FeedError('FEED_UNRESOLVABLE', `cannot upgrade ${one.request.name}: it is not installed`);
      }
      if (this.sat.solve([one.literal]) === undefined) this.fail([one]);
    }
    const byPriority = [...selected].sort(
      (a, b) => priority(b.request) - priority(a.request) || a.index - b.index,
    );
    const accepted: Selected[] = [];
    const lost: LostRequest[] = [];
    for (const one of byPriority) {
      const literals = accepted.map((a) => a.literal);
      if (this.sat.solve([...literals, one.literal]) !== undefined) {
        accepted.push(one);
        continue;
      }
      // The requests it contradicts: drop each accepted one that is not needed for the contradiction.
      let culprits = [...accepted];
      for (const candidate of accepted) {
        const rest = culprits.filter((c) => c !== candidate);
        if (this.sat.solve([...rest.map((c) => c.literal), one.literal]) === undefined) culprits = rest;
      }
      const equal = culprits.find((c) => priority(c.request) === priority(one.request));
      if (equal !== undefined) this.fail([equal, one]);
      lost.push({ request: one.request, to: culprits.map((c) => c.request) });
    }
    for (const one of accepted) this.sat.clause([one.literal]);
    return { accepted, lost };
  }

  /** Throws the explanation of why these requests cannot hold together. */
  private fail(selected: readonly Selected[]): never {
    const clauses = selected.flatMap((s) => this.requestClauses(s.request));
    const wanted = selected.flatMap(({ request }) =>
      request.kind === 'install'
        ? [{ name: request.name, ...(request.constraint ?? {}) } as Dependency]
        : [{ name: request.name }],
    );
    const why = explain(this.encoding, { names: selected.map((s) => s.request.name), clauses, wanted });
    if (selected.length === 1) {
      throw new FeedError('FEED_UNRESOLVABLE', `cannot ${formatRequest(selected[0]!.request)}: ${why}`);
    }
    const [a, b] = selected as [Selected, Selected];
    throw new FeedError(
      'FEED_REQUEST_CONFLICT',
      `${formatRequest(a.request)} (priority ${priority(a.request)}) and ${formatRequest(b.request)} (priority ${priority(b.request)}) contradict each other: ${why}`,
    );
  }

  /** The clauses of a request over candidate literals (an empty clause: it cannot hold). */
  private requestClauses(request: Request): Literal[][] {
    switch (request.kind) {
      case 'uninstall':
        return this.encoding.candidatesOf(request.name).map((c) => [`-${c.literal}`]);
      case 'upgrade':
        return [this.encoding.candidatesOf(request.name).map((c) => c.literal)];
      case 'install':
        return [this.requestChoices(request).map((c) => c.literal)];
    }
  }

  /** The candidates that meet an install or upgrade request, in the order they are preferred. */
  private requestChoices(request: Request): Candidate[] {
    const dep: Dependency =
      request.kind === 'install' && request.constraint
        ? { name: request.name, ...request.constraint }
        : { name: request.name };
    const own = this.encoding.candidatesOf(request.name);
    // A real package of that name is what is meant; a virtual name takes its providers.
    if (own.length > 0) return newestFirst(own).filter((c) => offers(c, dep));
    return this.encoding.providers(dep);
  }

  /** Keeps installed packages installed where it can: all if possible, else as many as possible. */
  private keepInstalled(accepted: readonly Selected[]): string[] {
    const uninstalled = new Set(
      accepted.filter((a) => a.request.kind === 'uninstall').map((a) => a.request.name),
    );
    const names = this.installed
      .filter((pkg) => !uninstalled.has(pkg.name) && !(this.options.autoremove && pkg.auto))
      // Packages installed on purpose come before dependencies; names keep the order stable.
      .sort((a, b) => Number(a.auto) - Number(b.auto) || (a.name < b.name ? -1 : 1))
      .map((pkg) => pkg.name);
    const keep = new Map(names.map((name) => [name, `k${name}`]));
    this.sat.quickly(() => {
      for (const [name, literal] of keep) {
        this.sat.clause([`-${literal}`, ...this.encoding.candidatesOf(name).map((c) => c.literal)]);
      }
    });
    const all = [...keep.values()];
    if (this.sat.solve(all) !== undefined) {
      for (const literal of all) this.sat.clause([literal]);
      return names;
    }
    // Not all can stay. A small set: remove as few as possible (weighted: dependencies go before
    // packages installed on purpose). A large one: the weighted sum's adder network outgrows
    // MiniSat's heap and time, so keep greedily in the order above (a maximal set, not a minimum).
    if (names.length <= MINIMIZE_LIMIT) {
      const removed = names.map((name) => `-${keep.get(name)}`);
      const weights = names.map((name) => (this.installedByName.get(name)!.auto ? 1 : 2));
      const model = this.sat.minimize(this.sat.solve()!, removed, weights);
      const kept = names.filter((name) => model.holds(keep.get(name)!));
      for (const name of kept) this.sat.clause([keep.get(name)!]);
      return kept;
    }
    return this.keepGreedily(names.map((name) => keep.get(name)!)).map((literal) => literal.slice(1));
  }

  /** Requires as many of `literals` as fit, in order (halving on failure, as `satisfyAll`). */
  private keepGreedily(literals: readonly Literal[]): Literal[] {
    if (literals.length === 0) return [];
    if (this.sat.solve(literals) !== undefined) {
      for (const literal of literals) this.sat.clause([literal]);
      return [...literals];
    }
    if (literals.length === 1) return [];
    const half = literals.length >> 1;
    return [...this.keepGreedily(literals.slice(0, half)), ...this.keepGreedily(literals.slice(half))];
  }

  /**
   * The candidates of a name in the order they are preferred: the installed version first
   * unless the name is being upgraded, then the newest.
   */
  private preferences(name: string): Candidate[] {
    const candidates = newestFirst(this.encoding.candidatesOf(name));
    const current = candidates.find((c) => c.installed !== undefined);
    if (current === undefined || this.upgrading(name)) return candidates;
    const newer = candidates.filter((c) => compareVersions(c.version, current.version) > 0);
    const older = candidates.filter((c) => c !== current && !newer.includes(c));
    return [current, ...newer, ...older];
  }

  /** Whether an installed package should move to its newest version. */
  private upgrading(name: string): boolean {
    const pkg = this.installedByName.get(name);
    if (pkg === undefined) return true;
    if (this.requests.some((r) => r.name === name && r.kind !== 'uninstall')) return true;
    return this.options.upgradeAll === true && pkg.local !== true;
  }

  /** Fixes the first candidate that a solution can have, trying them in order. */
  private tryFix(candidates: readonly Candidate[], reason?: Reason): Candidate | undefined {
    for (const candidate of candidates) {
      const current = this.fixed.get(candidate.name);
      if (current !== undefined) {
        if (current === candidate) return candidate;
        continue;
      }
      if (this.model!.holds(candidate.literal)) {
        this.fix(candidate, reason);
        return candidate;
      }
      const model = this.sat.solve([candidate.literal]);
      if (model !== undefined) {
        this.model = model;
        this.fix(candidate, reason);
        return candidate;
      }
    }
    return undefined;
  }

  private fix(candidate: Candidate, reason: Reason | undefined): void {
    this.sat.clause([candidate.literal]);
    this.fixed.set(candidate.name, candidate);
    if (reason !== undefined && !this.reasons.has(candidate.name)) this.reasons.set(candidate.name, reason);
    this.queue.push(candidate);
  }

  /** Meets the dependencies of every fixed candidate, breadth first, each with its first alternative that fits. */
  private drain(): void {
    while (this.next < this.queue.length) {
      const layer = this.queue.slice(this.next);
      this.next = this.queue.length;
      this.satisfyAll(
        layer.flatMap((candidate) =>
          candidate.depends.map((group) => ({
            candidates: this.groupChoices(group),
            group,
            reason: { kind: 'dependency', of: candidate.name } as const,
          })),
        ),
      );
    }
  }

  /**
   * Makes the choices `tryFix` would make one want after the other, with far fewer solver calls:
   * the first choice of every want is tried together, and only when they do not fit together is
   * the list halved (each half then in order). A batch that fits gives what the one-by-one
   * choices would have given, since every prefix of a consistent set of choices is consistent.
   */
  private satisfyAll(wants: readonly Want[]): void {
    const picks = new Map<string, Candidate>();
    const live: Want[] = [];
    // A want whose every candidate's name is taken by another choice cannot join the batch.
    let blocked = false;
    for (const want of wants) {
      if (want.group !== undefined && this.metBy(want.group, picks)) continue;
      live.push(want);
      const pick = want.candidates.find((c) => {
        const taken = this.fixed.get(c.name) ?? picks.get(c.name);
        return taken === undefined || taken === c;
      });
      if (pick === undefined) blocked = true;
      else picks.set(pick.name, pick);
    }
    if (live.length === 0) return;
    const literals = [...picks.values()].filter((c) => this.fixed.get(c.name) !== c).map((c) => c.literal);
    if (!blocked) {
      const model = literals.every((l) => this.model!.holds(l)) ? this.model : this.sat.solve(literals);
      if (model !== undefined) {
        this.model = model;
        for (const want of live) {
          const pick = want.candidates.find((c) => picks.get(c.name) === c);
          if (pick !== undefined && this.fixed.get(pick.name) !== pick) this.fix(pick, want.reason);
        }
        return;
      }
    }
    if (live.length === 1) {
      const [want] = live as [Want];
      if (this.tryFix(want.candidates, want.reason) === undefined && want.group !== undefined) {
        throw new Error(`internal: ${formatGroup(want.group)} cannot be met`);
      }
      return;
    }
    const half = live.length >> 1;
    this.satisfyAll(live.slice(0, half));
    this.satisfyAll(live.slice(half));
  }

  private metBy(group: readonly Dependency[], picks: ReadonlyMap<string, Candidate>): boolean {
    return group.some((dep) =>
      this.encoding.providers(dep).some((p) => this.fixed.get(p.name) === p || picks.get(p.name) === p),
    );
  }

  /** Meets `Recommends` of what the plan installs or changes, where a solution allows it. */
  private recommends(): void {
    if (this.options.noRecommends) return;
    const done = new Set<Candidate>();
    for (let progress = true; progress; ) {
      progress = false;
      for (const candidate of [...this.fixed.values()]) {
        if (done.has(candidate) || candidate.installed !== undefined || candidate.system) continue;
        done.add(candidate);
        for (const group of candidate.recommends) {
          if (this.metByFixed(group)) continue;
          const choice = this.tryFix(this.groupChoices(group), { kind: 'recommended', by: candidate.name });
          if (choice !== undefined) {
            progress = true;
            this.drain();
          }
        }
      }
    }
  }

  private metByFixed(group: readonly Dependency[]): boolean {
    return group.some((dep) =>
      this.encoding.providers(dep).some((provider) => this.fixed.get(provider.name) === provider),
    );
  }

  /**
   * Candidates for a group of alternatives. A group that an installed package can meet is met by
   * it (apt does not install `b` for `b | c` when `c` is installed); otherwise alternative by
   * alternative, each in its name's preference order.
   */
  private groupChoices(group: readonly Dependency[]): Candidate[] {
    const meets = (c: Candidate) => group.some((dep) => offers(c, dep));
    const installedNames = new Set(
      group
        .flatMap((dep) => this.encoding.providers(dep))
        .filter((c) => this.installedByName.has(c.name))
        .map((c) => c.name),
    );
    const installed = [...installedNames].flatMap((name) => this.preferences(name).filter(meets));
    const alternatives = group.flatMap((dep) => {
      const own = this.preferences(dep.name).filter((c) => offers(c, dep));
      const virtual = this.encoding.providers(dep).filter((c) => c.name !== dep.name);
      return [...own, ...virtual];
    });
    return [...installed, ...alternatives];
  }

  private plan(accepted: readonly Selected[], lost: LostRequest[]): Plan {
    const requested = new Set(
      accepted.filter((a) => a.request.kind !== 'uninstall').map((a) => a.request.name),
    );
    for (const name of this.fixed.keys())
      if (this.reasons.get(name)?.kind === 'requested') requested.add(name);
    const uninstalled = new Set(
      accepted.filter((a) => a.request.kind === 'uninstall').map((a) => a.request.name),
    );
    return buildPlan(
      {
        encoding: this.encoding,
        installed: this.installed,
        fixed: this.fixed,
        reasons: this.reasons,
        names: this.requests.map((r) => r.name),
        upgrading: (name) => this.upgrading(name),
      },
      requested,
      uninstalled,
      lost,
    );
  }
}

function priority(request: Request): number {
  return request.priority ?? DEFAULT_PRIORITY;
}

function newestFirst(candidates: readonly Candidate[]): Candidate[] {
  return [...candidates].sort((a, b) => compareVersions(b.version, a.version));
}
