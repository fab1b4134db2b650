// OpenBSD signify / OpenWrt usign Ed25519 keys and signatures, byte for byte compatible.
import { createRequire } from 'node:module';
import { nodeCrypto, randomBytes } from '../../common/lazy-crypto.js';
import { FormatError } from './errors.js';

/** `Ed`: the only public-key algorithm of signify. */
const PKALG = Buffer.from('Ed');
/** `BK`: bcrypt_pbkdf, the only key derivation of signify. */
const KDFALG = Buffer.from('BK');
const COMMENT_PREFIX = 'untrusted comment: ';
/** signify's COMMENTMAXLEN. */
const COMMENT_MAX = 1024;
/** Rounds signify uses for a new encrypted key. */
export const DEFAULT_KDF_ROUNDS = 42;

const PUBLIC_LEN = 2 + 8 + 32;
const SIGNATURE_LEN = 2 + 8 + 64;
const SECRET_LEN = 2 + 2 + 4 + 16 + 8 + 8 + 64;
const KIND_BY_LENGTH: Readonly<Record<number, string>> = {
  [PUBLIC_LEN]: 'public key',
  [SIGNATURE_LEN]: 'signature',
  [SECRET_LEN]: 'secret key',
};

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** A public key file: `untrusted comment: …` + base64(`Ed` ‖ key number ‖ 32-byte key). */
export interface PublicKey {
  readonly comment: string;
  readonly keyNumber: Buffer;
  readonly key: Buffer;
}

/** A decrypted secret key: 64 bytes as NaCl keeps them (seed ‖ public key). */
export interface SecretKey {
  readonly comment: string;
  readonly keyNumber: Buffer;
  readonly secret: Buffer;
}

/** A signature file: `untrusted comment: …` + base64(`Ed` ‖ key number ‖ 64-byte signature). */
export interface Signature {
  readonly comment: string;
  readonly keyNumber: Buffer;
  readonly signature: Buffer;
}

/** Key numbers are shown and listed as 16 lower-case hex digits. */
export function keyNumberHex(keyNumber: Uint8Array): string {
  return Buffer.from(keyNumber).toString('hex');
}

/** Parses a public key file. */
export function parsePublicKey(text: string | Uint8Array): PublicKey {
  const { comment, blob } = readBase64File(text, 'public key', PUBLIC_LEN);
  return { comment, keyNumber: blob.subarray(2, 10), key: blob.subarray(10, 42) };
}

/** Parses a signature file (exactly a comment line and a base64 line). */
export function parseSignature(text: string | Uint8Array): Signature {
  const { comment, blob } = readBase64File(text, 'signature', SIGNATURE_LEN, 'WMOPKG_BAD_SIGNATURE');
  return { comment, keyNumber: blob.subarray(2, 10), signature: blob.subarray(10, 74) };
}

/** Whether a secret key file is protected by a passphrase (its KDF rounds are not 0). */
export function isEncryptedSecretKey(text: string | Uint8Array): boolean {
  const { blob } = readBase64File(text, 'secret key', SECRET_LEN);
  return blob.readUInt32BE(4) !== 0;
}

/**
 * Parses and, if needed, decrypts a secret key file. An encrypted key without `passphrase`, or with
 * a wrong one, throws `WMOPKG_BAD_PASSPHRASE`.
 */
export function parseSecretKey(text: string | Uint8Array, passphrase?: string): SecretKey {
  const { comment, blob } = readBase64File(text, 'secret key', SECRET_LEN);
  if (!blob.subarray(2, 4).equals(KDFALG)) {
    throw new FormatError('WMOPKG_BAD_KEY', 'secret key: unknown key derivation (expected BK)');
  }
  const rounds = blob.readUInt32BE(4);
  const salt = blob.subarray(8, 24);
  const checksum = blob.subarray(24, 32);
  const keyNumber = Buffer.from(blob.subarray(32, 40));
  const secret = Buffer.from(blob.subarray(40, 104));
  if (rounds > 0) {
    if (passphrase === undefined) {
      throw new FormatError(
        'WMOPKG_BAD_PASSPHRASE',
        'secret key is protected by a passphrase: give the passphrase',
      );
    }
    xorInPlace(secret, derive(passphrase, salt, rounds));
  }
  if (!sha512(secret).subarray(0, 8).equals(checksum)) {
    throw new FormatError(
      'WMOPKG_BAD_PASSPHRASE',
      rounds > 0 ? 'secret key: incorrect passphrase' : 'secret key: checksum mismatch (corrupt key file)',
    );
  }
  return { comment, keyNumber, secret };
}

/** The public key that belongs to a secret key. */
export function publicKeyOf(secretKey: SecretKey, comment = 'signify public key'): PublicKey {
  return { comment, keyNumber: secretKey.keyNumber, key: Buffer.from(secretKey.secret.subarray(32, 64)) };
}

/** Makes a new key pair with a random key number, as `signify -G` does. */
export function generateKeyPair(comment = 'signify'): { publicKey: PublicKey; secretKey: SecretKey } {
  const { privateKey, publicKey } = nodeCrypto().generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const key = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const keyNumber = randomBytes(8);
  return {
    publicKey: { comment: `${comment} public key`, keyNumber, key },
    secretKey: { comment: `${comment} secret key`, keyNumber, secret: Buffer.concat([seed, key]) },
  };
}

