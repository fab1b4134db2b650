// The package keys the device trusts (`etc/wmopkg/keys/`) and the ones it revoked (`etc/wmopkg/revoked`).
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, writeFileAtomic } from '../../common/atomic.js';
import { shown } from '../../common/text.js';
import type { TrustedKeyInfo, TrustedKeys } from '../api.js';
import { DeviceError, shownPath } from '../errors.js';
import { formatPublicKey, keyNumberHex, type PublicKey, parsePublicKey } from '../format/signify.js';
import { parseRevocationList } from '../format/verify.js';
import { type Layout, REVOKED_LIST_NAME } from '../state/layout.js';
import type { DeviceFile } from './device-file.js';

/** A key file is two short lines; a larger file is not one. */
export const MAX_KEY_BYTES = 4096;

/** A key number as the trust commands take it: 16 hex digits, lower case. */
const KEY_NUMBER = /^[0-9a-f]{16}$/;

/** One readable key file. */
interface KeyFile {
  readonly name: string;
  readonly key: PublicKey;
}

/** The key files of `etc/wmopkg/keys/` in name order, and the ones that are not keys. */
async function keyFiles(layout: Layout): Promise<{ files: KeyFile[]; problems: string[] }> {
  const files: KeyFile[] = [];
  const problems: string[] = [];
  const entries = await readdir(layout.keysDir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    const path = join(layout.keysDir, entry.name);
    try {
      if ((await stat(path)).size > MAX_KEY_BYTES) throw new Error('not a public key file (too large)');
      files.push({ name: entry.name, key: parsePublicKey(await readFile(path)) });
    } catch (error) {
      problems.push(`${shownPath(path, layout.root)}: ${(error as Error).message}; ignored`);
    }
  }
  return { files, problems };
}

/** The revocation list as written, and its key numbers. */
async function revocations(layout: Layout): Promise<{ text: string; revoked: string[]; problems: string[] }> {
  const text = await readFile(layout.revokedFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const list = parseRevocationList(text, REVOKED_LIST_NAME);
  return { text, revoked: list.revoked, problems: list.problems };
}

function infoOf(layout: Layout, file: KeyFile, revoked: ReadonlySet<string>, anchor: string): TrustedKeyInfo {
  const keyNumber = keyNumberHex(file.key.keyNumber);
  return {
    keyNumber,
    file: shownPath(join(layout.keysDir, file.name), layout.root),
    comment: file.key.comment,
    revoked: revoked.has(keyNumber),
    anchor: keyNumber === anchor,
  };
}

/** Every key file, whether its key is revoked, and the revocation list. */
export async function listKeys(layout: Layout, device: DeviceFile): Promise<TrustedKeys> {
  const [{ files, problems }, list] = await Promise.all([keyFiles(layout), revocations(layout)]);
  const revoked = new Set(list.revoked);
  const anchor = keyNumberHex(parsePublicKey(device.anchorKey).keyNumber);
  return {
    keys: files.map((f) => infoOf(layout, f, revoked, anchor)),
    revoked: list.revoked,
    problems: [...problems, ...list.problems],
  };
}

/** Checks a key number typed by the operator; throws `DEVICE_BAD_TRUST` saying what a key number is. */
export function checkKeyNumber(keyNumber: string): void {
  if (!KEY_NUMBER.test(keyNumber)) {
    throw new DeviceError(
      'DEVICE_BAD_TRUST',
      `bad key number "${shown(keyNumber)}": expected 16 hex digits, e.g. 0123456789abcdef`,
    );
  }
}

/**
 * Adds a signify public key as `etc/wmopkg/keys/KEYNUMBER.pub`. A key already trusted, or another key
 * under the same number (two keys one number would make signatures ambiguous), is refused.
 */
export async function addKey(
  layout: Layout,
  device: DeviceFile,
  bytes: Buffer,
): Promise<{ readonly info: TrustedKeyInfo; readonly event: string }> {
  let key: PublicKey;
  try {
    key = parsePublicKey(bytes);
  } catch (error) {
    throw new DeviceError('DEVICE_BAD_TRUST', `not a signify public key: ${(error as Error).message}`);
  }
  const keyNumber = keyNumberHex(key.keyNumber);
  const { files } = await keyFiles(layout);
  const same = files.find((f) => keyNumberHex(f.key.keyNumber) === keyNumber);
  if (same !== undefined) {
    const where = shownPath(join(layout.keysDir, same.name), layout.root);
    throw new DeviceError(
      'DEVICE_BAD_TRUST',
      same.key.key.equals(key.key)
        ? `key ${keyNumber} is trusted already (${where})`
        : `another key with the number ${keyNumber} is trusted (${where}); remove it first (no key ${keyNumber})`,
    );
  }
  const name = `${keyNumber}.pub`;
  await mkdir(layout.keysDir, { recursive: true });
  await writeFileAtomic(join(layout.keysDir, name), formatPublicKey(key));
  const { revoked } = await revocations(layout);
  const anchor = keyNumberHex(parsePublicKey(device.anchorKey).keyNumber);
  const info = infoOf(layout, { name, key }, new Set(revoked), anchor);
  return { info, event: `key ${keyNumber} added (${info.file}): ${key.comment}` };
}

/** Removes every key file holding `keyNumber`; `DEVICE_NOT_TRUSTED` when there is none. */
export async function removeKey(
  layout: Layout,
  device: DeviceFile,
  keyNumber: string,
): Promise<{ readonly removed: TrustedKeyInfo[]; readonly event: string }> {
  checkKeyNumber(keyNumber);
  const { keys } = await listKeys(layout, device);
  const removed = keys.filter((k) => k.keyNumber === keyNumber);
  if (removed.length === 0) {
    throw new DeviceError('DEVICE_NOT_TRUSTED', `no trusted key ${keyNumber} (see show keys)`);
  }
  for (const key of removed) await unlink(join(layout.root, key.file));
  await syncDirectory(layout.keysDir);
  return { removed, event: `key ${keyNumber} removed (${removed.map((k) => k.file).join(', ')})` };
}

/**
 * Adds `keyNumber` to the revocation list (rewritten whole, atomically; lines it cannot read are kept as
 * they are, so that the list still fails closed). A number that is listed already changes nothing.
 */
export async function revokeKey(
  layout: Layout,
  keyNumber: string,
  by: string,
): Promise<{ readonly added: boolean; readonly event?: string }> {
  checkKeyNumber(keyNumber);
  const { text, revoked } = await revocations(layout);
  if (revoked.includes(keyNumber)) return { added: false };
  // The comment names who revoked it and when; a user name is kept to safe characters (it ends a line).
  const who = by.replace(/[^A-Za-z0-9._@-]/g, '?');
  const line = `${keyNumber}  # revoked by ${who}, ${new Date().toISOString()}\n`;
  await writeFileAtomic(
    layout.revokedFile,
    text === '' || text.endsWith('\n') ? text + line : `${text}\n${line}`,
  );
  return { added: true, event: `key ${keyNumber} revoked (${REVOKED_LIST_NAME})` };
}
