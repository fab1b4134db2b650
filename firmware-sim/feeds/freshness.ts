// Whether a fetched feed index may be taken: signatures, and Release's hashes, expiry and rollback rules.
import { createHash } from 'node:crypto';
import type { TrustStore } from '../format/index.js';
import { FeedError } from './errors.js';
import { formatRfc2822, parseRelease, type Release } from './release.js';
import { type SignedBy, verifyDetached } from './signature.js';

/** The files of a feed's index as fetched. */
export interface FeedIndexFiles {
  /** `Packages`, uncompressed (inflated from `Packages.gz` if that is what was fetched). */
  readonly packages: Uint8Array;
  /** Its SHA-256 (hex), when the caller has it already (a 10 MB index is not hashed twice). */
  readonly packagesSha256?: string;
  readonly packagesSig?: Uint8Array;
  /** SHA-256 (hex) and size of `Packages.gz` as fetched, when the index came compressed. */
  readonly packagesGz?: { readonly sha256: string; readonly size: number };
  readonly release?: Uint8Array;
  readonly releaseSig?: Uint8Array;
}

/** What the device keeps of the last `Release` it accepted from a feed. */
export interface AcceptedRelease {
  readonly date: Date;
}

/** Options of `verifyFeedIndex`. */
export interface FreshnessOptions {
  readonly trust: TrustStore;
  readonly now: Date;
  /** The last `Release` accepted from this feed (absent: none yet). */
  readonly last?: AcceptedRelease;
  /** How far in the future a `Date:` may be (device clocks drift); default one day. */
  readonly maxClockSkewMs?: number;
}

/**
 * How well a feed is protected against replay: `protected` (a signed `Release` with
 * `Valid-Until`), `no-expiry` (signed `Release` without `Valid-Until`: rollback refused, a frozen
 * feed not detected), `none` (no `Release`: what `show feeds` must say).
 */
export type Freshness =
  | { readonly state: 'protected'; readonly date: Date; readonly validUntil: Date }
  | { readonly state: 'no-expiry'; readonly date: Date }
  | { readonly state: 'none' };

/** A feed index that may be taken. */
export interface VerifiedIndex {
  readonly freshness: Freshness;
  readonly packagesSignedBy: SignedBy;
  readonly release?: Release;
  /** What to keep as `last` for the next update (absent without `Release`). */
  readonly accepted?: AcceptedRelease;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Decides whether a fetched index may replace the feed's current one, or throws a `FeedError`
 * saying why not (the caller keeps the previous index). `Packages.sig` must verify over the
 * uncompressed `Packages`. With `Release`: `Release.sig` must verify; `Release` must not be
 * expired, dated too far ahead, or older than `last`; and the SHA-256 and size it gives for
 * `Packages` (and for `Packages.gz`, when that was fetched) must match. A feed that had a
 * `Release` and comes without one is refused: dropping it would switch the protection off.
 */
export function verifyFeedIndex(files: FeedIndexFiles, options: FreshnessOptions): VerifiedIndex {
  const packagesSignedBy = verifyDetached('Packages', files.packages, files.packagesSig, options.trust);
  if (files.release === undefined) {
    if (options.last !== undefined) {
      throw new FeedError(
        'FEED_ROLLBACK',
        `the feed has no Release any more (the last accepted was dated ${formatRfc2822(options.last.date)}): refused, it would lose its freshness protection`,
      );
    }
    return { freshness: { state: 'none' }, packagesSignedBy };
  }
  verifyDetached('Release', files.release, files.releaseSig, options.trust);
  const release = parseRelease(files.release);
  const { now } = options;
  if (release.validUntil !== undefined && release.validUntil.getTime() < now.getTime()) {
    throw new FeedError(
      'FEED_EXPIRED',
      `Release expired on ${formatRfc2822(release.validUntil)}: the feed is stale (or frozen); the publisher must re-index it`,
    );
  }
  const skew = options.maxClockSkewMs ?? DAY_MS;
  if (release.date.getTime() > now.getTime() + skew) {
    throw new FeedError(
      'FEED_NOT_YET_VALID',
      `Release is dated ${formatRfc2822(release.date)}, in the future: check the device clock`,
    );
  }
  if (options.last !== undefined && release.date.getTime() < options.last.date.getTime()) {
    throw new FeedError(
      'FEED_ROLLBACK',
      `Release dated ${formatRfc2822(release.date)} is older than the last accepted (${formatRfc2822(options.last.date)}): refused as a rollback`,
    );
  }
  const plain = release.files.get('Packages');
  const compressed = release.files.get('Packages.gz');
  if (plain === undefined && (compressed === undefined || files.packagesGz === undefined)) {
    throw new FeedError('FEED_BAD_RELEASE', 'Release does not give the SHA-256 of Packages');
  }
  if (plain !== undefined) {
    const actual = { sha256: files.packagesSha256 ?? sha256(files.packages), size: files.packages.length };
    checkEntry('Packages', plain, actual);
  }
  if (compressed !== undefined && files.packagesGz !== undefined) {
    checkEntry('Packages.gz', compressed, files.packagesGz);
  }
  const freshness: Freshness =
    release.validUntil === undefined
      ? { state: 'no-expiry', date: release.date }
      : { state: 'protected', date: release.date, validUntil: release.validUntil };
  return { freshness, packagesSignedBy, release, accepted: { date: release.date } };
}

function checkEntry(
  name: string,
  expected: { sha256: string; size: number },
  actual: { sha256: string; size: number },
): void {
  if (expected.size !== actual.size || expected.sha256 !== actual.sha256.toLowerCase()) {
    throw new FeedError(
      'FEED_HASH_MISMATCH',
      `${name} does not match Release (${actual.size} bytes, SHA-256 ${actual.sha256.slice(0, 16)}…; Release says ${expected.size} bytes, ${expected.sha256.slice(0, 16)}…)`,
    );
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
