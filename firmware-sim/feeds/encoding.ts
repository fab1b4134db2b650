// The part of the feeds a job reaches, as candidates and the clauses that bind them.
import { compareVersions, type Dependency } from '../format/index.js';
import type { InstalledPackage, ResolveOptions } from './jobs.js';
import { offers, type Relations } from './relations.js';
import { type Literal, negate, type SatProblem } from './sat.js';
import type { FeedEntry, PackageSource } from './universe.js';

/** One version of one package the resolver may choose. */
export interface Candidate extends Relations {
  readonly id: number;
  /** Its variable in the SAT problem. */
  readonly literal: Literal;
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** Set when this is the version installed now (its relations are the installed control's). */
  readonly installed?: InstalledPackage;
  /** Set when a feed offers this version. */
  readonly entry?: FeedEntry;
  /** A package that is always there (`firmware`). */
  readonly system: boolean;
}

/** A feed package the resolver was not allowed to use, and why. */
export interface Excluded {
  readonly entry: FeedEntry;
  /** `architecture`: not for this device; `held`: the hold hook said `reason`. */
  readonly kind: 'architecture' | 'held';
  readonly reason: string;
}

/** One constraint of the problem; explanations name them. */
export type Group =
  | { readonly kind: 'one'; readonly name: string; readonly candidates: readonly Candidate[] }
  | {
      readonly kind: 'depends';
      readonly candidate: Candidate;
      readonly group: readonly Dependency[];
      readonly providers: readonly Candidate[];
    }
  | {
      readonly kind: 'conflict';
      readonly candidate: Candidate;
      readonly dep: Dependency;
      readonly others: readonly Candidate[];
    }
  | { readonly kind: 'system'; readonly candidate: Candidate };

/**
 * The candidates reachable from a job's names through `Pre-Depends`, `Depends` and `Recommends`
 * (alternatives and providers included), and the constraints among them: at most one version of a
 * name, each dependency group met by one of its providers, no two conflicting packages, the
 * system packages always there. Names no dependency reaches can never be installed, so they are
 * not encoded: a job on a 10,000-package universe costs what its closure costs.
 */
export class Encoding {
  readonly candidates: Candidate[] = [];
  private readonly byName = new Map<string, Candidate[]>();
  private readonly providedBy = new Map<string, Candidate[]>();
  private readonly excludedByName = new Map<string, Excluded[]>();
  private readonly reserved: ReadonlySet<string>;
  private groupList: Group[] | undefined;

  constructor(
    private readonly universe: PackageSource,
    installed: readonly InstalledPackage[],
    roots: Iterable<string>,
    private readonly options: ResolveOptions,
  ) {
    const system = options.system ?? [];
    this.reserved = new Set(system.map((pkg) => pkg.name));
    const installedByName = new Map(installed.map((pkg) => [pkg.name, pkg]));
    for (const pkg of system) {
      this.add({
        name: pkg.name,
        version: pkg.version,
        architecture: 'all',
        system: true,
        depends: [],
        recommends: [],
        conflicts: [],
        provides: [],
        replaces: [],
      });
    }
    const queue: string[] = [];
    const seen = new Set<string>(this.reserved);
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      queue.push(name);
    };
    for (const name of roots) {
      visit(name);
      // A request may name a virtual package: its providers are candidates too.
      for (const entry of universe.providersOf(name)) visit(entry.package.name);
    }
    for (const pkg of installed) visit(pkg.name);
    for (let i = 0; i < queue.length; i++) {
      const name = queue[i]!;
      const added = this.addName(name, installedByName.get(name));
      for (const candidate of added) {
        const groups = options.noRecommends
          ? candidate.depends
          : [...candidate.depends, ...candidate.recommends];
        for (const group of groups) {
          for (const dep of group) {
            visit(dep.name);
            // Installed packages are roots already: only the feeds' providers need a visit.
            for (const entry of universe.providersOf(dep.name)) visit(entry.package.name);
          }
        }
      }
    }
    for (const list of this.byName.values()) list.sort((a, b) => compareVersions(b.version, a.version));
    for (const list of this.providedBy.values()) list.sort((a, b) => compareVersions(b.version, a.version));
  }

  /** The candidates of a name, newest first. */
  candidatesOf(name: string): readonly Candidate[] {
    return this.byName.get(name) ?? [];
  }

  /** Names that have candidates. */
  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  /**
   * The candidates that meet `dep`: its own name's versions first (newest first), then packages
   * that provide it (newest first), as apt orders them.
   */
  providers(dep: Dependency): Candidate[] {
    const own = this.candidatesOf(dep.name).filter((c) => offers(c, dep));
    if (this.reserved.has(dep.name)) return own;
    const virtual = (this.providedBy.get(dep.name) ?? []).filter(
      (c) => c.name !== dep.name && offers(c, dep),
    );
    return [...own, ...virtual];
  }

  /** Feed packages of this name (or providing it) that were held back or not for this device. */
  excludedFor(name: string): readonly Excluded[] {
    return this.excludedByName.get(name) ?? [];
  }

