// Debian's `Release` file of a feed: its dates and the SHA-256 and size of each index it names.
import { type ControlFile, printable } from '../format/index.js';
import { FeedError } from './errors.js';
import { StanzaReader } from './stanza-reader.js';

/** What `Release` says of one file of the feed. */
export interface ReleaseEntry {
  readonly sha256: string;
  readonly size: number;
}

/** A parsed `Release`. */
export interface Release {
  /** `Date:`: when the feed was published; a device refuses one older than the last it accepted. */
  readonly date: Date;
  /** `Valid-Until:`: after it the feed is refused as expired (absent: it never expires). */
  readonly validUntil?: Date;
  /** The `SHA256:` lines by file name (`Packages`, `Packages.gz`, …). */
  readonly files: ReadonlyMap<string, ReleaseEntry>;
  /** Every field as given. */
  readonly control: ControlFile;
}

/** `Release` is small; anything larger is not one. */
const MAX_RELEASE_BYTES = 1024 * 1024;
const ENTRY = /^([0-9a-fA-F]{64})\s+([0-9]{1,15})\s+(\S+)$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const RFC2822 =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) ([A-Z][a-z]{2}) ([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) (UTC|GMT|Z|[+-][0-9]{4})$/;

/**
 * Parses `Release` as `apt-ftparchive release` writes it: one stanza with `Date:` (required),
 * `Valid-Until:`, and `SHA256:` whose lines are `HASH SIZE NAME` (other hash lists are ignored,
 * SHA-256 is required). Throws `FEED_BAD_RELEASE` (or `FEED_BAD_INDEX` for bad control text).
 */
export function parseRelease(bytes: Uint8Array): Release {
  const bad = (why: string): never => {
    throw new FeedError('FEED_BAD_RELEASE', `Release: ${why}`);
  };
  const reader = new StanzaReader('Release', {
    maxTotalBytes: MAX_RELEASE_BYTES,
    maxStanzaBytes: MAX_RELEASE_BYTES,
  });
  const stanzas = [...reader.push(bytes), ...reader.end()];
  if (stanzas.length !== 1) bad(stanzas.length === 0 ? 'empty' : 'more than one stanza');
  const control = stanzas[0]!.control;
  const dateText = control.get('Date');
  if (dateText === undefined) bad('no Date field');
  const date = parseRfc2822(dateText!) ?? bad(`bad Date "${printable(dateText!)}"`);
  const validText = control.get('Valid-Until');
  const validUntil =
    validText === undefined
      ? undefined
      : (parseRfc2822(validText) ?? bad(`bad Valid-Until "${printable(validText)}"`));
  const list = control.get('SHA256');
  if (list === undefined) bad('no SHA256 field');
  const files = new Map<string, ReleaseEntry>();
  for (const raw of list!.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const match = ENTRY.exec(line) ?? bad(`bad SHA256 line "${printable(line)}"`);
    const [, sha256, size, name] = match;
    if (files.has(name!)) bad(`${printable(name!)} listed twice under SHA256`);
    files.set(name!, { sha256: sha256!.toLowerCase(), size: Number(size) });
  }
  return { date, ...(validUntil === undefined ? {} : { validUntil }), files, control };
}

/** Parses an RFC 2822 date as Debian writes them (`Sat, 05 Dec 2026 21:49:50 +0000`, or `UTC`). */
export function parseRfc2822(text: string): Date | undefined {
  const match = RFC2822.exec(text.trim());
  if (!match) return undefined;
  const [, day, monthName, year, hour, minute, second, zone] = match;
  const month = MONTHS.indexOf(monthName!);
  if (month < 0) return undefined;
  const offset = /^[+-]/.test(zone!)
    ? (zone!.startsWith('-') ? -1 : 1) * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(3, 5)))
    : 0;
  const utc = Date.UTC(Number(year), month, Number(day), Number(hour), Number(minute), Number(second));
  const date = new Date(utc - offset * 60_000);
  // Date.UTC rolls 31 Feb over into March: a date that does not exist is refused.
  const check = new Date(utc);
  if (check.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) {
    return undefined;
  }
  return date;
}

/** Formats a date as apt-ftparchive does: `Sat, 05 Dec 2026 21:49:50 +0000`. */
export function formatRfc2822(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
