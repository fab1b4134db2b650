// Feeds at a real terminal: TAB completes feed package names after install (and the others), ? lists them, y/N asks.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildFeedWorld } from '../helpers/feed-world.js';
import { PtyShell } from '../helpers/pty.js';
import { runEdgesh, WORLD } from '../helpers/run-edgesh.js';

const feeds = await buildFeedWorld(WORLD);
const config = WORLD.configFile({ servers: { ...WORLD.config.servers, ...feeds.servers } });
const temp = mkdtempSync(join(tmpdir(), 'edgesh-feeds-tty-'));
const shells: PtyShell[] = [];
after(() => {
  for (const s of shells) s.kill();
  rmSync(temp, { recursive: true, force: true });
});

const PKG = 'example:/package/#>';

/** A device whose feed is configured and updated (in script mode), and an interactive shell on it. */
function shell(): PtyShell {
  const device = join(temp, 'device');
  const r = runEdgesh({
    device,
    env: { EDGESH_E2E_CONFIG: config },
    stdin: 'package\nfeed main http://192.0.2.10/feed\nupdate\n',
  });
  assert.equal(r.status, 0, r.stderr);
  const s = new PtyShell(['--device', device, '--user', 'admin'], { EDGESH_E2E_CONFIG: config });
  shells.push(s);
  return s;
}

test('TAB completes feed package names after install; a second TAB lists them; the plan asks y/N', async () => {
  const s = shell();
  await s.waitFor('example:/>');
  s.type('package\r');
  await s.waitFor(PKG);
  let m = s.mark();
  s.type('install pl\t');
  await s.waitFor('install plugin', m);
  s.type('\x15install li\t');
  await s.waitFor('install lib', m);
  s.type('\t');
  const listed = await s.waitFor(/liba\s+libb/, m);
  assert.doesNotMatch(listed, /Error/);
  s.type('a dry-run\r');
  await s.waitFor('Install: liba 1.0', m);
  m = s.mark();
  s.type('show available a?');
  await s.waitFor(/^ {2}app +Package of the feeds/m, m);
  s.type('\x15no feed m\t');
  await s.waitFor('no feed main', m);
  s.type('\x15install app\r');
  await s.waitFor('Proceed (y/N)?', m);
  s.type('y\r');
  await s.waitFor('Changes are applied after reboot.', m);
  m = s.mark();
  s.type('show whatdepends li\t');
  await s.waitFor('show whatdepends lib', m);
  s.type('\x15exit\r');
  await s.waitFor('example:/>', m);
  s.type('exit\r');
  assert.equal(await s.exited(), 0);
});
