// `Depends:` fields: alternatives of packages with optional version constraints, and their check.

import { shown } from '../../common/text.js';
import { FormatError } from './errors.js';
import { compareVersions, parseVersion } from './version.js';

/** A version relation as written in control files (`<` and `>` are dpkg's obsolete `<=`/`>=`). */
export type Relation = '<<' | '<=' | '=' | '>=' | '>>';

/** One package name with an optional version constraint. */
export interface Dependency {
  readonly name: string;
  readonly relation?: Relation;
  readonly version?: string;
}

/** `Depends` is a list of groups; a group holds if any alternative holds (`a | b`). */
export type DependsList = ReadonlyArray<readonly Dependency[]>;

const ATOM = /^([a-z0-9][a-z0-9.+-]*)(?::[a-z0-9-]+)?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^\s)]+)\s*\))?$/;

/** Parses a `Depends:` value; throws `WMOPKG_BAD_DEPENDS` naming the bad part. */
export function parseDepends(text: string): DependsList {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return trimmed.split(',').map((group) =>
    group.split('|').map((alternative) => {
      const atom = alternative.trim();
      const match = ATOM.exec(atom);
      if (!match) {
        throw new FormatError('WMOPKG_BAD_DEPENDS', `bad dependency "${shown(atom)}" in Depends`);
      }
      const [, name, rawRelation, version] = match;
      if (rawRelation === undefined || version === undefined) return { name: name! };
      parseVersion(version);
      const relation = rawRelation === '<' ? '<=' : rawRelation === '>' ? '>=' : (rawRelation as Relation);
      return { name: name!, relation, version };
    }),
  );
}

/** Whether `version` satisfies `relation reference`. */
export function satisfies(version: string, relation: Relation, reference: string): boolean {
  const c = compareVersions(version, reference);
  switch (relation) {
    case '<<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '>>':
      return c > 0;
  }
}

/** Formats a dependency back to control-file syntax: `firmware (>= 5.20)`. */
export function formatDependency(dep: Dependency): string {
  return dep.relation === undefined ? dep.name : `${dep.name} (${dep.relation} ${dep.version})`;
}
