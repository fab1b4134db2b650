// Unlock tokens: a vendor-signed note that lets one device (by serial) turn on allow-untrusted.

import { shown } from '../../common/text.js';
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

/** The fields a version 1 token has, each exactly once. */
const TOKEN_FIELDS = ['wmopkg-unlock', 'serial'] as const;

/**
 * The fields of a token's signed text: one `name: value` per line, each known field exactly once. A
 * repeated field is refused rather than letting the last one win (two `serial:` lines would otherwise
 * let one signed text be read two ways), and so is an unknown one (a future condition such as an
 * expiry must not be silently ignored by a device that does not know it).
 */
function tokenFields(text: string, bad: (why: string) => never): Map<string, string> {
  const fields = new Map<string, string>();
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  for (const [index, line] of lines.entries()) {
    const match = /^([a-z][a-z0-9-]*): (.*)$/.exec(line);
    if (!match) bad(`malformed token text (line ${index + 1} is not "field: value")`);
    const [, name, value] = match!;
    if (!(TOKEN_FIELDS as readonly string[]).includes(name!)) bad(`unknown field "${shown(name!)}"`);
    if (fields.has(name!)) bad(`field "${name}" appears more than once`);
    fields.set(name!, value!);
  }
  return fields;
}

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
  const fields = tokenFields(message.toString('utf8'), bad);
  if (fields.get('wmopkg-unlock') !== '1') bad('not a wmopkg unlock token (version 1)');
  const named = fields.get('serial');
  if (named !== serial) bad(`issued for serial ${shown(named ?? '(none)')}, this device is ${serial}`);
  return { serial, keyNumber, bytes: Buffer.from(bytes) };
}
