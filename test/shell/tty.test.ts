// The interactive shell in a real pseudo-terminal: TAB, ?, masked password, y/N, Ctrl-C, Ctrl-D, pager.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildPackage } from '../helpers/package-fixtures.js';
import { PtyShell } from '../helpers/pty.js';
import { runEdgesh, WORLD } from '../helpers/run-edgesh.js';
import { VENDOR } from '../helpers/world.js';

const PASSWORD = 'Tr0ub4dor&3';
const temp = mkdtempSync(join(tmpdir(), 'edgesh-tty-'));
const signed = (name: string, version: string, description: string) =>
  buildPackage(temp, { name, version, description, sign: VENDOR.secretKey });
const scenarioFile = WORLD.configFile({
  servers: {
    ...WORLD.config.servers,
    '192.0.2.77': {
      protos: ['ftp'],
      password: PASSWORD,
      files: { 'guarded.wmopkg': await signed('guarded', '3.1', 'Behind a login') },
    },
    '192.0.2.78': {
      protos: ['ftp'],
      files: Object.fromEntries(
        await Promise.all(
          ['pkgname', 'pkgtwo', 'hello'].map(
            async (p) => [`${p}.wmopkg`, await signed(p, '1.0', p)] as const,
          ),
        ),
      ),
    },
  },
});
const shells: PtyShell[] = [];

after(() => {
  for (const s of shells) s.kill();
  rmSync(temp, { recursive: true, force: true });
});

let n = 0;
/** A device with `packages` installed (in script mode), and an interactive shell on it. */
function shell(packages: readonly string[] = []): PtyShell {
  const device = join(temp, `device-${n++}`);
  if (packages.length > 0) {
    const r = runEdgesh({
      device,
      env: { EDGESH_E2E_CONFIG: scenarioFile },
      stdin: `package\n${packages.map((p) => `install 192.0.2.78 ${p}.wmopkg`).join('\n')}\n`,
    });
    assert.equal(r.status, 0, r.stderr);
  }
  const s = new PtyShell(['--device', device, '--user', 'admin'], { EDGESH_E2E_CONFIG: scenarioFile });
  shells.push(s);
  return s;
}

const TOP = 'example:/>';
const PKG = 'example:/package/#>';

