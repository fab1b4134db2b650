// Unlock tokens: a vendor-signed note that lets one device (by serial) turn on allow-untrusted.

import { DeviceError } from '../errors.js';
import {
  checkSignature,
  formatSignature,
  keyNumberHex,
  parsePublicKey,
  parseSignature,
  type SecretKey,
  signMessage,
} from '../format/signify.js';

/** Tokens are tiny; anything bigger is not one. */
export const MAX_TOKEN_BYTES = 4096;

/** What a valid token says. */
export interface UnlockToken {
  readonly serial: string;
  /** Signing key number, 16 hex digits. */
  readonly keyNumber: string;
  /** The token file as it was read (kept in the boot configuration). */
  readonly bytes: Buffer;
}

const SERIAL = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Makes an unlock token for `serial`: a signify signature with the message embedded (`signify -S -e`),
 * message `wmopkg-unlock: 1\nserial: SERIAL\n`. `signify-openbsd -V -e -p vendor.pub -x token.lic -m -`
 * verifies it.
 */
export function makeUnlockToken(secretKey: SecretKey, serial: string): Buffer {
  if (!SERIAL.test(serial)) {
    throw new DeviceError('DEVICE_BAD_TOKEN', `bad serial "${serial}": use letters, digits, . _ -`);
  }
  const message = Buffer.from(`wmopkg-unlock: 1\nserial: ${serial}\n`);
  const signature = signMessage(
    message,
    secretKey,
    `wmopkg unlock token for serial ${serial}, verify with key ${keyNumberHex(secretKey.keyNumber)}`,
  );
  return Buffer.concat([Buffer.from(formatSignature(signature)), message]);
}

/**
 * Checks a token against the anchor key and the device serial; throws `DEVICE_BAD_TOKEN` saying why
 * it is refused.
 */
export function verifyUnlockToken(bytes: Buffer, anchorKey: string, serial: string): UnlockToken {
  const bad = (why: string): never => {
    throw new DeviceError('DEVICE_BAD_TOKEN', `unlock token refused: ${why}`);
  };
  if (bytes.length > MAX_TOKEN_BYTES) bad(`larger than ${MAX_TOKEN_BYTES} bytes, not a token`);
  const first = bytes.indexOf(0x0a);
  const second = first < 0 ? -1 : bytes.indexOf(0x0a, first + 1);
  if (second < 0) bad('not a signed token (expected a signify signature with an embedded message)');
  let signature: ReturnType<typeof parseSignature>;
  try {
    signature = parseSignature(bytes.subarray(0, second + 1));
  } catch (error) {
    return bad((error as Error).message);
  }
  const message = bytes.subarray(second + 1);
  const anchor = parsePublicKey(anchorKey);
  const keyNumber = keyNumberHex(signature.keyNumber);
  const check = checkSignature(message, signature, anchor);
  if (check === 'key-mismatch')
    bad(`signed with key ${keyNumber}, not the vendor key ${keyNumberHex(anchor.keyNumber)}`);
  if (check !== 'valid') bad('signature does not verify with the vendor key');
  const fields = new Map<string, string>();
  for (const line of message.toString('utf8').split('\n')) {
    if (line === '') continue;
    const match = /^([a-z-]+): (.*)$/.exec(line);
    if (!match) bad('malformed token text');
    fields.set(match![1]!, match![2]!);
  }
  if (fields.get('wmopkg-unlock') !== '1') bad('not a wmopkg unlock token (version 1)');
  const named = fields.get('serial');
  if (named !== serial) bad(`issued for serial ${named ?? '(none)'}, this device is ${serial}`);
  return { serial, keyNumber, bytes: Buffer.from(bytes) };
}
