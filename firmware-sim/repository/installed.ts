// The installed packages as the resolver sees them: relations from their records, marks, and the basis of a plan.
import { createHash } from 'node:crypto';
import { type InstalledPackage, parseRelations, type Relations } from '../feeds/index.js';
import type { Layout } from '../state/layout.js';
import { loadRecords } from '../store/packages.js';
import type { StoreRecord } from '../store/records.js';

/** The installed packages with their records, and what a plan made on them must still find. */
export interface InstalledSet {
  readonly packages: readonly InstalledPackage[];
  readonly records: ReadonlyMap<string, StoreRecord>;
  /** Names whose record cannot be read: taken, but not known. */
  readonly damaged: readonly string[];
  /** Relation fields that could not be read, one line each (the package counts as having none). */
  readonly problems: readonly string[];
  /** A digest of every name and installation id: a plan applies only while it is the same. */
  readonly basis: string;
}

const NO_RELATIONS: Relations = { depends: [], recommends: [], conflicts: [], provides: [], replaces: [] };

/** The relations of a record's control fields; a field that does not parse counts as absent. */
export function relationsOf(record: StoreRecord): { relations: Relations; problem?: string } {
  return relationsOfFields(record.name, record.fields);
}

/** The relations of control fields (as a record or a package reading has them); bad ones count as absent. */
export function relationsOfFields(
  name: string,
  fields: ReadonlyArray<readonly [string, string]>,
): { relations: Relations; problem?: string } {
  const byName = new Map(fields.map(([k, v]) => [k.toLowerCase(), v] as const));
  try {
    return { relations: parseRelations((field) => byName.get(field.toLowerCase())) };
  } catch (error) {
    return { relations: NO_RELATIONS, problem: `package ${name}: ${(error as Error).message}` };
  }
}

/** An installed package for the resolver: `local` when it came from a file rather than a feed. */
export function installedOf(record: StoreRecord, relations: Relations): InstalledPackage {
  return {
    name: record.name,
    version: record.version,
    architecture: record.architecture,
    auto: record.auto === true,
    local: record.feed === undefined,
    ...relations,
  };
}

/**
 * The installed packages and the firmware as a package that is always there (`firmware` at the
 * device's version), for the reverse-dependency queries: a dependency on `firmware (>= 5.0)` is met
 * by the device, not broken. The resolver gets the firmware through its `system` option instead.
 */
export function withFirmware(
  packages: readonly InstalledPackage[],
  firmwareVersion: string,
): InstalledPackage[] {
  return [
    {
      name: 'firmware',
      version: firmwareVersion,
      architecture: 'all',
      auto: false,
      local: true,
      ...NO_RELATIONS,
    },
    ...packages.filter((p) => p.name !== 'firmware'),
  ];
}

/** Reads the store: every installed package with its relations. */
export async function loadInstalled(layout: Layout): Promise<InstalledSet> {
  const { records, damaged } = await loadRecords(layout);
  const packages: InstalledPackage[] = [];
  const problems: string[] = [];
  for (const record of records.values()) {
    const { relations, problem } = relationsOf(record);
    if (problem !== undefined) problems.push(problem);
    packages.push(installedOf(record, relations));
  }
  packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const hash = createHash('sha256');
  for (const p of packages) hash.update(`${p.name}\0${records.get(p.name)!.installId}\0`);
  for (const name of [...damaged.keys()].sort()) hash.update(`${name}\0damaged\0`);
  return {
    packages,
    records,
    damaged: [...damaged.keys()],
    problems,
    basis: hash.digest('hex').slice(0, 32),
  };
}
