// Test packages made by code with the format writer: ordinary, hostile, signed or not.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { arHeader } from '../../firmware-sim/format/ar.js';
import {
  type DataEntry,
  generateKeyPair,
  type SecretKey,
  signPackageFile,
} from '../../firmware-sim/format/index.js';
import { buildPackage, type TestPackage } from '../../lab/packages.js';

export { buildPackage, dir, file, type TestPackage } from '../../lab/packages.js';

/** A key nobody trusts. */
export function strangerKey(): SecretKey {
  return generateKeyPair('stranger').secretKey;
}

/** Flips one byte of a file at `offset` (tampering in the store). */
export async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = bytes[offset]! ^ 0xff;
  await writeFile(path, bytes);
}

/** Offset of the content of ar member `member` in a package file. */
export async function memberOffset(path: string, member: string): Promise<number> {
  const bytes = await readFile(path);
  let at = 8;
  while (at + 60 <= bytes.length) {
    const name = bytes
      .toString('latin1', at, at + 16)
      .trim()
      .replace(/\/$/, '');
    const size = Number(bytes.toString('latin1', at + 48, at + 58).trim());
    if (name === member) return at + 60;
    at += 60 + size + (size % 2);
  }
  throw new Error(`no member ${member} in ${path}`);
}

/** SHA-256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** The members of an ar-layout package file, in order. */
export async function readArMembers(path: string): Promise<Array<{ name: string; data: Buffer }>> {
  const bytes = await readFile(path);
  const members: Array<{ name: string; data: Buffer }> = [];
  let at = 8;
  while (at + 60 <= bytes.length) {
    const name = bytes
      .toString('latin1', at, at + 16)
      .trim()
      .replace(/\/$/, '');
    const size = Number(bytes.toString('latin1', at + 48, at + 58).trim());
    members.push({ name, data: bytes.subarray(at + 60, at + 60 + size) });
    at += 60 + size + (size % 2);
  }
  return members;
}

/**
 * A package whose data.tar.gz is given as bytes (archives the writer would take too long to make
 * entry by entry); signed over the new members when `sign` is given.
 */
export async function buildPackageWithData(
  dir: string,
  spec: TestPackage,
  dataTarGz: Buffer,
): Promise<string> {
  const { sign, ...unsigned } = spec;
  const path = await buildPackage(dir, { ...unsigned, layout: 'deb', data: [dir_('./')] });
  const members = (await readArMembers(path)).map((m) =>
    m.name === 'data.tar.gz' ? { ...m, data: dataTarGz } : m,
  );
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const member of members) {
    parts.push(arHeader(member.name, member.data.length, 1_700_000_000), member.data);
    if (member.data.length % 2 === 1) parts.push(Buffer.from('\n'));
  }
  await writeFile(path, Buffer.concat(parts));
  if (sign) await signPackageFile(path, sign);
  return path;
}

const dir_ = (name: string): DataEntry => ({ name, type: 'directory', mode: 0o755 });

/** A data.tar.gz of `count` entries, all the same directory `./opt/`: cheap to make, costly to trust. */
export async function repeatedEntryTarGz(count: number): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  pack.entry({ name: './opt/', type: 'directory', mode: 0o755, mtime: new Date(1_700_000_000_000) });
  pack.finalize();
  await collected;
  const header = Buffer.concat(chunks).subarray(0, 512);
  return gzipSync(Buffer.concat([...Array.from({ length: count }, () => header), Buffer.alloc(1024)]), {
    level: 9,
  });
}
