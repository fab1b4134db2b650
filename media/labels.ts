// Media labels as the boot context reads and prints them: `media LABEL [usb|sd|any] [fs-label X] [uuid U] [partition N]`.
import { MediaError, printable } from './errors.js';
import type { MediaBus, MediaLabel } from './types.js';

/** The labels a factory-fresh device has: `external` = any external bus, first partition (SPEC §3.5). */
export const DEFAULT_MEDIA_LABELS: readonly MediaLabel[] = Object.freeze([
  Object.freeze({ name: 'external', bus: 'any' }),
]);

/** The buses a label may name, in the order help lists them. */
export const MEDIA_BUSES: readonly MediaBus[] = ['usb', 'sd', 'any'];

/** Keywords that may follow the label name, for help and completion. */
export const MEDIA_LABEL_KEYWORDS = ['usb', 'sd', 'any', 'fs-label', 'uuid', 'partition'] as const;

/** Highest partition number a label may name (the GPT default table size). */
export const MAX_PARTITION = 128;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
// FAT/exFAT serials (`1234-ABCD`), ext/btrfs/xfs uuids, NTFS serials (16 hex digits), iso9660 dates.
const UUID_RE = /^(?=.*[0-9A-Fa-f])[0-9A-Fa-f-]{4,36}$/;
const CONTROL_RE = /[\x00-\x1f\x7f]/;
const MAX_FS_LABEL = 255;

/** Whether `name` is acceptable as a media label name (1–32 letters, digits, `.`, `_`, `-`; not a keyword). */
export function isValidLabelName(name: string): boolean {
  return NAME_RE.test(name) && !(MEDIA_LABEL_KEYWORDS as readonly string[]).includes(name);
}

function bad(label: string | undefined, what: string): MediaError {
  return new MediaError(
    'MEDIA_BAD_LABEL',
    label === undefined ? `media: ${what}` : `media ${label}: ${what}`,
  );
}

/** Expands a keyword or a unique prefix of one (`part` → `partition`); an exact match wins. */
function keyword(label: string, token: string): (typeof MEDIA_LABEL_KEYWORDS)[number] {
  const word = token.toLowerCase();
  const exact = MEDIA_LABEL_KEYWORDS.find((k) => k === word);
  if (exact) return exact;
  const hits = word === '' ? [] : MEDIA_LABEL_KEYWORDS.filter((k) => k.startsWith(word));
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) return fail(bad(label, `ambiguous keyword "${printable(token)}": ${hits.join(', ')}`));
  return fail(
    bad(label, `unknown keyword "${printable(token)}", expected usb, sd, any, fs-label, uuid or partition`),
  );
}

function fail(error: Error): never {
  throw error;
}

/**
 * Parses the words after `media` in the boot context or boot configuration: `LABEL [usb|sd|any]
 * [fs-label X] [uuid U] [partition N]`, options in any order, keywords abbreviated to a unique prefix.
 * Throws a `MediaError` (`MEDIA_BAD_LABEL`) with a one-line message.
 */
export function parseMediaLabelArgs(tokens: readonly string[]): MediaLabel {
  const [name, ...rest] = tokens;
  if (name === undefined || name === '') throw bad(undefined, 'expected a label name');
  const shown = printable(name);
  if (!isValidLabelName(name)) {
    throw bad(
      undefined,
      `bad label name "${shown}": use 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit, not a keyword`,
    );
  }
  let bus: MediaBus | undefined;
  let fsLabel: string | undefined;
  let uuid: string | undefined;
  let partition: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const word = keyword(shown, rest[i]!);
    if (word === 'usb' || word === 'sd' || word === 'any') {
      if (bus !== undefined) throw bad(shown, `bus given twice: ${bus} and ${word}`);
      bus = word;
      continue;
    }
    const value = rest[++i];
    if (value === undefined) throw bad(shown, `${word} needs a value`);
    switch (word) {
      case 'fs-label':
        if (fsLabel !== undefined) throw bad(shown, 'fs-label given twice');
        fsLabel = checkFsLabel(shown, value);
        break;
      case 'uuid':
        if (uuid !== undefined) throw bad(shown, 'uuid given twice');
        if (!UUID_RE.test(value)) {
          throw bad(shown, `bad uuid "${printable(value)}": expected hex digits and '-', as lsblk shows it`);
        }
        uuid = value;
        break;
      case 'partition':
        if (partition !== undefined) throw bad(shown, 'partition given twice');
        partition = checkPartition(shown, value);
        break;
    }
  }
  return {
    name,
    bus: bus ?? 'any',
    ...(fsLabel === undefined ? {} : { fsLabel }),
    ...(uuid === undefined ? {} : { uuid }),
    ...(partition === undefined ? {} : { partition }),
  };
}

