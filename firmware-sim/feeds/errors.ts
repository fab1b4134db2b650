// Typed errors of the feeds: a stable code for programs, one line for operators.

/** Stable codes of feed errors; the shell and tests match on these, never on message text. */
export type FeedErrorCode =
  /** `Packages` or `Release` is not Debian control text (bad line, not UTF-8, control character). */
  | 'FEED_BAD_INDEX'
  /** A line, a stanza or the whole index is over its limit. */
  | 'FEED_TOO_LARGE'
  | 'FEED_BAD_RELEASE'
  /** A signature file is missing where one is required. */
  | 'FEED_UNSIGNED'
  /** A signature is malformed or does not verify with the key it names. */
  | 'FEED_BAD_SIGNATURE'
  /** Signed by a key the device does not trust, a revoked key, or while the revocation list is unreadable. */
  | 'FEED_UNTRUSTED'
  /** `Packages` (or `Packages.gz`) does not match what `Release` says of it. */
  | 'FEED_HASH_MISMATCH'
  | 'FEED_EXPIRED'
  /** `Release` is dated in the future beyond the allowed clock skew. */
  | 'FEED_NOT_YET_VALID'
  /** `Release` is older than the last one accepted from the feed, or has gone away. */
  | 'FEED_ROLLBACK'
  /** No consistent set of packages does what was asked. */
  | 'FEED_UNRESOLVABLE'
  /** Two requests of the same priority contradict each other. */
  | 'FEED_REQUEST_CONFLICT'
  /** The problem is too large for the resolver. */
  | 'FEED_RESOLVER_LIMIT'
  /** `wmopkg index` cannot build the index (a package that does not read, an unwritable directory). */
  | 'FEED_INDEX_BUILD';

/** Any failure of reading, verifying or resolving a feed. The message is one line. */
export class FeedError extends Error {
  override readonly name: string;
  readonly code: FeedErrorCode;

  constructor(code: FeedErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