/** Formats a public key file. */
export function formatPublicKey(publicKey: PublicKey): string {
  return writeBase64File(publicKey.comment, Buffer.concat([PKALG, publicKey.keyNumber, publicKey.key]));
}

/** Formats a signature file. */
export function formatSignature(signature: Signature): string {
  return writeBase64File(signature.comment, Buffer.concat([PKALG, signature.keyNumber, signature.signature]));
}

/**
 * Formats a secret key file, encrypted with bcrypt_pbkdf when a passphrase is given (as signify
 * does, `rounds` 42 by default), else with rounds 0.
 */
export function formatSecretKey(
  secretKey: SecretKey,
  passphrase?: string,
  rounds = DEFAULT_KDF_ROUNDS,
): string {
  const salt = randomBytes(16);
  const kdfRounds = passphrase === undefined ? 0 : rounds;
  const checksum = sha512(secretKey.secret).subarray(0, 8);
  const secret = Buffer.from(secretKey.secret);
  if (kdfRounds > 0) xorInPlace(secret, derive(passphrase!, salt, kdfRounds));
  const roundsField = Buffer.alloc(4);
  roundsField.writeUInt32BE(kdfRounds);
  const blob = Buffer.concat([PKALG, KDFALG, roundsField, salt, checksum, secretKey.keyNumber, secret]);
  return writeBase64File(secretKey.comment, blob);
}

/** Signs a message (the bytes themselves, as signify does without -e/-z). */
export function signMessage(message: Uint8Array, secretKey: SecretKey, comment?: string): Signature {
  const key = nodeCrypto().createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, secretKey.secret.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
  return {
    comment: comment ?? `verify with key ${keyNumberHex(secretKey.keyNumber)}`,
    keyNumber: secretKey.keyNumber,
    signature: nodeCrypto().sign(null, message, key),
  };
}

/** Verdict of checking one signature with one public key. */
export type SignatureCheck = 'valid' | 'invalid' | 'key-mismatch';

/** Checks a signature: `key-mismatch` if it names another key number, else the Ed25519 verdict. */
export function checkSignature(
  message: Uint8Array,
  signature: Signature,
  publicKey: PublicKey,
): SignatureCheck {
  if (!signature.keyNumber.equals(publicKey.keyNumber)) return 'key-mismatch';
  const key = nodeCrypto().createPublicKey({
    key: Buffer.concat([SPKI_ED25519, publicKey.key]),
    format: 'der',
    type: 'spki',
  });
  return nodeCrypto().verify(null, message, key, signature.signature) ? 'valid' : 'invalid';
}

function sha512(data: Uint8Array): Buffer {
  return nodeCrypto().createHash('sha512').update(data).digest();
}

function xorInPlace(target: Buffer, mask: Uint8Array): void {
  for (let i = 0; i < target.length; i++) target[i]! ^= mask[i]!;
}

type Pbkdf = (
  pass: Uint8Array,
  passlen: number,
  salt: Uint8Array,
  saltlen: number,
  key: Uint8Array,
  keylen: number,
  rounds: number,
) => number;

/** bcrypt_pbkdf as signify and OpenSSH use it (loaded only when a key is encrypted). */
function derive(passphrase: string, salt: Uint8Array, rounds: number): Uint8Array {
  const { pbkdf } = createRequire(import.meta.url)('bcrypt-pbkdf') as { pbkdf: Pbkdf };
  const pass = Buffer.from(passphrase, 'utf8');
  const out = new Uint8Array(64);
  if (pbkdf(pass, pass.length, salt, salt.length, out, out.length, rounds) !== 0) {
    throw new FormatError('WMOPKG_BAD_KEY', 'secret key: key derivation failed');
  }
  return out;
}

function writeBase64File(comment: string, blob: Buffer): string {
  return `${COMMENT_PREFIX}${comment}\n${blob.toString('base64')}\n`;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** signify's readb64file: a comment line, a base64 line of exactly the expected length, nothing else. */
function readBase64File(
  input: string | Uint8Array,
  what: string,
  length: number,
  code: 'WMOPKG_BAD_KEY' | 'WMOPKG_BAD_SIGNATURE' = 'WMOPKG_BAD_KEY',
): { comment: string; blob: Buffer } {
  const bad = (why: string): never => {
    throw new FormatError(code, `${what}: ${why}`);
  };
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  if (text.length > COMMENT_MAX + 256) bad('file too large');
  const lines = text.split('\n');
  if (lines.length !== 3 || lines[2] !== '') bad('expected a comment line and one base64 line');
  const [commentLine, base64] = lines as [string, string];
  if (!commentLine.startsWith(COMMENT_PREFIX)) bad(`first line must start with "${COMMENT_PREFIX.trim()}"`);
  const comment = commentLine.slice(COMMENT_PREFIX.length);
  if (comment.length >= COMMENT_MAX) bad('comment too long');
  if (/[\u0000-\u001f\u007f]/.test(comment)) bad('control character in the comment');
  if (!BASE64.test(base64)) bad('invalid base64');
  const blob = Buffer.from(base64, 'base64');
  if (blob.toString('base64') !== base64) bad('invalid base64');
  if (blob.length !== length) {
    // The usual mistake is the wrong one of the three files: say which one it is.
    const kind = KIND_BY_LENGTH[blob.length];
    bad(kind ? `this is a ${kind}, not a ${what}` : `invalid length (expected ${length} bytes)`);
  }
  if (!blob.subarray(0, 2).equals(PKALG)) bad('unsupported algorithm (expected Ed)');
  return { comment, blob };
}
