// signify/usign keys and signatures: layouts, round trips, encryption, strict parsing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkSignature,
  FormatError,
  formatPublicKey,
  formatSecretKey,
  formatSignature,
  generateKeyPair,
  isEncryptedSecretKey,
  keyNumberHex,
  parsePublicKey,
  parseSecretKey,
  parseSignature,
  publicKeyOf,
  signMessage,
} from '../../../firmware-sim/format/index.js';

const message = Buffer.from('wmopkg-manifest: 1\n');

describe('signify', () => {
  test('public key layout: comment line + base64(Ed ‖ key number ‖ key)', () => {
    const { publicKey } = generateKeyPair('test');
    const text = formatPublicKey(publicKey);
    const [comment, base64, end] = text.split('\n');
    assert.equal(comment, 'untrusted comment: test public key');
    assert.equal(end, '');
    const blob = Buffer.from(base64!, 'base64');
    assert.equal(blob.length, 42);
    assert.equal(blob.subarray(0, 2).toString(), 'Ed');
    assert.ok(blob.subarray(2, 10).equals(publicKey.keyNumber));
    assert.ok(parsePublicKey(text).key.equals(publicKey.key));
  });

  test('unencrypted secret key: rounds 0, checksum, sign and verify', () => {
    const { publicKey, secretKey } = generateKeyPair('test');
    const text = formatSecretKey(secretKey);
    assert.equal(isEncryptedSecretKey(text), false);
    const blob = Buffer.from(text.split('\n')[1]!, 'base64');
    assert.equal(blob.length, 104);
    assert.equal(blob.subarray(0, 4).toString(), 'EdBK');
    assert.equal(blob.readUInt32BE(4), 0);
    const back = parseSecretKey(text);
    assert.ok(back.secret.equals(secretKey.secret));
    assert.ok(publicKeyOf(back).key.equals(publicKey.key));
    const signature = parseSignature(formatSignature(signMessage(message, back)));
    assert.equal(signature.signature.length, 64);
    assert.equal(checkSignature(message, signature, publicKey), 'valid');
    assert.equal(checkSignature(Buffer.from('other'), signature, publicKey), 'invalid');
  });

  test('encrypted secret key: the right passphrase opens it, a wrong or missing one is refused', () => {
    const { secretKey } = generateKeyPair('test');
    const text = formatSecretKey(secretKey, 'correct horse', 2);
    assert.equal(isEncryptedSecretKey(text), true);
    assert.ok(parseSecretKey(text, 'correct horse').secret.equals(secretKey.secret));
    for (const passphrase of [undefined, 'wrong']) {
      assert.throws(
        () => parseSecretKey(text, passphrase),
        (e: unknown) =>
          e instanceof FormatError &&
          e.code === 'WMOPKG_BAD_PASSPHRASE' &&
          !e.message.includes('correct horse'),
      );
    }
  });

  test('a signature names the key number; another key is a mismatch', () => {
    const a = generateKeyPair('a');
    const b = generateKeyPair('b');
    const signature = signMessage(message, a.secretKey);
    assert.equal(keyNumberHex(signature.keyNumber), keyNumberHex(a.publicKey.keyNumber));
    assert.equal(checkSignature(message, signature, b.publicKey), 'key-mismatch');
  });

  const { publicKey } = generateKeyPair('x');
  const good = formatPublicKey(publicKey);
  const [commentLine, base64] = good.split('\n') as [string, string];
  const bad: Array<[string, string]> = [
    ['no comment line', `${base64}\n`],
    ['wrong comment prefix', `comment: x\n${base64}\n`],
    ['no final newline', `${commentLine}\n${base64}`],
    ['an extra line', `${good}extra\n`],
    ['not base64', `${commentLine}\n${base64.replace(/.$/, '!')}\n`],
    ['too short', `${commentLine}\n${Buffer.from('Ed12345678').toString('base64')}\n`],
    [
      'wrong algorithm',
      `${commentLine}\n${Buffer.concat([Buffer.from('Xx'), Buffer.from(base64, 'base64').subarray(2)]).toString('base64')}\n`,
    ],
    ['control character in the comment', `untrusted comment: a\u001bb\n${base64}\n`],
    ['a huge comment', `untrusted comment: ${'a'.repeat(2000)}\n${base64}\n`],
  ];
  for (const [title, text] of bad) {
    test(`refuses a public key with ${title}`, () => {
      assert.throws(
        () => parsePublicKey(text),
        (e: unknown) => e instanceof FormatError && e.code === 'WMOPKG_BAD_KEY' && !e.message.includes('\n'),
      );
    });
  }
});
