// Verification of a package read by the reader: identity, member digests, signature, trust.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Verification } from '../../common/vocabulary.js';
import { MEMBER, type PackageReading } from './reader.js';
import { checkSignature, keyNumberHex, type PublicKey, parsePublicKey } from './signify.js';

/** Start of the reason of a verdict that a damaged revocation list turned from Signed to Untrusted. */
export const REVOCATION_UNREADABLE = 'revocation list unreadable';

/** Larger files in a keys directory are not key files. */
const MAX_KEY_FILE_BYTES = 4096;

/** A key the device trusts, and where it was found. */
export interface TrustedKey {
  readonly keyNumber: string;
  readonly publicKey: PublicKey;
  readonly source: string;
}

/** A line of the revocation list that cannot be read: `where` is `etc/wmopkg/revoked line 3`. */
export interface RevocationProblem {
  readonly where: string;
  readonly why: string;
}

/** Trusted keys by key number (16 hex digits), revoked key numbers, and what could not be read. */
export interface TrustStore {
  readonly keys: ReadonlyMap<string, TrustedKey>;
  readonly revoked: ReadonlySet<string>;
  /**
   * One line per key file that could not be read (that key is simply not trusted: safe), and, for
   * the log, one per unreadable line of the revocation list.
   */
  readonly problems: readonly string[];
  /**
   * Lines of the revocation list that could not be read. The list is a security control and fails
   * closed: while there is one, no signature counts as trusted (`Signed` becomes `Untrusted`,
   * reason `revocation list unreadable: etc/wmopkg/revoked line 3`). Absent means none.
   */
  readonly revocationProblems?: readonly RevocationProblem[];
}

/** The verdict on one package. */
export interface Verdict {
  readonly status: Verification;
  /** Why, in words: `signature valid (key 0123456789abcdef)`, `digest mismatch: data.tar.gz`. */
  readonly reason: string;
  /** Key number of the signature, when there is one. */
  readonly keyNumber?: string;
}

/** Builds a trust store from keys in memory (e.g. `wmopkg verify -p KEY.pub`). */
export function trustStoreOf(
  keys: Iterable<{ publicKey: PublicKey; source: string }>,
  revoked: Iterable<string> = [],
) {
  const map = new Map<string, TrustedKey>();
  const problems: string[] = [];
  for (const { publicKey, source } of keys) {
    const keyNumber = keyNumberHex(publicKey.keyNumber);
    const existing = map.get(keyNumber);
    if (existing && !existing.publicKey.key.equals(publicKey.key)) {
      problems.push(
        `${source}: key number ${keyNumber} already used by ${existing.source} for another key; ignored`,
      );
      continue;
    }
    if (!existing) map.set(keyNumber, { keyNumber, publicKey, source });
  }
  return { keys: map, revoked: new Set(revoked), problems } satisfies TrustStore;
}

/**
 * Reads a keys directory (every regular file a signify public key, any name) and a revocation file
 * (`parseRevocationList`). A missing directory or file means none. `revokedName` is how messages
 * name the revocation file (the device says `etc/wmopkg/revoked`); by default its path.
 */
export async function loadTrustStore(
  keysDir: string,
  revokedFile?: string,
  revokedName: string = revokedFile ?? '',
): Promise<TrustStore> {
  const problems: string[] = [];
  const keys: Array<{ publicKey: PublicKey; source: string }> = [];
  const entries = await readdir(keysDir, { withFileTypes: true }).catch(ignoreMissing);
  for (const entry of (entries ?? []).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    const source = join(keysDir, entry.name);
    try {
      // A key file is two short lines; never read a large file whole.
      if ((await stat(source)).size > MAX_KEY_FILE_BYTES)
        throw new Error('not a public key file (too large)');
      keys.push({ publicKey: parsePublicKey(await readFile(source)), source });
    } catch (error) {
      problems.push(`${source}: ${(error as Error).message}; ignored`);
    }
  }
  let revoked: string[] = [];
  const revocationProblems: RevocationProblem[] = [];
  if (revokedFile !== undefined) {
    let text: string | undefined;
    try {
      text = await readFile(revokedFile, 'utf8');
    } catch (error) {
      // Missing: nothing revoked. Present but unreadable: fail closed like a bad line.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        const why = /^E[A-Z0-9]+: ([^,]+)/.exec((error as Error).message)?.[1] ?? (error as Error).message;
        revocationProblems.push({ where: revokedName, why: `cannot be read: ${why}` });
      }
    }
    const list = parseRevocationList(text ?? '', revokedName);
    revoked = list.revoked;
    revocationProblems.push(...list.unreadable);
  }
  const store = trustStoreOf(keys, revoked);
  return {
    ...store,
    problems: [
      ...problems,
      ...store.problems,
      ...revocationProblems.map((p) => `${p.where}: ${p.why}; no signature is trusted until it is fixed`),
    ],
    ...(revocationProblems.length > 0 ? { revocationProblems } : {}),
  };
}

