// What the resolver is asked: requests, the installed packages, and the policy it applies.
import type { Relation } from '../format/index.js';
import type { Relations } from './relations.js';
import type { FeedEntry } from './universe.js';

/** A package installed on the device now, with the relations of its control file. */
export interface InstalledPackage extends Relations {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** Installed only as a dependency of another package: `autoremove` may take it. */
  readonly auto: boolean;
  /**
   * Installed from a file (an address or media), not from a feed: kept at its version by an
   * upgrade of everything, and never removed because no feed has it.
   */
  readonly local?: boolean;
}

/** A package that is always there and never changes, such as `firmware` at the device's version. */
export interface SystemPackage {
  readonly name: string;
  readonly version: string;
}

/** A version constraint of a request: `>= 2.0`. */
export interface Constraint {
  readonly relation: Relation;
  readonly version: string;
}

/** Priority of a request when none is given (Turris's default). */
export const DEFAULT_PRIORITY = 50;

/**
 * One thing asked of the resolver. `install`: the package (or a provider of that name) must be
 * installed, at a version meeting `constraint`, upgraded if a newer one is allowed. `uninstall`:
 * it must be absent. `upgrade`: an installed package moves to the newest version that fits.
 * When requests contradict each other, the higher `priority` wins.
 */
export type Request =
  | {
      readonly kind: 'install';
      readonly name: string;
      readonly constraint?: Constraint;
      readonly priority?: number;
    }
  | { readonly kind: 'uninstall'; readonly name: string; readonly priority?: number }
  | { readonly kind: 'upgrade'; readonly name: string; readonly priority?: number };

/** Why a feed package is not offered to the resolver: `rollout 10 %`, `architecture mips`. */
export type HoldReason = string;

/** The resolver's policy. */
export interface ResolveOptions {
  /** Architectures the device takes besides `all`. */
  readonly architectures: readonly string[];
  /** Packages that are always there (`firmware` at the firmware version): names reserved to them. */
  readonly system?: readonly SystemPackage[];
  /** Leave `Recommends` alone (opkg's and apt's `--no-install-recommends`). */
  readonly noRecommends?: boolean;
  /** Upgrade every installed package that is not `local` to the newest version that fits. */
  readonly upgradeAll?: boolean;
  /**
   * Remove packages installed as dependencies that nothing installed needs any more (the
   * updater removes what is not requested this way: it passes them as `auto`).
   */
  readonly autoremove?: boolean;
  /**
   * A hook that holds feed packages back (staged rollout, local policy): returns why, or
   * `undefined` to offer the package. Held packages appear in the plan and in error messages.
   */
  readonly hold?: (entry: FeedEntry) => HoldReason | undefined;
  /**
   * Check every choice with the SAT solver from the start, instead of first trying the choices
   * unchecked (the result is the same; tests compare the two, benchmarks may time either).
   */
  readonly alwaysSolve?: boolean;
}

/** Formats a request for messages: `install a (>= 2.0)`, `uninstall b`. */
export function formatRequest(request: Request): string {
  const constraint =
    request.kind === 'install' && request.constraint
      ? ` (${request.constraint.relation} ${request.constraint.version})`
      : '';
  return `${request.kind} ${request.name}${constraint}`;
}
