// known_hosts parsing and matching, table-driven, and the atomic append.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sshKeyPair } from '../../lab/ssh-server.js';
import {
  addKnownHost,
  checkHostKey,
  fingerprintOf,
  knownHostName,
  knownKeyTypes,
  matchesHost,
} from '../../transports/known-hosts.js';
import { scratch } from '../helpers/transport-fixtures.js';

const key = sshKeyPair().blob;
const other = sshKeyPair().blob;
const b64 = (k: Buffer) => k.toString('base64');

describe('known_hosts', () => {
  test('knownHostName: plain on port 22, [host]:port elsewhere', () => {
    assert.equal(knownHostName('Server.LAN', 22), 'server.lan');
    assert.equal(knownHostName('192.0.2.1', 2222), '[192.0.2.1]:2222');
    assert.equal(knownHostName('::1', 2222), '[::1]:2222');
  });

  const salt = Buffer.alloc(20, 7);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[192.0.2.1]:2222').digest('base64')}`;
  const patterns = [
    { title: 'exact name', input: ['server', 'server'], expected: true },
    { title: 'case-insensitive', input: ['SERVER', 'server'], expected: true },
    { title: 'one of a list', input: ['a,server,b', 'server'], expected: true },
    { title: 'wildcard *', input: ['*.lan', 'server.lan'], expected: true },
    { title: 'wildcard ?', input: ['serve?', 'server'], expected: true },
    { title: 'negation excludes', input: ['*.lan,!server.lan', 'server.lan'], expected: false },
    { title: 'bracketed port', input: ['[192.0.2.1]:2222', '[192.0.2.1]:2222'], expected: true },
    { title: 'port matters', input: ['192.0.2.1', '[192.0.2.1]:2222'], expected: false },
    { title: 'hashed entry', input: [hashed, '[192.0.2.1]:2222'], expected: true },
    { title: 'hashed entry, other host', input: [hashed, '[192.0.2.2]:2222'], expected: false },
    { title: 'regex characters are literal', input: ['a+b', 'aab'], expected: false },
  ] as const;
  for (const { title, input, expected } of patterns) {
    test(`matchesHost: ${title}`, () => assert.equal(matchesHost(input[0], input[1]), expected));
  }

  const verdicts = [
    { title: 'empty file', file: '', expected: { status: 'unknown' } },
    {
      title: 'known key',
      file: `# c\n\n[h]:2222 ssh-ed25519 ${b64(key)} comment\n`,
      expected: { status: 'known' },
    },
    {
      title: 'same type, other key',
      file: `x ssh-rsa AAAA\n[h]:2222 ssh-ed25519 ${b64(other)}\n`,
      expected: { status: 'changed', line: 2 },
    },
    {
      title: 'other host only',
      file: `[g]:2222 ssh-ed25519 ${b64(other)}\n`,
      expected: { status: 'unknown' },
    },
    {
      title: 'rotated: old and new listed',
      file: `[h]:2222 ssh-ed25519 ${b64(other)}\n[h]:2222 ssh-ed25519 ${b64(key)}\n`,
      expected: { status: 'known' },
    },
    {
      title: 'revoked',
      file: `@revoked * ssh-ed25519 ${b64(key)}\n[h]:2222 ssh-ed25519 ${b64(key)}\n`,
      expected: { status: 'revoked', line: 1 },
    },
    {
      title: 'cert-authority lines are ignored',
      file: `@cert-authority [h]:2222 ssh-ed25519 ${b64(other)}\n`,
      expected: { status: 'unknown' },
    },
    {
      title: 'garbage lines are skipped',
      file: `nonsense\n[h]:2222 ssh-ed25519 !!!\n[h]:2222 ssh-ed25519 ${b64(key)}\n`,
      expected: { status: 'known' },
    },
  ] as const;
  for (const { title, file, expected } of verdicts) {
    test(`checkHostKey: ${title}`, () => assert.deepEqual(checkHostKey(file, 'h', 2222, key), expected));
  }

  test('knownKeyTypes lists the types known for the host', () => {
    assert.deepEqual(
      knownKeyTypes(`[h]:2222 ssh-ed25519 ${b64(key)}\nh ssh-ed25519 ${b64(other)}\n`, 'h', 2222),
      ['ssh-ed25519'],
    );
  });

  test('fingerprint: SHA256 and unpadded base64, 43 characters', () => {
    assert.match(fingerprintOf(key), /^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  test('addKnownHost appends one line atomically, keeps the rest, leaves no temporary file', async () => {
    const work = await scratch();
    try {
      const file = join(work.dir, 'etc', 'ssh', 'known_hosts');
      await addKnownHost(file, '192.0.2.1', 22, key);
      await writeFile(file, `${await readFile(file, 'utf8')}# no final newline`);
      await addKnownHost(file, '::1', 2222, other);
      assert.equal(
        await readFile(file, 'utf8'),
        `192.0.2.1 ssh-ed25519 ${b64(key)}\n# no final newline\n[::1]:2222 ssh-ed25519 ${b64(other)}\n`,
      );
      assert.deepEqual(await readdir(join(work.dir, 'etc', 'ssh')), ['known_hosts']);
      assert.deepEqual(checkHostKey(await readFile(file, 'utf8'), '::1', 2222, other), { status: 'known' });
    } finally {
      await work.cleanup();
    }
  });
});
