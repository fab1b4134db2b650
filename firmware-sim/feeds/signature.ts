// Detached signify/usign signatures of feed files (`Packages.sig`, `Release.sig`), checked against the trust store.
import {
  checkSignature,
  keyNumberHex,
  parseSignature,
  type Signature,
  type TrustStore,
} from '../format/index.js';
import { FeedError } from './errors.js';

/** The key that signed a file, and where the device found it. */
export interface SignedBy {
  readonly keyNumber: string;
  readonly source: string;
}

/**
 * Verifies `signature` (the bytes of `NAME.sig`) over `message` with the device's trusted keys.
 * Refuses, with the file named: a missing signature (`FEED_UNSIGNED`), a malformed one or one that
 * does not verify (`FEED_BAD_SIGNATURE`), a revoked or unknown key or an unreadable revocation
 * list (`FEED_UNTRUSTED`: fail closed, as packages do).
 */
export function verifyDetached(
  name: string,
  message: Uint8Array,
  signature: Uint8Array | undefined,
  trust: TrustStore,
): SignedBy {
  if (signature === undefined) {
    throw new FeedError('FEED_UNSIGNED', `${name}.sig is missing: the feed is not signed`);
  }
  let parsed: Signature;
  try {
    parsed = parseSignature(signature);
  } catch (error) {
    throw new FeedError('FEED_BAD_SIGNATURE', `${name}.sig: ${(error as Error).message}`);
  }
  const keyNumber = keyNumberHex(parsed.keyNumber);
  if (trust.revoked.has(keyNumber)) {
    throw new FeedError('FEED_UNTRUSTED', `${name}.sig: signed by revoked key ${keyNumber}`);
  }
  const key = trust.keys.get(keyNumber);
  if (key === undefined) {
    throw new FeedError(
      'FEED_UNTRUSTED',
      `${name}.sig: signed by unknown key ${keyNumber} (add its public key to etc/wmopkg/keys)`,
    );
  }
  if (checkSignature(message, parsed, key.publicKey) !== 'valid') {
    throw new FeedError(
      'FEED_BAD_SIGNATURE',
      `${name}.sig does not verify with key ${keyNumber}: ${name} was changed after signing`,
    );
  }
  const unreadable = trust.revocationProblems?.[0];
  if (unreadable !== undefined) {
    throw new FeedError(
      'FEED_UNTRUSTED',
      `${name}.sig: revocation list unreadable (${unreadable.where}); no signature is trusted until it is fixed`,
    );
  }
  return { keyNumber, source: key.source };
}
