// The vendor's signing key: kept outside the device directory, as a real vendor keeps it off the device.
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import {
  formatPublicKey,
  formatSecretKey,
  generateKeyPair,
  type PublicKey,
  parseSecretKey,
  publicKeyOf,
  type SecretKey,
} from '../format/signify.js';

/** The vendor directory of a device directory when none is given: a sibling, `<dir>.vendor/`. */
export function defaultVendorDir(deviceDir: string): string {
  return `${resolve(deviceDir)}.vendor`;
}

/** The key pair files in a vendor directory. */
export function vendorKeyFiles(vendorDir: string): { secret: string; public: string } {
  return { secret: join(vendorDir, 'vendor.sec'), public: join(vendorDir, 'vendor.pub') };
}

/** The vendor key pair. */
export interface VendorKeys {
  readonly secretKey: SecretKey;
  readonly publicKey: PublicKey;
}

/**
 * Loads the vendor key pair from `vendorDir`, creating it (signify format, unencrypted, mode 0600)
 * when there is none. Several devices may share one vendor directory.
 */
export async function loadOrCreateVendorKeys(vendorDir: string): Promise<VendorKeys> {
  const files = vendorKeyFiles(vendorDir);
  try {
    const secretKey = parseSecretKey(await readFile(files.secret));
    return { secretKey, publicKey: publicKeyOf(secretKey, 'vendor public key') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(vendorDir, { recursive: true, mode: 0o700 });
  const { secretKey, publicKey } = generateKeyPair('vendor');
  await writeFileAtomic(files.public, formatPublicKey(publicKey));
  await writeFileAtomic(files.secret, formatSecretKey(secretKey), 0o600);
  return { secretKey, publicKey };
}

/** Loads the vendor's secret key (to sign an unlock token or packages); throws if there is none. */
export async function loadVendorSecretKey(vendorDir: string): Promise<SecretKey> {
  return parseSecretKey(await readFile(vendorKeyFiles(vendorDir).secret));
}
