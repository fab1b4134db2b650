// The README's quick start, typed as a new user would (from .ci/setup.d/40-quickstart.sh): a fresh
// clone in the user's home, nothing built, `npm start` with the out-of-the-box session on stdin.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

function need(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: .ci/setup.d/40-quickstart.sh must run first`);
  return value;
}

const user = need('EDGESH_QUICKSTART_USER');
const clone = need('EDGESH_QUICKSTART_DIR');

/** Runs `command` in the clone as the new user, through a login shell (their own HOME and PATH). */
function asNewUser(command: string, input: string) {
  const r = spawnSync('su', ['-', user, '-c', `cd '${clone}' && ${command}`], {
    input,
    encoding: 'utf8',
    // The first `npm start` installs the dependencies and builds: minutes, not hours.
    timeout: 15 * 60_000,
  });
  if (r.error !== undefined) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

test('npm start on a fresh clone: the shell on ./.device, install from the USB stick, reboot, show', () => {
  assert.equal(existsSync(join(clone, 'node_modules')), false, 'the clone must start without node_modules');
  const session = ['package', 'install media external hello.wmopkg', 'do reboot', 'y', 'show', ''].join('\n');
  const r = asNewUser('npm start', session);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(
    r.stdout,
    /^Installed hello \S+ \(Signed, key [0-9a-f]{16}\)\. Changes are applied after reboot\.$/m,
  );
  assert.match(r.stdout, /^Reboot the device \(y\/N\)\?/m);
  assert.match(r.stdout, /hello +\S+ +False +Signed/);
  assert.ok(!/^Error:/m.test(r.stdout + r.stderr), r.stderr);
  // The device was created where the README says, owned by the user who ran it.
  assert.ok(existsSync(join(clone, '.device')), 'no ./.device in the clone');
  const again = asNewUser('npm start', 'package show\n');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /hello +\S+ +False +Signed/);
});
