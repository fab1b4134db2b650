// The installed packages as the updater sees them: which were installed from a file (local requests), and a fingerprint.
import { DeviceError } from '../errors.js';
import type { Layout } from '../state/layout.js';
import { loadRecords } from '../store/packages.js';
import type { StoreRecord } from '../store/records.js';
import type { LocalPackage } from './requests.js';

/** What the store holds, for the updater. */
export interface InstalledSet {
  readonly records: ReadonlyMap<string, StoreRecord>;
  /** Packages installed from a file (an address or media), not from a feed: each is a local request. */
  readonly local: readonly LocalPackage[];
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
  const local = [...records.values()]
    .filter((record) => record.feed === undefined)
    .map((record) => ({ name: record.name, version: record.version }));
  return { records, local };
}
