// The kind of a stored package (firmware, hotfix, package) and the firmware change a stored firmware package makes.
// The control and kinds modules only, not the format's index: `show version` must not load the reader.
import { ControlFile } from '../format/control.js';
import { hotfixFirmware, type PackageKind, packageKind } from '../format/kinds.js';
import type { StoreRecord } from './records.js';

/** The control fields of a record, as a control file. */
export function controlOf(record: StoreRecord): ControlFile {
  return new ControlFile(record.fields);
}

/** What a stored package is; the install refused anything whose tags contradict each other. */
function recordKind(record: StoreRecord): PackageKind {
  try {
    return packageKind(controlOf(record));
  } catch {
    return 'package';
  }
}

/** The firmware version a stored hotfix is bound to, or `undefined` for any other package. */
export function hotfixVersion(record: StoreRecord): string | undefined {
  if (recordKind(record) !== 'hotfix') return undefined;
  try {
    return hotfixFirmware(controlOf(record));
  } catch {
    return undefined;
  }
}

/** The stored firmware packages (at most one, unless `device.json` or the store was edited by hand). */
export function firmwareRecords(records: Iterable<StoreRecord>): StoreRecord[] {
  return [...records].filter((record) => recordKind(record) === 'firmware');
}
