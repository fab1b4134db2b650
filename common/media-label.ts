// The media-label rule: which names, buses, fs-labels, uuids and partitions a label may hold, checked
// the same way by the shell's grammar, the media layer and the device's boot configuration.
import { printable } from './text.js';
import { MEDIA_BUSES, type MediaLabel } from './vocabulary.js';

/** Keywords that may follow the label name (and so cannot be one), for help and completion. */
export const MEDIA_LABEL_KEYWORDS = ['usb', 'sd', 'any', 'fs-label', 'uuid', 'partition'] as const;

/** Highest partition number a label may name (the GPT default table size). */
export const MAX_PARTITION = 128;

/** Longest fs-label (btrfs allows 255 bytes; FAT 11, ext4 16, NTFS 32). */
const MAX_FS_LABEL = 255;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
// FAT/exFAT serials (`1234-ABCD`), ext/btrfs/xfs uuids, NTFS serials (16 hex digits), iso9660 dates.
const UUID = /^(?=.*[0-9A-Fa-f])[0-9A-Fa-f-]{4,36}$/;
const CONTROL = /[\x00-\x1f\x7f]/;

/** A label name in words, for messages. */
export const LABEL_NAME_RULE =
  "1-32 letters, digits, '.', '_' or '-', starting with a letter or digit, not a keyword";
/** An fs-label in words. */
export const FS_LABEL_RULE = `1-${MAX_FS_LABEL} printable characters`;
/** A uuid in words. */
export const UUID_RULE = "hex digits and '-', as lsblk shows it";
/** A partition number in words. */
export const PARTITION_RULE = `a number from 1 to ${MAX_PARTITION}`;

/** Whether `name` may name a media label: 1–32 letters, digits, `.`, `_`, `-`, and not a keyword. */
export function isLabelName(name: string): boolean {
  return NAME.test(name) && !(MEDIA_LABEL_KEYWORDS as readonly string[]).includes(name);
}

/** Whether `value` may be an fs-label: 1 to `MAX_FS_LABEL` characters, none a control character. */
export function isFsLabel(value: string): boolean {
  return value !== '' && value.length <= MAX_FS_LABEL && !CONTROL.test(value);
}

/** Whether `value` may be a filesystem uuid as lsblk shows it. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Whether `n` may be a partition number. */
export function isPartition(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_PARTITION;
}

/**
 * What is wrong with a label, in words (`bad fs-label "": expected 1-255 printable characters`), or
 * `undefined` when every part of it follows the rule. Each layer puts its own error around it.
 */
export function mediaLabelProblem(label: MediaLabel): string | undefined {
  if (!isLabelName(label.name)) return `bad label name "${printable(label.name)}": use ${LABEL_NAME_RULE}`;
  if (!(MEDIA_BUSES as readonly string[]).includes(label.bus)) {
    return `bus must be usb, sd or any, not ${JSON.stringify(label.bus)}`;
  }
  if (label.fsLabel !== undefined && !isFsLabel(label.fsLabel)) {
    return `bad fs-label "${printable(label.fsLabel)}": expected ${FS_LABEL_RULE}`;
  }
  if (label.uuid !== undefined && !isUuid(label.uuid)) {
    return `bad uuid "${printable(label.uuid)}": expected ${UUID_RULE}`;
  }
  if (label.partition !== undefined && !isPartition(label.partition)) {
    return `bad partition "${printable(String(label.partition))}": expected ${PARTITION_RULE}`;
  }
  return undefined;
}
