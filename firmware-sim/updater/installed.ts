// The installed packages as the planner sees them: versions and relations from the store, local or from a feed.
import { DeviceError } from '../errors.js';
import { type InstalledPackage, parseRelations, type Relations } from '../feeds/index.js';
import type { Layout } from '../state/layout.js';
import { loadRecords } from '../store/packages.js';
import type { StoreRecord } from '../store/records.js';
import type { LocalPackage } from './requests.js';

/** What the store holds, for the planner. */
export interface InstalledSet {
  readonly packages: readonly Omit<InstalledPackage, 'auto'>[];
  /** Packages installed from a file (an address or media): each is a local request. */
  readonly local: readonly LocalPackage[];
  readonly records: ReadonlyMap<string, StoreRecord>;
}

const NO_RELATIONS: Relations = { depends: [], recommends: [], conflicts: [], provides: [], replaces: [] };

/** Whether a package came from a file the operator named (not from a feed). */
export function isLocalRecord(record: StoreRecord): boolean {
  return record.origin.kind === 'remote' || record.origin.kind === 'media';
}

/**
 * Reads the store. A damaged record stops the updater (`DEVICE_CORRUPT_STATE`): it cannot know what
 * the package is, and must neither remove it as not requested nor install over it.
 */
export async function readInstalled(layout: Layout): Promise<InstalledSet> {
  const { records, problems } = await loadRecords(layout);
  if (problems.length > 0) {
    throw new DeviceError(
      'DEVICE_CORRUPT_STATE',
      `${problems[0]}; the updater does nothing until it is removed or installed again`,
    );
  }
  const packages = [...records.values()].map((record) => ({
    name: record.name,
    version: record.version,
    architecture: record.architecture,
    ...relationsOf(record),
    ...(isLocalRecord(record) ? { local: true } : {}),
  }));
  const local = [...records.values()]
    .filter(isLocalRecord)
    .map((record) => ({ name: record.name, version: record.version }));
  return { packages, local, records };
}

/**
 * The relations of an installed package's control file. A field that does not parse (accepted by
 * an older install that checked only `firmware`) counts as empty: the package is kept, not guessed at.
 */
function relationsOf(record: StoreRecord): Relations {
  const get = (field: string) => record.fields.find(([k]) => k.toLowerCase() === field.toLowerCase())?.[1];
  try {
    return parseRelations(get);
  } catch {
    return NO_RELATIONS;
  }
}
