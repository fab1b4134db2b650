// Why no plan exists: a minimal set of constraints that cannot hold together, told as a chain.
import { compareVersions, type Dependency, formatDependency } from '../format/index.js';
import type { Encoding, Group } from './encoding.js';
import { formatGroup, offers } from './relations.js';
import { type Literal, SatProblem } from './sat.js';

/** What must hold for the explanation: the failing requests, as clauses over candidate literals. */
export interface Demand {
  /** The names the demand is about (the chain starts there). */
  readonly names: readonly string[];
  /** Clauses that express it. */
  readonly clauses: ReadonlyArray<readonly Literal[]>;
  /** When a demand has no candidate at all: the dependencies it stands for, to say what the feeds have. */
  readonly wanted: readonly Dependency[];
}

/**
 * Explains why `demand` cannot hold: finds a minimal unsatisfiable subset of the encoding's
 * constraints (QuickXplain over selector literals, as libsolv's problem rules name the culprits)
 * and tells it as sentences from the requested names outwards: `a 1.0 depends on b (>= 2.0);
 * the feeds have b 1.4 only`.
 */
export function explain(encoding: Encoding, demand: Demand): string {
  const groups = encoding.groups();
  const problem = new SatProblem();
  const selectorOf = new Map<Group, Literal>(groups.map((group, i) => [group, `g${i}`]));
  encoding.emit(problem, (group) => selectorOf.get(group));
  problem.quickly(() => {
    for (const clause of demand.clauses) problem.clause(clause);
  });
  const selectors = [...selectorOf.values()];
  const culprits = new Set(minimalUnsatisfiable(problem, selectors));
  const chosen = groups.filter((group) => culprits.has(selectorOf.get(group)!));
  const sentences = merge(order(encoding, chosen, demand.names)).map((group) => sentence(encoding, group));
  if (demand.clauses.some((clause) => clause.length === 0)) {
    sentences.unshift(availability(encoding, demand.wanted));
  }
  return sentences.length === 0 ? 'no consistent set of packages exists' : sentences.join('; ');
}

/**
 * QuickXplain (Junker 2004): a minimal subset of `selectors` that is unsatisfiable together,
 * in O(k log(n/k)) solver calls for k culprits among n.
 */
export function minimalUnsatisfiable(problem: SatProblem, selectors: readonly Literal[]): Literal[] {
  const holds = (set: readonly Literal[]) => problem.solve(set) !== undefined;
  if (!holds([])) return [];
  if (holds(selectors)) return [];
  const search = (background: Literal[], changed: boolean, candidates: Literal[]): Literal[] => {
    if (changed && !holds(background)) return [];
    if (candidates.length === 1) return candidates;
    const half = candidates.length >> 1;
    const first = candidates.slice(0, half);
    const second = candidates.slice(half);
    const fromSecond = search([...background, ...first], first.length > 0, second);
    const fromFirst = search([...background, ...fromSecond], fromSecond.length > 0, first);
    return [...fromFirst, ...fromSecond];
  };
  return search([], false, [...selectors]);
}

/** Orders groups by how far their package is from the requested names, so that they read as a chain. */
function order(encoding: Encoding, groups: readonly Group[], names: readonly string[]): Group[] {
  const distance = new Map<string, number>();
  const queue = [...names];
  for (const name of names) distance.set(name, 0);
  for (let i = 0; i < queue.length; i++) {
    const name = queue[i]!;
    for (const candidate of encoding.candidatesOf(name)) {
      for (const group of candidate.depends) {
        for (const dep of group) {
          for (const provider of encoding.providers(dep)) {
            if (distance.has(provider.name)) continue;
            distance.set(provider.name, distance.get(name)! + 1);
            queue.push(provider.name);
          }
        }
      }
    }
  }
  const rank = (group: Group) => {
    const name = group.kind === 'one' ? group.name : group.candidate.name;
    const weight = group.kind === 'system' ? 1e6 : group.kind === 'one' ? 0.5 : 0;
    return (distance.get(name) ?? 1e5) + weight;
  };
  return [...groups].sort((a, b) => rank(a) - rank(b));
}

/** Joins plain dependency groups of one package into one statement: `a 1.0 depends on b, c`. */
function merge(groups: readonly Group[]): Joined[] {
  const out: Joined[] = [];
  for (const group of groups) {
    const last = out.at(-1);
    if (
      group.kind === 'depends' &&
      group.providers.length > 0 &&
      last?.kind === 'depends' &&
      last.providers.length > 0 &&
      last.candidate === group.candidate
    ) {
      out[out.length - 1] = {
        ...last,
        joined: [...((last as Joined).joined ?? [last.group]), group.group],
      } as Joined;
      continue;
    }
    out.push(group);
  }
  return out;
}

/** A group, with the other groups of the same package joined to it. */
type Joined = Group & { readonly joined?: ReadonlyArray<readonly Dependency[]> };

function sentence(encoding: Encoding, group: Joined): string {
  switch (group.kind) {
    case 'one':
      return `only one version of ${group.name} can be installed`;
    case 'system':
      return `the device has ${group.candidate.name} ${group.candidate.version}`;
    case 'conflict':
      return `${label(group.candidate)} conflicts with ${formatDependency(group.dep)}`;
    case 'depends': {
      const groups = group.joined ?? [group.group];
      const head = `${label(group.candidate)} depends on ${groups.map(formatGroup).join(', ')}`;
      return group.providers.length > 0 ? head : `${head}; ${availability(encoding, group.group)}`;
    }
  }
}

function label(candidate: { name: string; version: string }): string {
  return `${candidate.name} ${candidate.version}`;
}

/**
 * What there is for a group of alternatives that nothing meets: `the feeds have b 1.4 only`,
 * `no package in the feeds is named c or provides it`, and the versions that would meet it but
 * were held back or are for another architecture.
 */
function availability(encoding: Encoding, group: readonly Dependency[]): string {
  const names = [...new Set(group.map((dep) => dep.name))];
  const have: string[] = [];
  const notes: string[] = [];
  for (const name of names) {
    const versions = [...encoding.candidatesOf(name)]
      .sort((a, b) => compareVersions(a.version, b.version))
      .map((c) => (c.entry === undefined ? `${c.version} (installed)` : c.version));
    const system = encoding.candidatesOf(name).find((c) => c.system);
    if (system) return `the device has ${name} ${system.version}`;
    if (versions.length > 0) have.push(`${name} ${versions.join(', ')}`);
    for (const excluded of encoding.excludedFor(name)) {
      if (!group.some((dep) => offers(excluded.entry.package, dep))) continue;
      const pkg = excluded.entry.package;
      notes.push(
        excluded.kind === 'held'
          ? `${pkg.name} ${pkg.version} is held back (${excluded.reason})`
          : `${pkg.name} ${pkg.version} is ${excluded.reason}`,
      );
    }
  }
  const main =
    have.length === 0
      ? `no package in the feeds is named ${names.join(' or ')} or provides it`
      : `the feeds have ${have.join(' and ')} only`;
  return [main, ...notes].join('; ');
}