test('TAB completes commands and installed package names; y/N confirms', async () => {
  const s = shell(['pkgname', 'hello']);
  await s.waitFor(TOP);
  let m = s.mark();
  s.type('pack\t');
  await s.waitFor(/package $/m, m);
  s.type('\r');
  await s.waitFor(PKG, m);
  m = s.mark();
  s.type('remove pk\t');
  await s.waitFor('remove pkgname', m);
  s.type('\r');
  await s.waitFor('Remove package pkgname (y/N)?', m);
  s.type('y\r');
  const text = await s.waitFor(/Removed… Changes are applied after reboot\.\n.*example:\/package\/#>/s, m);
  assert.doesNotMatch(text, /Error/);
  m = s.mark();
  s.type('remove h\t');
  await s.waitFor('remove hello', m);
  s.type('\r');
  await s.waitFor('Remove package hello (y/N)?', m);
  s.type('n\r');
  await s.waitFor('Error: not confirmed, nothing was changed', m);
  s.type('exit\r');
  await s.waitFor(TOP, m);
  s.type('exit\r');
  assert.equal(await s.exited(), 0);
});

test('a second TAB lists the candidates; completion never prints an error into the line', async () => {
  const s = shell(['pkgname', 'pkgtwo']);
  await s.waitFor(TOP);
  const m = s.mark();
  s.type('package remove pkg\t');
  await s.waitFor('package remove pkg', m);
  s.type('\t');
  const listed = await s.waitFor(/pkgname\s+pkgtwo/, m);
  assert.doesNotMatch(listed, /Error/);
  s.type('\x15frobnicate \t\t\r');
  await s.waitFor('Error: unknown command "frobnicate"', m);
});

test('? lists what may come next and keeps the line', async () => {
  const s = shell();
  await s.waitFor(TOP);
  s.type('package\r');
  await s.waitFor(PKG);
  const m = s.mark();
  s.type('install ?');
  const help = await s.waitFor('address[:port]', m);
  for (const word of ['persistent', 'media', 'proto', 'user', 'password'])
    assert.match(help, new RegExp(`^ {2}${word} `, 'm'));
  s.type('192.0.2.1 pkgname.wmopkg\r');
  await s.waitFor('Installed pkgname 5.26.0-rev0', m);
  const m2 = s.mark();
  s.type('show pkgname | include Version\r');
  await s.waitFor(/Version: +5\.26\.0-rev0/, m2);
});

test('the password prompt masks what is typed, and history masks a password on the line', async () => {
  const s = shell();
  await s.waitFor(TOP);
  s.type('package\r');
  await s.waitFor(PKG);
  let m = s.mark();
  s.type('install proto ftp user admin 192.0.2.77 guarded.wmopkg\r');
  await s.waitFor("admin@192.0.2.77's password:", m);
  s.type(`${PASSWORD}\r`);
  await s.waitFor('Installed guarded 3.1', m);
  assert.ok(!s.output.includes(PASSWORD), 'the typed password appeared on the screen');
  assert.ok(!s.output.includes('Tr0ub'), 'part of the password appeared on the screen');
  m = s.mark();
  s.type('remove guarded\r');
  await s.waitFor('(y/N)?', m);
  s.type('y\r');
  await s.waitFor('Removed', m);
  // A password given on the line is not kept: history and the up arrow show it masked.
  m = s.mark();
  s.type(`install proto ftp user admin password ${PASSWORD} 192.0.2.77 guarded.wmopkg\r`);
  await s.waitFor('Installed guarded 3.1', m);
  m = s.mark();
  s.type('do history\r');
  const history = await s.waitFor(/\d+ {2}do history/, m);
  assert.match(history, /install proto ftp user admin password \*\*\*\* 192\.0\.2\.77 guarded\.wmopkg/);
  assert.ok(!history.includes(PASSWORD));
  m = s.mark();
  s.type('\x1b[A');
  await s.waitFor('do history', m);
  // Recalled, the line has no fake password: the clause is gone, and run again it asks.
  s.type('\x1b[A');
  const recalled = await s.waitFor('install proto ftp user admin 192.0.2.77 guarded.wmopkg', m);
  assert.doesNotMatch(recalled, /\*\*\*\*|password /);
  s.type('\r');
  await s.waitFor("admin@192.0.2.77's password:", m);
  s.type(`${PASSWORD}\r`);
  // The same package again: unchanged (docs/automation.md).
  await s.waitFor('Unchanged guarded 3.1', m);
  assert.ok(!s.output.slice(m).includes(PASSWORD));
});

test('a refused login on a terminal asks for the password once more', async () => {
  const s = shell();
  await s.waitFor(TOP);
  s.type('package\r');
  await s.waitFor(PKG);
  let m = s.mark();
  s.type('install proto ftp user admin 192.0.2.77 guarded.wmopkg\r');
  await s.waitFor("admin@192.0.2.77's password:", m);
  s.type('wrong one\r');
  await s.waitFor(
    /Warning: ftp 192\.0\.2\.77:21: login refused for user admin; try again\n.*admin@192\.0\.2\.77's password:/s,
    m,
  );
  s.type(`${PASSWORD}\r`);
  await s.waitFor('Installed guarded 3.1', m);
  // A wrong password given on the line: asked for, once; wrong again, the error.
  m = s.mark();
  s.type('install proto ftp user admin password nope 192.0.2.77 guarded.wmopkg\r');
  await s.waitFor(/login refused for user admin; try again\n.*admin@192\.0\.2\.77's password:/s, m);
  s.type('still wrong\r');
  const text = await s.waitFor(
    /Error: ftp 192\.0\.2\.77:21: login refused for user admin \[transfer\]\n.*example:\/package\/#>/s,
    m,
  );
  assert.equal(text.match(/try again/g)?.length, 1);
  assert.doesNotMatch(text, /still wrong/);
});

test('Ctrl-C cancels a transfer: the shell lives on and nothing is installed', async () => {
  const s = shell();
  await s.waitFor(TOP);
  s.type('package\r');
  await s.waitFor(PKG);
  let m = s.mark();
  s.type('install 192.0.2.1 slow.wmopkg\r');
  await s.waitFor('B/s', m);
  s.type('\x03');
  await s.waitFor(
    /Error: installation of slow cancelled; nothing was installed \[interrupted\]\n.*example:\/package\/#>/s,
    m,
  );
  m = s.mark();
  s.type('show\r');
  const table = await s.waitFor('└', m);
  assert.doesNotMatch(table, /slow/);
  // Ctrl-C at the prompt drops the line and never ends the shell.
  m = s.mark();
  s.type('remove something');
  s.type('\x03');
  s.type('\x03');
  s.type('show\r');
  await s.waitFor('└', m);
  assert.doesNotMatch(s.output.slice(m), /Error/);
});

test('Ctrl-D leaves the context, and at the top ends the session', async () => {
  const s = shell();
  await s.waitFor(TOP);
  s.type('package\r');
  await s.waitFor(PKG);
  const m = s.mark();
  s.type('\x04');
  await s.waitFor(TOP, m);
  s.type('\x04');
  assert.equal(await s.exited(), 0);
});

test('long output pages on a terminal: --More--, q stops', async () => {
  const s = shell();
  await s.waitFor(TOP);
  s.type('terminal length 5\r');
  const m = s.mark();
  s.type('help\r');
  await s.waitFor('--More--', m);
  s.type(' ');
  await s.waitFor(/--More--[\s\S]*--More--/, m);
  s.type('q');
  const text = await s.waitFor(/--More--[\s\S]*example:\/>/, m);
  assert.doesNotMatch(text, /help +List the commands/);
});

test('the default policy says what it tries on the status line, and erases it', async () => {
  const s = shell();
  await s.waitFor(TOP);
  const m = s.mark();
  // 192.0.2.2 answers tftp only: ftp is refused, tftp delivers.
  s.type('package install 192.0.2.2 pkgname.wmopkg\r');
  await s.waitFor(/Installed pkgname 5\.26\.0-rev0.*\n.*example:\/>/s, m);
  const raw = s.output.slice(m);
  const trying = raw.indexOf('\rtrying ftp 192.0.2.2:21…\x1b[K');
  const failed = raw.indexOf('\rftp 192.0.2.2:21 failed (connection refused), trying tftp 192.0.2.2…\x1b[K');
  const erased = raw.lastIndexOf('\r\x1b[KInstalled pkgname');
  assert.ok(trying >= 0 && failed > trying && erased > failed, JSON.stringify(raw));
});

test('navigation words typed on the terminal move between contexts, whole or key by key', async () => {
  const s = shell();
  await s.waitFor(TOP);
  const cases: ReadonlyArray<readonly [string, string, RegExp]> = [
    ['package', 'end', /example:\/>/],
    ['boot', 'end', /example:\/>/],
    ['package', 'top', /example:\/>/],
    ['boot', 'exit', /example:\/>/],
    ['package', 'en', /example:\/>/],
    ['package', 'end ', /example:\/>/],
    ['package', 'do boot', /example:\/boot\/#>/],
  ];
  for (const keyByKey of [false, true]) {
    for (const [context, word, after] of cases) {
      let m = s.mark();
      s.type(`${context}\r`);
      await s.waitFor(`example:/${context}/#> `, m);
      m = s.mark();
      // As soon as the prompt shows, as automation sends; or one key at a time, as a person types.
      if (keyByKey) {
        for (const key of `${word}\r`) {
          s.type(key);
          await new Promise((resolve) => setTimeout(resolve, 15));
        }
      } else s.type(`${word}\r`);
      await s.waitFor(new RegExp(`\\n${after.source} $`), m);
      m = s.mark();
      s.type('do whoami\r');
      const text = await s.waitFor(/\nadmin\n/, m);
      assert.doesNotMatch(text, /Error/, `${context}, ${JSON.stringify(word)}`);
      s.type('end\r');
      await s.waitFor(/example:\/> $/, m);
    }
  }
});