/** A key number in the revocation list: 16 hex digits, `0x` in front allowed, any letter case. */
const REVOKED_LINE = /^(?:0x)?([0-9a-f]{16})$/;

/**
 * Parses a revocation list: one key number per line (16 hex digits, optionally `0x` in front, any
 * letter case, blanks around it), `#` starts a comment, blank lines are skipped. Any other line is
 * in `unreadable` (and, as a warning text, in `problems`): the caller must fail closed on it.
 */
export function parseRevocationList(
  text: string,
  source: string,
): { revoked: string[]; problems: string[]; unreadable: RevocationProblem[] } {
  const revoked: string[] = [];
  const unreadable: RevocationProblem[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim().toLowerCase();
    if (line === '') continue;
    const match = REVOKED_LINE.exec(line);
    if (match) revoked.push(match[1]!);
    else
      unreadable.push({
        where: `${source} line ${index + 1}`,
        why: 'expected a key number of 16 hex digits',
      });
  }
  return { revoked, problems: unreadable.map((p) => `${p.where}: ${p.why}`), unreadable };
}

function ignoreMissing(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT') return undefined;
  throw error;
}

/**
 * Decides Signed / Untrusted / Unsigned / Invalid (SPEC §4.3). With `requiredKey`, the signature
 * must name that key (`wmopkg verify -p`): another key number is a mismatch, hence Invalid.
 */
export function verifyPackage(reading: PackageReading, trust: TrustStore, requiredKey?: string): Verdict {
  const { manifest, signature, control } = reading;
  if (!manifest) return { status: 'Unsigned', reason: 'no signature (package has no _manifest)' };
  const m = manifest.parsed;
  for (const [field, mine, theirs] of [
    ['package', m.package, control.package],
    ['version', m.version, control.version],
    ['architecture', m.architecture, control.architecture],
  ] as const) {
    if (mine !== theirs) {
      return { status: 'Invalid', reason: `manifest is for ${field} "${mine}", control says "${theirs}"` };
    }
  }
  const covered = reading.members.filter((x) => x.name !== MEMBER.manifest && x.name !== MEMBER.signature);
  const listed = m.members;
  if (listed.map((x) => x.name).join(' ') !== covered.map((x) => x.name).join(' ')) {
    return {
      status: 'Invalid',
      reason: `manifest lists ${listed.map((x) => x.name).join(', ') || 'no members'}, archive has ${covered.map((x) => x.name).join(', ')}`,
    };
  }
  for (const [i, member] of covered.entries()) {
    const entry = listed[i]!;
    if (entry.size !== member.size || entry.sha256 !== member.sha256) {
      return { status: 'Invalid', reason: `digest mismatch: ${member.name} (tampered or corrupt)` };
    }
  }
  if (!signature) return { status: 'Unsigned', reason: 'no signature (_manifest.sig missing)' };
  const keyNumber = keyNumberHex(signature.parsed.keyNumber);
  if (requiredKey !== undefined && requiredKey !== keyNumber) {
    return {
      status: 'Invalid',
      reason: `key number mismatch: signed with key ${keyNumber}, the key given is ${requiredKey}`,
      keyNumber,
    };
  }
  const key = trust.keys.get(keyNumber);
  if (key) {
    const check = checkSignature(manifest.bytes, signature.parsed, key.publicKey);
    if (check !== 'valid') {
      return { status: 'Invalid', reason: `signature does not verify with key ${keyNumber}`, keyNumber };
    }
  }
  if (trust.revoked.has(keyNumber))
    return { status: 'Untrusted', reason: `signed by revoked key ${keyNumber}`, keyNumber };
  if (!key) return { status: 'Untrusted', reason: `signed by unknown key ${keyNumber}`, keyNumber };
  const unreadable = trust.revocationProblems?.[0];
  if (unreadable !== undefined) {
    // Whether this key is revoked cannot be known: fail closed.
    return { status: 'Untrusted', reason: `${REVOCATION_UNREADABLE}: ${unreadable.where}`, keyNumber };
  }
  return { status: 'Signed', reason: `signature valid (key ${keyNumber})`, keyNumber };
}
