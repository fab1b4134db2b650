// The installed bins started as the kernel starts them (from their shebang): NODE_EXTRA_CA_CERTS never
// reaches node, which would load that file at every start and warn on stderr when it cannot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, shebangCommand } from '../../lab/paths.js';

for (const [bin, usage] of [
  ['dist/bin/edgesh-start.cjs', /^Usage: edgesh /],
  ['dist/bin/wmopkg.js', /^Usage: wmopkg /],
  ['dist/bin/wmopkg-start.cjs', /^Usage: wmopkg /],
] as const) {
  test(`${bin} through its shebang: a NODE_EXTRA_CA_CERTS that cannot be read changes nothing`, () => {
    const [command, ...args] = shebangCommand(join(ROOT, bin));
    const ran = spawnSync(command, [...args, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' },
      timeout: 60_000,
    });
    assert.equal(ran.status, 0, ran.stderr);
    assert.match(ran.stdout, usage);
    // node 20 says `Warning: Ignoring extra certs from …, load failed` when it is handed the variable.
    assert.equal(ran.stderr, '');
  });
}