  /** Every constraint of the problem, computed once. */
  groups(): readonly Group[] {
    if (this.groupList) return this.groupList;
    const groups: Group[] = [];
    for (const [name, candidates] of this.byName) {
      if (candidates.length > 1) groups.push({ kind: 'one', name, candidates });
    }
    for (const candidate of this.candidates) {
      if (candidate.system) groups.push({ kind: 'system', candidate });
      for (const group of candidate.depends) {
        const providers = unique(group.flatMap((dep) => this.providers(dep)));
        groups.push({ kind: 'depends', candidate, group, providers });
      }
      for (const dep of candidate.conflicts) {
        // A package never conflicts with itself, nor (dpkg) through a name it provides itself.
        const others = this.providers(dep).filter((other) => other.name !== candidate.name);
        if (others.length > 0) groups.push({ kind: 'conflict', candidate, dep, others });
      }
    }
    this.groupList = groups;
    return groups;
  }

  /**
   * Adds every constraint to `problem`. With `selector`, each group's clauses hold only while
   * the group's selector literal is true (for explanations); a group without one always holds.
   */
  emit(problem: SatProblem, selector?: (group: Group) => Literal | undefined): void {
    problem.quickly(() => {
      for (const candidate of this.candidates) problem.variable(candidate.literal);
      for (const group of this.groups()) {
        const guard = selector?.(group);
        const extra = guard === undefined ? [] : [negate(guard)];
        switch (group.kind) {
          case 'one':
            if (guard === undefined) problem.atMostOne(group.candidates.map((c) => c.literal));
            else {
              const list = group.candidates;
              for (let i = 0; i < list.length; i++) {
                for (let j = i + 1; j < list.length; j++) {
                  problem.clause([...extra, negate(list[i]!.literal), negate(list[j]!.literal)]);
                }
              }
            }
            break;
          case 'depends':
            problem.clause([
              ...extra,
              negate(group.candidate.literal),
              ...group.providers.map((p) => p.literal),
            ]);
            break;
          case 'conflict':
            for (const other of group.others) {
              problem.clause([...extra, negate(group.candidate.literal), negate(other.literal)]);
            }
            break;
          case 'system':
            problem.clause([...extra, group.candidate.literal]);
            break;
        }
      }
    });
  }

  /** Candidates for one name: the feed's versions the device may use, and the installed one. */
  private addName(name: string, installed: InstalledPackage | undefined): Candidate[] {
    const added: Candidate[] = [];
    let installedTaken = false;
    for (const entry of this.universe.versionsOf(name)) {
      const excluded = this.exclusion(entry);
      if (excluded !== undefined) {
        this.exclude(excluded);
        continue;
      }
      const pkg = entry.package;
      if (installed !== undefined && installed.version === pkg.version) {
        // The installed version: its own control decides its relations; the feed can reinstall it.
        added.push(
          this.add({ ...relationsOf(installed), ...identity(installed), installed, entry, system: false }),
        );
        installedTaken = true;
      } else {
        added.push(this.add({ ...relationsOf(pkg), ...identity(pkg), entry, system: false }));
      }
    }
    if (installed !== undefined && !installedTaken) {
      added.push(this.add({ ...relationsOf(installed), ...identity(installed), installed, system: false }));
    }
    return added;
  }

  private exclusion(entry: FeedEntry): Excluded | undefined {
    const pkg = entry.package;
    if (pkg.architecture !== 'all' && !this.options.architectures.includes(pkg.architecture)) {
      return { entry, kind: 'architecture', reason: `for architecture ${pkg.architecture}` };
    }
    const held = this.options.hold?.(entry);
    return held === undefined ? undefined : { entry, kind: 'held', reason: held };
  }

  private exclude(excluded: Excluded): void {
    const pkg = excluded.entry.package;
    for (const name of new Set([pkg.name, ...pkg.provides.map((p) => p.name)])) {
      const list = this.excludedByName.get(name);
      if (list) list.push(excluded);
      else this.excludedByName.set(name, [excluded]);
    }
  }

  private add(fields: Omit<Candidate, 'id' | 'literal'>): Candidate {
    const id = this.candidates.length;
    const candidate: Candidate = { ...fields, id, literal: `c${id}` };
    this.candidates.push(candidate);
    const list = this.byName.get(candidate.name);
    if (list) list.push(candidate);
    else this.byName.set(candidate.name, [candidate]);
    for (const provide of candidate.provides) {
      // Nothing but the device provides a reserved name: a package cannot claim a firmware version.
      if (this.reserved.has(provide.name)) continue;
      const providers = this.providedBy.get(provide.name);
      if (providers) providers.push(candidate);
      else this.providedBy.set(provide.name, [candidate]);
    }
    return candidate;
  }
}

function relationsOf(source: Relations): Relations {
  const { depends, recommends, conflicts, provides, replaces } = source;
  return { depends, recommends, conflicts, provides, replaces };
}

function identity(source: { name: string; version: string; architecture: string }) {
  return { name: source.name, version: source.version, architecture: source.architecture };
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
