// Reverse dependencies of installed packages: whatdepends, removal with dependents, autoremove.
import type { Dependency } from '../format/index.js';
import type { InstalledPackage } from './jobs.js';
import type { Plan, PlanStep } from './plan.js';
import { formatGroup, offers } from './relations.js';

/** Options of the reverse-dependency queries. */
export interface ReverseOptions {
  /** Follow dependents of dependents (opkg `whatdepends -A`). */
  readonly recursive?: boolean;
  /** Count `Recommends` as dependencies (apt keeps recommended packages from autoremove). */
  readonly recommends?: boolean;
}

/**
 * Installed packages that depend on `name` (opkg `whatdepends`): one of their dependency groups
 * has an alternative the installed `name` meets (by name or by what it provides). Sorted by name.
 */
export function whatDepends(
  installed: readonly InstalledPackage[],
  name: string,
  options: ReverseOptions = {},
): InstalledPackage[] {
  const byName = new Map(installed.map((pkg) => [pkg.name, pkg]));
  const found = new Map<string, InstalledPackage>();
  const queue = [name];
  for (let i = 0; i < queue.length; i++) {
    const target = byName.get(queue[i]!);
    if (target === undefined) continue;
    for (const pkg of installed) {
      if (pkg.name === target.name || found.has(pkg.name) || pkg.name === name) continue;
      const groups = options.recommends ? [...pkg.depends, ...pkg.recommends] : pkg.depends;
      if (!groups.some((group) => group.some((dep) => offers(target, dep)))) continue;
      found.set(pkg.name, pkg);
      if (options.recursive) queue.push(pkg.name);
    }
  }
  return [...found.values()].sort(byPackageName);
}

/**
 * What removing `names` takes with it (opkg's `--force-removal-of-dependent-packages`, dpkg's
 * view): every installed package with a dependency group that nothing left installed meets, to a
 * fixed point. The plan removes the named packages (`uninstall`) and those (`broken`), dependents
 * first, so that nothing is left with a dependency missing.
 */
export function planRemoval(installed: readonly InstalledPackage[], names: readonly string[]): Plan {
  const removed = new Set(names.filter((name) => installed.some((pkg) => pkg.name === name)));
  const broken = new Map<string, readonly Dependency[]>();
  for (let changed = true; changed; ) {
    changed = false;
    const left = installed.filter((pkg) => !removed.has(pkg.name));
    for (const pkg of left) {
      const group = pkg.depends.find((g) => !g.some((dep) => left.some((other) => offers(other, dep))));
      if (group === undefined) continue;
      removed.add(pkg.name);
      broken.set(pkg.name, group);
      changed = true;
    }
  }
  const steps: PlanStep[] = installed
    .filter((pkg) => removed.has(pkg.name))
    .map((pkg) => {
      const group = broken.get(pkg.name);
      return {
        action: 'remove',
        name: pkg.name,
        from: pkg.version,
        auto: pkg.auto,
        reason: group === undefined ? { kind: 'uninstall' } : { kind: 'broken', needs: formatGroup(group) },
      };
    });
  // Dependents go first: a package named in a `broken` reason is removed after what needed it.
  steps.sort((a, b) => Number(a.reason.kind === 'uninstall') - Number(b.reason.kind === 'uninstall'));
  return { steps, held: [], lost: [], marks: [] };
}

/**
 * Packages installed only as dependencies that no package installed on purpose needs any more,
 * directly or through others (apt's autoremove). Every installed package that meets any
 * alternative of a needed group is kept, and `Recommends` count unless `recommends` is false, so
 * nothing that might be in use goes.
 */
export function autoremovable(
  installed: readonly InstalledPackage[],
  options: { readonly recommends?: boolean } = {},
): InstalledPackage[] {
  const recommends = options.recommends ?? true;
  const needed = new Set<string>();
  const queue = installed.filter((pkg) => !pkg.auto);
  for (const pkg of queue) needed.add(pkg.name);
  for (let i = 0; i < queue.length; i++) {
    const pkg = queue[i]!;
    const groups = recommends ? [...pkg.depends, ...pkg.recommends] : pkg.depends;
    for (const group of groups) {
      for (const other of installed) {
        if (needed.has(other.name) || !group.some((dep) => offers(other, dep))) continue;
        needed.add(other.name);
        queue.push(other);
      }
    }
  }
  return installed.filter((pkg) => !needed.has(pkg.name)).sort(byPackageName);
}

/** The plan of `autoremove`: each package `autoremovable` finds, reason `unneeded`. */
export function planAutoremove(installed: readonly InstalledPackage[]): Plan {
  const steps: PlanStep[] = autoremovable(installed).map((pkg) => ({
    action: 'remove',
    name: pkg.name,
    from: pkg.version,
    auto: true,
    reason: { kind: 'unneeded' },
  }));
  return { steps, held: [], lost: [], marks: [] };
}

function byPackageName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
