// The device's OpenSSH known_hosts: look a server's key up (plain, wildcard and hashed entries) and add one atomically.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What known_hosts says about a key a server presented. */
export type HostKeyVerdict =
  | { readonly status: 'known' }
  /** No entry for this host holds a key of this type (entries of other types may exist, as OpenSSH allows). */
  | { readonly status: 'unknown' }
  /** An entry for this host holds another key of the same type: the key changed. `line` is 1-based. */
  | { readonly status: 'changed'; readonly line: number }
  /** The key is listed under `@revoked`. */
  | { readonly status: 'revoked'; readonly line: number };

/** The key type written inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, …). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const length = blob.readUInt32BE(0);
  return length > blob.length - 4 ? '' : blob.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:` + unpadded base64 of the key blob, as `ssh-keygen -lf` and ssh print it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The name known_hosts files a server under: `host` on port 22, `[host]:port` on any other. */
export function knownHostName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

interface Entry {
  readonly line: number;
  readonly marker: string | undefined;
  readonly patterns: string;
  readonly blob: Buffer;
}

/** Entries of a known_hosts text; comments, blank and unparsable lines are skipped. */
function* entries(content: string): Generator<Entry> {
  const lines = content.split('\n');
  for (const [i, raw] of lines.entries()) {
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) continue;
    const fields = text.split(/\s+/);
    const marker = fields[0]?.startsWith('@') ? fields.shift() : undefined;
    const [patterns, , key] = fields;
    if (patterns === undefined || key === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) continue;
    yield { line: i + 1, marker, patterns, blob: Buffer.from(key, 'base64') };
  }
}

/** Whether a pattern list (`host1,*.lan,!bad`, or a hashed `|1|salt|hash`) names `name`. */
export function matchesHost(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (!salt || !hash) return false;
    const expected = Buffer.from(hash, 'base64');
    const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatch(negated ? pattern.slice(1) : pattern, name)) continue;
    // A matching negation excludes the host from the whole line, as in OpenSSH's match_hostname().
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function globMatch(pattern: string, name: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i').test(name);
}

/** Looks a presented key up for `host` on `port` in the text of a known_hosts file. */
export function checkHostKey(content: string, host: string, port: number, blob: Buffer): HostKeyVerdict {
  const name = knownHostName(host, port);
  const type = keyTypeOf(blob);
  let known = false;
  let changedLine: number | undefined;
  for (const entry of entries(content)) {
    if (!matchesHost(entry.patterns, name)) continue;
    if (entry.marker === '@revoked') {
      if (entry.blob.equals(blob)) return { status: 'revoked', line: entry.line };
      continue;
    }
    // Certificate authorities are not supported: such a line neither vouches for nor against a key.
    if (entry.marker !== undefined) continue;
    if (entry.blob.equals(blob)) known = true;
    else if (keyTypeOf(entry.blob) === type) changedLine ??= entry.line;
  }
  if (known) return { status: 'known' };
  return changedLine === undefined ? { status: 'unknown' } : { status: 'changed', line: changedLine };
}

/** Key types known_hosts holds for this host, so that the handshake can ask the server for one of them first. */
export function knownKeyTypes(content: string, host: string, port: number): string[] {
  const name = knownHostName(host, port);
  const types = new Set<string>();
  for (const entry of entries(content)) {
    if (entry.marker === undefined && matchesHost(entry.patterns, name)) types.add(keyTypeOf(entry.blob));
  }
  return [...types].filter((t) => t !== '');
}

/** The text of a known_hosts file; a missing file is an empty one. */
export async function readKnownHosts(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/**
 * Adds `host`'s key to known_hosts (one plain OpenSSH line), atomically (`replaceKnownHosts`).
 */
export async function addKnownHost(file: string, host: string, port: number, blob: Buffer): Promise<void> {
  const old = await readKnownHosts(file);
  const line = `${knownHostName(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`;
  await replaceKnownHosts(file, old === '' || old.endsWith('\n') ? old + line : `${old}\n${line}`);
}

/** One entry of a known_hosts text, as an operator sees it. */
export interface KnownHostLine {
  readonly line: number;
  /** The host patterns as written, or `(hashed)` for a hashed entry (`|1|…`). */
  readonly hosts: string;
  readonly type: string;
  readonly fingerprint: string;
  readonly marker?: string;
}

function lineOf(entry: Entry): KnownHostLine {
  return {
    line: entry.line,
    hosts: entry.patterns.startsWith('|1|') ? '(hashed)' : entry.patterns,
    type: keyTypeOf(entry.blob),
    fingerprint: fingerprintOf(entry.blob),
    ...(entry.marker === undefined ? {} : { marker: entry.marker }),
  };
}

/** Every entry of a known_hosts text (comments, blank and unparsable lines left out). */
export function listKnownHosts(content: string): KnownHostLine[] {
  return [...entries(content)].map(lineOf);
}

/**
 * The entries that name `host` on `port` by name (a plain pattern equal to it, or a hashed entry of
 * it), as `ssh-keygen -R` finds them. Wildcard patterns (`*.lan`) name other hosts too and are not
 * taken; `@revoked` lines are not either (removing one would trust a key again).
 */
export function knownHostEntries(content: string, host: string, port: number): KnownHostLine[] {
  const name = knownHostName(host, port);
  return [...entries(content)]
    .filter((e) => e.marker !== '@revoked' && namesExactly(e.patterns, name))
    .map(lineOf);
}

function namesExactly(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) return matchesHost(patterns, name);
  return patterns.split(',').some((p) => p.toLowerCase() === name);
}

/**
 * Removes the entries of `knownHostEntries` from the file (whole lines: a line that also names
 * other hosts goes with them, as with `ssh-keygen -R`); returns them.
 */
export async function removeKnownHost(file: string, host: string, port: number): Promise<KnownHostLine[]> {
  const content = await readKnownHosts(file);
  const removed = knownHostEntries(content, host, port);
  if (removed.length === 0) return removed;
  const gone = new Set(removed.map((r) => r.line));
  const kept = content.split('\n').filter((_, i) => !gone.has(i + 1));
  await replaceKnownHosts(file, kept.join('\n'));
  return removed;
}

/**
 * Writes known_hosts atomically: the whole new file is written to a temporary file in the same
 * directory, fsynced, renamed over the old one, and the directory is fsynced. A crash leaves the old
 * file or the new one, never half a line.
 */
async function replaceKnownHosts(file: string, text: string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
