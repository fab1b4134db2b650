// The boot's verdicts and lines of stored packages: a damaged record, a package file changed since its install, one that cannot be read.
import type { BootLine, Verification } from '../api.js';
import { DeviceError } from '../errors.js';
import {
  FormatError,
  type PackageReading,
  type TrustStore,
  type Verdict,
  verifyPackage,
} from '../format/index.js';
import type { ActiveRecord, StoreRecord } from '../store/records.js';

/**
 * The line of a package whose record is damaged: never activated (nothing about it can be checked);
 * what it had in rootfs stays, so that a damaged file does not silently take a service down.
 */
export function damagedLine(name: string, problem: string, active: ActiveRecord | undefined): BootLine {
  const reason = active
    ? `damaged record: ${problem}; ${active.version} stays active until ${name} is removed or installed again`
    : `damaged record: ${problem}; remove ${name} or install it again`;
  return { name, version: active?.version ?? '?', verification: 'Invalid', activated: false, reason };
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

/** The verdict on a package whose reading failed (corrupt, unsafe, missing); other errors are thrown. */
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

/** A boot line of a stored package. */
export function lineOf(
  record: StoreRecord,
  verification: Verification,
  activated: boolean,
  reason: string,
): BootLine {
  return { name: record.name, version: record.version, verification, activated, reason };
}