function checkFsLabel(label: string, value: string): string {
  if (value === '' || value.length > MAX_FS_LABEL || CONTROL_RE.test(value)) {
    throw bad(label, `bad fs-label "${printable(value)}": expected 1-${MAX_FS_LABEL} printable characters`);
  }
  return value;
}

function checkPartition(label: string, value: string): number {
  const n = /^[0-9]{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= MAX_PARTITION)) {
    throw bad(label, `bad partition "${printable(value)}": expected a number from 1 to ${MAX_PARTITION}`);
  }
  return n;
}

/**
 * Checks a label that did not come through `parseMediaLabelArgs` (e.g. read back from a stored
 * configuration) and returns it; throws the same `MEDIA_BAD_LABEL` errors.
 */
export function validateMediaLabel(label: MediaLabel): MediaLabel {
  return parseMediaLabelArgs(formatMediaLabelArgs(label));
}

/** The words of a label after `media`, canonical order, bus always written: `['my-usb', 'usb', 'partition', '2']`. */
export function formatMediaLabelArgs(label: MediaLabel): string[] {
  const words = [label.name, label.bus];
  if (label.fsLabel !== undefined) words.push('fs-label', label.fsLabel);
  if (label.uuid !== undefined) words.push('uuid', label.uuid);
  if (label.partition !== undefined) words.push('partition', String(label.partition));
  return words;
}

/**
 * The configuration line of a label, as `boot show` prints it: `media my-usb usb fs-label FIRMWARE`.
 * A word that is empty or holds blanks, quotes, `\`, `#`, `;` or `|` is written in double quotes with
 * `"` and `\` escaped by a backslash.
 */
export function formatMediaLabel(label: MediaLabel): string {
  return ['media', ...formatMediaLabelArgs(label)].map(quoteWord).join(' ');
}

function quoteWord(word: string): string {
  return word !== '' && !/[\s"'\\#;|]/.test(word) ? word : `"${word.replace(/["\\]/g, '\\$&')}"`;
}

const BUS_WORDS: Readonly<Record<MediaBus, string>> = {
  any: 'any external device',
  usb: 'usb device',
  sd: 'sd card',
};

/** The bus in words, for messages: `usb device`, `sd card`, `any external device`. */
export function busWords(bus: MediaBus): string {
  return BUS_WORDS[bus];
}

/**
 * What a label matches, in words: the "matches" column of `show media`.
 * `any external device, first partition`; `usb device, fs-label FIRMWARE`; `sd card, partition 2`.
 * Without fs-label, uuid and partition a label takes the first partition; with fs-label or uuid the
 * filesystem names the partition.
 */
export function describeLabel(label: MediaLabel): string {
  const parts = [busWords(label.bus)];
  if (label.fsLabel !== undefined) parts.push(`fs-label ${printable(label.fsLabel)}`);
  if (label.uuid !== undefined) parts.push(`uuid ${label.uuid}`);
  if (label.partition !== undefined) parts.push(`partition ${label.partition}`);
  else if (label.fsLabel === undefined && label.uuid === undefined) parts.push('first partition');
  return parts.join(', ');
}
