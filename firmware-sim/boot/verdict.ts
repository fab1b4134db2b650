// What the boot decides about one stored package: its verdict now, and whether it may run here.

import type { StoredBootConfig } from '../config/boot-config.js';
import { checkCompatibility } from '../config/compat.js';
import { type DeviceFile, readLimits } from '../config/device-file.js';
import { activationRefusal } from '../config/policy.js';
import { DeviceError } from '../errors.js';
import {
  FormatError,
  type PackageReading,
  readPackageFile,
  type TrustStore,
  type Verdict,
  verifyPackage,
} from '../format/index.js';
import type { Layout } from '../state/layout.js';
import { packageFile } from '../store/packages.js';
import type { StoreRecord } from '../store/records.js';

/** What the rules of a boot are made of, read once at its start. */
export interface BootRules {
  readonly layout: Layout;
  readonly device: DeviceFile;
  readonly config: StoredBootConfig;
  readonly trust: TrustStore;
  readonly allowUntrusted: boolean;
}

/** The verdict on a stored package: its members must still be those hashed at installation. */
export function verifyStored(reading: PackageReading, record: StoreRecord, trust: TrustStore): Verdict {
  const now = reading.members.map((m) => `${m.name}:${m.size}:${m.sha256}`).join(' ');
  const then = record.members.map((m) => `${m.name}:${m.size}:${m.sha256}`).join(' ');
  if (now !== then) {
    const changed = reading.members.find(
      (m, i) => record.members[i]?.sha256 !== m.sha256 || record.members[i]?.name !== m.name,
    );
    return {
      status: 'Invalid',
      reason: `package file changed in the store since installation${changed ? ` (${changed.name})` : ''}`,
    };
  }
  return verifyPackage(reading, trust);
}

/**
 * The verdict when reading a stored package failed: a corrupt or unsafe package is `Invalid` (why is
 * said), a missing file too; any other failure (the storage) is not a verdict and is thrown again.
 */
export function invalidFrom(error: unknown): Verdict {
  if (error instanceof FormatError) return { status: 'Invalid', reason: `corrupt package: ${error.message}` };
  if (
    error instanceof DeviceError &&
    (error.code === 'DEVICE_UNSAFE_PACKAGE' || error.code === 'DEVICE_BAD_PACKAGE')
  ) {
    return { status: 'Invalid', reason: error.message };
  }
  if ((error as NodeJS.ErrnoException).code === 'ENOENT')
    return { status: 'Invalid', reason: 'package file missing from the store' };
  throw error;
}

/** Why a verified package may not run here, or `undefined`. */
export function refusalFor(
  state: BootRules,
  verdict: Verdict,
  reading: PackageReading | undefined,
): string | undefined {
  const refused = activationRefusal(
    verdict.status,
    verdict.reason,
    verdict.keyNumber,
    state.allowUntrusted,
    state.config,
    state.device,
  );
  if (refused !== undefined) return refused;
  return reading ? checkCompatibility(reading.control, state.device)?.reason : undefined;
}

/** What a pass over a stored package that inflates nothing says: the verdict, and why it may not run. */
export interface StoredCheck {
  readonly verdict: Verdict;
  readonly reading?: PackageReading;
  /** Why the package may not run here, or `undefined`. */
  readonly refused?: string;
}

/**
 * Verifies a stored package without unpacking it: one pass through one descriptor that hashes every
 * member and reads the control archive, but never inflates data.tar.gz. `read` is that pass made
 * already (on another core, boot/verify-parallel.ts); the verdict is drawn from it the same way.
 */
export async function checkStored(
  state: BootRules,
  record: StoreRecord,
  read?: PackageReading,
): Promise<StoredCheck> {
  let verdict: Verdict;
  let reading: PackageReading | undefined;
  try {
    reading = read ?? (await readPackageFile(packageFile(state.layout, record), readLimits(state.device)));
    verdict = verifyStored(reading, record, state.trust);
  } catch (error) {
    verdict = invalidFrom(error);
  }
  const refused = refusalFor(state, verdict, reading);
  return { verdict, ...(reading ? { reading } : {}), ...(refused === undefined ? {} : { refused }) };
}
