// Feeds made by Debian's tools (dpkg-scanpackages -t wmopkg, apt-ftparchive release) and signed by signify-openbsd,
// served by nginx (http, https) and vsftpd (.ci/setup.d/50-feeds.sh): update, install with dependencies, upgrade,
// remove with dependents, autoremove, reboot and show, on a real device through the real shell.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BIN } from '../../lab/paths.js';

function need(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: .ci/setup.d/20-transports.sh and 50-feeds.sh must run first`);
  return value;
}

const host = need('TRANSPORTS_HOST');
const http = `http://${host}:${need('TRANSPORTS_HTTP_PORT')}/${need('FEEDS_PATH')}`;
const https = `https://${host}:${need('TRANSPORTS_HTTPS_PORT')}/${need('FEEDS_PATH')}`;
const ftp = `ftp://${need('TRANSPORTS_USER')}@${host}:${need('TRANSPORTS_FTP_PORT')}/${need('FEEDS_PATH')}`;
const password = need('TRANSPORTS_PASSWORD');
const temp = mkdtempSync(join(tmpdir(), 'edgesh-feeds-interop-'));
after(() => rmSync(temp, { recursive: true, force: true }));
const device = join(temp, 'device');

/** Runs the real shell on the real device (no test services) with `lines` on stdin; `-y` answers confirmations. */
function edgesh(lines: readonly string[], args: readonly string[] = []) {
  const r = spawnSync(process.execPath, [BIN, '--device', device, '--user', 'admin', ...args], {
    input: `${lines.join('\n')}\n`,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: temp, LANG: 'C.UTF-8', TZ: 'UTC' },
    timeout: 120_000,
  });
  if (r.error !== undefined) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

test('feeds of the Debian tools over nginx and vsftpd: update, install, upgrade, remove, autoremove, reboot', () => {
  // A new device that trusts the feed's signify key and the interop CA (as an administrator provisions it).
  assert.equal(edgesh(['whoami']).status, 0);
  copyFileSync(need('FEEDS_PUB'), join(device, 'etc/wmopkg/keys/feeds-interop.pub'));
  const caDir = need('TRANSPORTS_CA_DIR');
  for (const file of readdirSync(caDir)) copyFileSync(join(caDir, file), join(device, 'etc/ssl/certs', file));

  const first = edgesh([
    'package',
    `feed web ${http}/one`,
    `feed secure ${https}/one`,
    `feed files ${ftp}/one`,
    'update',
    password,
    'show feeds',
    'install app',
    'y',
    'show libb',
    'do reboot',
    'y',
    'show',
    'update',
    password,
  ]);
  assert.equal(first.status, 0, `${first.stdout}\n${first.stderr}`);
  for (const feed of ['web', 'secure', 'files']) {
    assert.match(
      first.stdout,
      new RegExp(`^Updated ${feed}: 4 packages, signed by key [0-9a-f]{16}, valid until `, 'm'),
    );
  }
  // Over http the second update is answered "not modified" (nginx's ETag): unchanged.
  assert.match(first.stdout, /^Unchanged web: 4 packages/m);
  assert.match(
    first.stdout,
    /^Install: app 1\.0, liba 1\.0 \(dependency of libb\), libb 1\.0 \(dependency of app\)$/m,
  );
  assert.match(first.stdout, /^Auto-installed: +yes, installed as a dependency of app$/m);
  assert.match(first.stdout, /^│?app +1\.0 +Signed +activated/m);
  assert.doesNotMatch(first.stdout, /not activated/);

  const second = edgesh(
    [
      'package',
      'no feed secure',
      'no feed files',
      `feed web ${http}/two`,
      'update',
      'show upgradable',
      'upgrade',
      'do reboot',
      'show',
      'remove liba',
      'show',
      'install tool',
      'autoremove',
      'do reboot',
      'show',
    ],
    ['-y'],
  );
  assert.equal(second.status, 0, `${second.stdout}\n${second.stderr}`);
  assert.match(
    second.stdout,
    /^Install: libc 1\.0 \(dependency of app\); Upgrade: liba 1\.0 → 1\.1, app 1\.0 → 2\.0$/m,
  );
  assert.match(second.stdout, /^Upgraded app from 1\.0 to 2\.0 /m);
  assert.match(second.stdout, /^Installed packages depend on liba: /m);
  assert.match(second.stdout, /^Removed app 2\.0\.$/m);
  assert.match(second.stdout, /^Removed liba 1\.1\.$/m);
  assert.match(second.stdout, /^Remove: libc 1\.0 \(no longer needed\)$/m);
  const last = second.stdout.slice(second.stdout.lastIndexOf('Packages'));
  assert.match(last, /tool +1\.0 +False +Signed/);
  for (const gone of ['app', 'liba', 'libb', 'libc'])
    assert.doesNotMatch(last, new RegExp(`^│?${gone}\\b`, 'm'));
});
