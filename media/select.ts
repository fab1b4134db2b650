// Label matching: which partition of which external drive a label points at, or why none.

import { printable } from '../common/text.js';
import type { MediaDrive, MediaPartition } from './drives.js';
import type { MediaErrorCode } from './errors.js';
import type { MediaBus, MediaLabel } from './types.js';

/** The bus as a noun after "no": `no external device connected`, `no sd card with fs-label X connected`. */
const NOUNS: Readonly<Record<MediaBus, string>> = {
  any: 'external device',
  usb: 'usb device',
  sd: 'sd card',
};

/** The outcome of matching one label against the drive list. */
export type Selection =
  | {
      readonly ok: true;
      readonly drive: MediaDrive;
      readonly partition: MediaPartition & { readonly mountpoint: string };
    }
  | {
      readonly ok: false;
      readonly code: Extract<MediaErrorCode, 'MEDIA_NO_DEVICE' | 'MEDIA_NO_PARTITION' | 'MEDIA_NOT_MOUNTED'>;
      /** One line for `show media` and the error: `/dev/sdb1 is not mounted`. */
      readonly reason: string;
    };

/**
 * Matches a label against drives in list order (only `external` ones count):
 * - no fs-label, uuid or partition: the first drive on the bus, its first (lowest-numbered) partition;
 * - partition N only: the first drive on the bus, its partition N;
 * - fs-label and/or uuid (and maybe N): the first partition on the bus carrying that filesystem.
 * The first match decides, mounted or not: a real stick that is not mounted is reported as such rather
 * than silently replaced by the next drive. `listFailure` is added to "no device" reasons.
 */
export function selectMedia(
  label: MediaLabel,
  drives: readonly MediaDrive[],
  listFailure?: string,
): Selection {
  const onBus = drives.filter((d) => d.role === 'external' && (label.bus === 'any' || d.bus === label.bus));
  const byFilesystem = label.fsLabel !== undefined || label.uuid !== undefined;
  const noDevice = (what: string): Selection => ({
    ok: false,
    code: 'MEDIA_NO_DEVICE',
    reason: `no ${what} connected${listFailure === undefined ? '' : ` (${listFailure})`}`,
  });

  if (onBus.length === 0) return noDevice(NOUNS[label.bus]);
  let found: { drive: MediaDrive; partition: MediaPartition } | undefined;
  if (byFilesystem) {
    for (const drive of onBus) {
      const partition = drive.partitions.find((p) => filesystemMatches(label, p));
      if (partition !== undefined) {
        found = { drive, partition };
        break;
      }
    }
    if (found === undefined) return noDevice(`${NOUNS[label.bus]} with ${criteria(label)}`);
  } else {
    const drive = onBus[0]!;
    const partition =
      label.partition === undefined
        ? drive.partitions[0]
        : drive.partitions.find((p) => p.number === label.partition);
    if (partition === undefined) {
      const which = label.partition === undefined ? 'partition' : `partition ${label.partition}`;
      return { ok: false, code: 'MEDIA_NO_PARTITION', reason: `no ${which} on ${drive.device}` };
    }
    found = { drive, partition };
  }
  const { drive, partition } = found;
  if (partition.mountpoint === undefined) {
    return { ok: false, code: 'MEDIA_NOT_MOUNTED', reason: `${partition.device} is not mounted` };
  }
  return { ok: true, drive, partition: { ...partition, mountpoint: partition.mountpoint } };
}

function filesystemMatches(label: MediaLabel, p: MediaPartition): boolean {
  return (
    (label.fsLabel === undefined || p.fsLabel === label.fsLabel) &&
    (label.uuid === undefined || p.uuid?.toLowerCase() === label.uuid.toLowerCase()) &&
    (label.partition === undefined || p.number === label.partition)
  );
}

function criteria(label: MediaLabel): string {
  const words: string[] = [];
  if (label.fsLabel !== undefined) words.push(`fs-label ${printable(label.fsLabel)}`);
  if (label.uuid !== undefined) words.push(`uuid ${label.uuid}`);
  if (label.partition !== undefined) words.push(`partition ${label.partition}`);
  return words.join(', ');
}
