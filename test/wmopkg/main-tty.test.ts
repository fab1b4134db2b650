// `wmopkg` asking for a passphrase on a real terminal (node-pty): keygen's two questions.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isEncryptedSecretKey, parseSecretKey } from '../../firmware-sim/format/index.js';
import { PtyShell } from '../helpers/pty.js';

const WMOPKG = resolve(fileURLToPath(import.meta.url), '../../../bin/wmopkg.js');
const PASSPHRASE = 'correct horse 42';
const dir = mkdtempSync(join(tmpdir(), 'wmopkg-tty-'));
const ptys: PtyShell[] = [];

after(() => {
  for (const p of ptys) p.kill();
  rmSync(dir, { recursive: true, force: true });
});

function wmopkg(args: readonly string[]): PtyShell {
  const p = new PtyShell([], {}, [process.execPath, [WMOPKG, ...args]]);
  ptys.push(p);
  return p;
}

test('keygen on a terminal asks for the passphrase twice, without echo, and writes an encrypted key', async () => {
  const pub = join(dir, 'k.pub');
  const sec = join(dir, 'k.sec');
  const p = wmopkg(['keygen', '-p', pub, '-s', sec, '-c', 'tty key']);
  await p.waitFor('passphrase: ');
  p.type(`${PASSPHRASE}\r`);
  await p.waitFor('confirm passphrase: ');
  p.type(`${PASSPHRASE}\r`);
  const status = await p.exited();
  assert.doesNotMatch(p.output, /Error/);
  assert.equal(status, 0, p.output);
  assert.ok(!p.output.includes(PASSPHRASE), 'the passphrase was echoed');
  assert.ok(existsSync(pub) && existsSync(sec));
  // The key is encrypted and the passphrase opens it.
  const text = readFileSync(sec);
  assert.ok(isEncryptedSecretKey(text));
  assert.doesNotThrow(() => parseSecretKey(text, PASSPHRASE));
});

test('keygen on a terminal: a different confirmation is refused and writes no key', async () => {
  const pub = join(dir, 'm.pub');
  const sec = join(dir, 'm.sec');
  const p = wmopkg(['keygen', '-p', pub, '-s', sec]);
  await p.waitFor('passphrase: ');
  p.type(`${PASSPHRASE}\r`);
  await p.waitFor('confirm passphrase: ');
  p.type('something else\r');
  assert.equal(await p.exited(), 2);
  assert.match(p.output, /Error: passphrases do not match/);
  assert.ok(!existsSync(pub) && !existsSync(sec));
});
