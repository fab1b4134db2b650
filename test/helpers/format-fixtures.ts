// Builds .wmopkg packages and raw ar archives in memory for tests: valid ones, and broken on purpose.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  arHeaderFor,
  type DataEntry,
  generateKeyPair,
  type PackageReading,
  type PackageSpec,
  type PublicKey,
  type ReadOptions,
  readPackage,
  type SecretKey,
  trustStoreOf,
  writePackage,
} from '../../firmware-sim/format/index.js';

/** A vendor key pair for tests, made once per process. */
export const vendor: { publicKey: PublicKey; secretKey: SecretKey } = generateKeyPair('test vendor');

/** A trust store holding only `vendor`. */
export const vendorTrust = trustStoreOf([{ publicKey: vendor.publicKey, source: 'vendor.pub' }]);

/** Control fields of a small valid package. */
export function controlFields(overrides: Record<string, string> = {}): Array<[string, string]> {
  const fields: Record<string, string> = {
    Package: 'hello',
    Version: '1.2.0-r1',
    Architecture: 'all',
    Maintainer: 'Example <dev@example.com>',
    Description: 'Says hello\n A longer description.',
    ...overrides,
  };
  return Object.entries(fields).filter(([, value]) => value !== '');
}

/** A small data tree: a directory, an executable, a symlink. */
export function smallData(): DataEntry[] {
  return [
    { name: './usr/', type: 'directory' },
    { name: './usr/bin/', type: 'directory' },
    { name: './usr/bin/hello', type: 'file', content: '#!/bin/sh\necho hello\n', mode: 0o755 },
    { name: './usr/bin/hi', type: 'symlink', linkname: 'hello' },
  ];
}

/** Writes a package with `writePackage` and returns its bytes. */
export async function packageBytes(spec: Partial<PackageSpec> = {}): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'wmopkg-test-'));
  try {
    const path = join(dir, 'p.wmopkg');
    await writePackage(
      { control: controlFields(), data: smallData(), mtime: 1_700_000_000, sign: vendor.secretKey, ...spec },
      path,
    );
    return await readFile(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads bytes as a package, pushed in chunks of `chunkSize` (streaming must not depend on chunking). */
export async function readBytes(
  bytes: Buffer,
  options: ReadOptions = {},
  chunkSize = 7919,
): Promise<PackageReading> {
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
  }
  return readPackage(chunks(), options);
}

/** One member of a raw ar archive. */
export interface RawMember {
  readonly name: string;
  readonly data: Buffer | string;
  /** Overrides the size field (to lie about the size). */
  readonly sizeField?: string;
}

/** Builds an ar archive byte by byte, with no checks: for malformed cases. */
export function rawAr(members: readonly RawMember[], magic = '!<arch>\n'): Buffer {
  const parts: Buffer[] = [Buffer.from(magic, 'latin1')];
  for (const member of members) {
    const data = Buffer.from(member.data);
    const header = arHeaderFor(member.name, data.length, 0);
    if (member.sizeField !== undefined) header.write(member.sizeField.padEnd(10, ' '), 48, 'latin1');
    parts.push(header, data);
    if (data.length % 2 === 1) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** Splits a valid package into its raw members (ar layout), to rebuild it differently. */
export async function membersOf(bytes: Buffer): Promise<RawMember[]> {
  const reading = await readBytes(bytes);
  return reading.members.map((m) => ({ name: m.name, data: bytes.subarray(m.offset!, m.offset! + m.size) }));
}
