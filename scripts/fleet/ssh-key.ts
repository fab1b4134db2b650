// Ed25519 key pairs in OpenSSH's own format, made with node:crypto (for the host keys of a fleet).
import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** An OpenSSH key pair: the private key file's text and the public key line. */
export interface OpenSshKeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----…`, unencrypted. */
  readonly private: string;
  /** `ssh-ed25519 AAAA… comment`. */
  readonly public: string;
}

/** SSH wire `string`: a 32-bit big-endian length, then the bytes. */
function sshString(bytes: Buffer | string): Buffer {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

/**
 * A new Ed25519 key pair in the format of `ssh-keygen -t ed25519 -N ''` (PROTOCOL.key of OpenSSH:
 * `openssh-key-v1`, cipher and KDF `none`). Written here because ssh2's generator drops a leading
 * zero byte of the public key, which makes one key in 256 unreadable for OpenSSH, and a hundred
 * ssh-keygen processes cost seconds on two busy cores.
 */
export function ed25519KeyPair(comment: string): OpenSshKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // JWK gives both halves as exactly 32 bytes, leading zeros kept.
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const type = 'ssh-ed25519';
  const publicBlob = Buffer.concat([sshString(type), sshString(pub)]);
  const check = randomBytes(4);
  const secret = [
    check,
    check,
    sshString(type),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ];
  const length = secret.reduce((n, b) => n + b.length, 0);
  // Padded to the cipher's block size (8 for `none`) with the bytes 1, 2, 3, …
  const padding = Buffer.from(Array.from({ length: (8 - (length % 8)) % 8 }, (_, i) => i + 1));
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    Buffer.from([0, 0, 0, 1]),
    sshString(publicBlob),
    sshString(Buffer.concat([...secret, padding])),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return {
    private: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    public: `${type} ${publicBlob.toString('base64')} ${comment}`,
  };
}
