// Package relations of a feed stanza (Depends, Pre-Depends, Recommends, Conflicts, Breaks, Provides, Replaces).
import {
  type Dependency,
  type DependsList,
  FormatError,
  formatDependency,
  parseDepends,
  printable,
  satisfies,
} from '../format/index.js';

/** The relations the resolver uses, parsed from one stanza or control file. */
export interface Relations {
  /** `Pre-Depends` then `Depends`: groups of alternatives, every group must hold. */
  readonly depends: DependsList;
  /** `Recommends`: installed with the package unless `no-recommends` (groups of alternatives). */
  readonly recommends: DependsList;
  /** `Conflicts` and `Breaks`: no package matching one of these may be installed with it. */
  readonly conflicts: readonly Dependency[];
  /** `Provides`: virtual names, optionally with `(= version)`. */
  readonly provides: readonly Dependency[];
  /** `Replaces`: packages whose files this one may take over (with `Conflicts`: which it replaces). */
  readonly replaces: readonly Dependency[];
}

/** A field that holds one relation list, and how much of Debian's syntax it allows. */
type FieldKind = 'alternatives' | 'plain' | 'provides';

const FIELDS = {
  'Pre-Depends': 'alternatives',
  Depends: 'alternatives',
  Recommends: 'alternatives',
  Conflicts: 'plain',
  Breaks: 'plain',
  Provides: 'provides',
  Replaces: 'plain',
} as const satisfies Record<string, FieldKind>;

/** A relation field name. */
export type RelationField = keyof typeof FIELDS;

/**
 * Parses one relation field. `Depends`-like fields take alternatives (`a | b`); `Conflicts`,
 * `Breaks` and `Replaces` take none (dpkg refuses them there); `Provides` takes only `(= version)`.
 * `<` and `>` mean `<=` and `>=`, as in dpkg and opkg (both deprecate them). Throws a
 * `FormatError` (`WMOPKG_BAD_DEPENDS`) naming the field and the bad part.
 */
export function parseRelationField(field: RelationField, text: string): DependsList {
  const kind: FieldKind = FIELDS[field];
  const bad = (part: string, why = ''): never => {
    throw new FormatError('WMOPKG_BAD_DEPENDS', `bad relation "${printable(part.trim())}" in ${field}${why}`);
  };
  const trimmed = text.replace(/\n/g, ' ').trim();
  if (trimmed === '') return [];
  return trimmed.split(',').map((group) => {
    const alternatives = group.split('|');
    if (alternatives.length > 1 && kind !== 'alternatives')
      bad(group, ' (alternatives are not allowed here)');
    return alternatives.map((atom) => {
      let parsed: Dependency | undefined;
      try {
        parsed = parseDepends(atom)[0]?.[0];
      } catch {
        bad(atom);
      }
      if (parsed === undefined) return bad(atom);
      if (kind === 'provides' && parsed.relation !== undefined && parsed.relation !== '=') {
        bad(atom, ' (only "=" is allowed in Provides)');
      }
      return parsed;
    });
  });
}

/** Reads every relation field of a stanza through `get` (a field lookup that ignores case). */
export function parseRelations(get: (field: string) => string | undefined): Relations {
  const list = (field: RelationField): DependsList => {
    const value = get(field);
    return value === undefined ? [] : parseRelationField(field, value);
  };
  const flat = (field: RelationField): Dependency[] => list(field).map((group) => group[0]!);
  return {
    depends: [...list('Pre-Depends'), ...list('Depends')],
    recommends: list('Recommends'),
    conflicts: [...flat('Conflicts'), ...flat('Breaks')],
    provides: flat('Provides'),
    replaces: flat('Replaces'),
  };
}

/** What a package offers to relations: its own name and version, and what it provides. */
export interface Offer {
  readonly name: string;
  readonly version: string;
  readonly provides: readonly Dependency[];
}

/**
 * Whether `offer` satisfies `dep`, with dpkg's rules: its own name at a version that meets the
 * relation; or a name it provides, where a versioned relation needs a versioned `Provides`
 * (`Provides: x (= 2.0)` meets `x (>= 1.0)`, a plain `Provides: x` meets only a plain `x`).
 */
export function offers(offer: Offer, dep: Dependency): boolean {
  if (offer.name === dep.name) {
    if (dep.relation === undefined || satisfies(offer.version, dep.relation, dep.version!)) return true;
  }
  for (const provided of offer.provides) {
    if (provided.name !== dep.name) continue;
    if (dep.relation === undefined) return true;
    if (provided.version !== undefined && satisfies(provided.version, dep.relation, dep.version!))
      return true;
  }
  return false;
}

/** Formats a group of alternatives: `b (>= 2.0) | c`. */
export function formatGroup(group: readonly Dependency[]): string {
  return group.map(formatDependency).join(' | ');
}
