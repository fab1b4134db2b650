// Media labels as the boot context reads and prints them: `media LABEL [usb|sd|any] [fs-label X] [uuid U] [partition N]`.
import {
  FS_LABEL_RULE,
  isFsLabel,
  isLabelName,
  isPartition,
  isUuid,
  LABEL_NAME_RULE,
  MEDIA_LABEL_KEYWORDS,
  PARTITION_RULE,
  UUID_RULE,
} from '../common/media-label.js';
import { printable } from '../common/text.js';
import { MediaError } from './errors.js';
import type { MediaBus, MediaLabel } from './types.js';

export { isLabelName, MAX_PARTITION, MEDIA_LABEL_KEYWORDS } from '../common/media-label.js';
export { DEFAULT_MEDIA_LABELS, MEDIA_BUSES } from '../common/vocabulary.js';

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
  if (!isLabelName(name)) {
    throw bad(undefined, `bad label name "${shown}": use ${LABEL_NAME_RULE}`);
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
        if (!isUuid(value)) throw bad(shown, `bad uuid "${printable(value)}": expected ${UUID_RULE}`);
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
  if (!isFsLabel(value)) throw bad(label, `bad fs-label "${printable(value)}": expected ${FS_LABEL_RULE}`);
  return value;
}

function checkPartition(label: string, value: string): number {
  const n = /^[0-9]{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!isPartition(n)) throw bad(label, `bad partition "${printable(value)}": expected ${PARTITION_RULE}`);
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
