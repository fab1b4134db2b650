// Reads and new logins during another session's boot: they never wait for the lock, and see the state
// the boot started from. A real device boots in a child process, held at a maintainer script (a gate)
// while the reads are made, so that "during the boot" needs no timing.
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDevice } from '../../firmware-sim/index.js';
import { exists, installFile, makeTestDevice, type TestDevice } from '../helpers/device-fixtures.js';
import { type RunningChild, startChild } from '../helpers/device-process.js';
import { buildPackage, file } from '../helpers/package-fixtures.js';
import { runEdgesh } from '../helpers/run-edgesh.js';

/** Small packages in the store besides the two that the boot activates. */
const MANY = 1000;

/** Waits (bounded) until `path` exists; fails if the child ends first. */
async function waitForFile(path: string, child: RunningChild): Promise<void> {
  let ended = false;
  void child.done.then(() => {
    ended = true;
  });
  for (let i = 0; i < 1200 && !(await exists(path)); i++) {
    if (ended) throw new Error(`the boot ended before ${path} appeared: ${(await child.done).stdout}`);
    await sleep(50);
  }
  assert.ok(await exists(path), `${path} did not appear`);
}

describe('reads during a boot of 1,000 packages', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice({
      edit: (json) => {
        json.scriptTimeoutMs = 600_000;
      },
    });
    // Activated before the gate: by the end of the boot it is active, during it (for readers) pending.
    await installFile(
      t.device,
      await buildPackage(t.root, { name: 'a-first', data: [file('./opt/a-first', 'a')], sign: t.vendorKey }),
    );
    // The gate: its postinst says the boot reached it, then waits for the test to open it (or for the
    // device to be gone, should the test end first). The paths are written into the script: a script
    // gets no environment of the test's.
    const at = (name: string) => join(t.dir, name);
    const gate = `#!/bin/sh\n: > "${at('gate-reached')}"\nwhile [ ! -e "${at('gate-open')}" ] && [ -d "${t.dir}" ]; do sleep 0.05; done\n`;
    await installFile(
      t.device,
      await buildPackage(t.root, {
        name: 'm-gate',
        data: [file('./opt/m-gate', 'm')],
        scripts: { postinst: gate },
        sign: t.vendorKey,
      }),
    );
    // 1,000 small unsigned packages: one installed, the others its copies under their own names
    // (installing each would take longer than the test; the store is what the boot reads).
    await installFile(t.device, await buildPackage(t.root, { name: 'p0000' }));
    const store = join(t.dir, 'cfg/packages');
    const record = JSON.parse(await readFile(join(store, 'p0000/record.json'), 'utf8'));
    for (let i = 1; i < MANY; i++) {
      const name = `p${String(i).padStart(4, '0')}`;
      await cp(join(store, 'p0000'), join(store, name), { recursive: true });
      await writeFile(
        join(store, name, 'record.json'),
        `${JSON.stringify({ ...record, name, installId: `${record.installId}-${i}` })}\n`,
      );
    }
  });
  after(() => t.cleanup());

  test('show version, package show, show log and a new login answer at once, from the state before the boot', async () => {
    const logBefore = await t.device.eventLog();
    const infoBefore = await t.device.info();
    const boot = startChild(t.dir, t.vendorDir, 'boot', [], { CHILD_SESSION: 'ssh-1' }, 300_000);
    try {
      await waitForFile(join(t.dir, 'gate-reached'), boot);
      // A new login: the device opened afresh, as the shell of a new SSH session does.
      const login = await openDevice(t.dir, {
        session: { user: 'bob', id: 'ssh-2' },
        vendorDir: t.vendorDir,
      });
      const list = await login.list();
      assert.equal(list.length, MANY + 2);
      // The state the boot started from: a-first is active on disk already, but not for readers yet.
      assert.deepEqual(
        [...new Set(list.map((p) => p.state))],
        ['pending'],
        'every package as before the boot',
      );
      assert.equal((await login.details('a-first')).state, 'pending');
      assert.deepEqual(await login.info(), infoBefore, 'the last boot is still the one before');
      assert.deepEqual(await login.eventLog(), logBefore);
      // The real shell, in processes of their own, on the same device.
      const shell = (line: string) =>
        runEdgesh({ device: t.dir, args: ['-c', line], env: { EDGESH_SERVICES: '' } });
      const version = shell('show version');
      assert.equal(version.status, 0, version.stderr);
      assert.match(version.stdout, /^Hostname: +example$/m);
      const show = shell('package show | count');
      assert.equal(show.status, 0, show.stderr);
      assert.ok(Number(show.stdout) >= MANY + 2 + 3, `a row per package and the frame: ${show.stdout}`);
      const log = shell('show log');
      assert.equal(log.status, 0, log.stderr);
      assert.equal(log.stdout.trimEnd().split('\n').length, logBefore.length);
      // All of it returned while the boot is still held at the gate.
      assert.equal(await exists(join(t.dir, 'gate-open')), false);
      assert.equal(
        await Promise.race([boot.done.then(() => 'ended'), sleep(0).then(() => 'running')]),
        'running',
      );
    } finally {
      await writeFile(join(t.dir, 'gate-open'), '');
    }
    const result = await boot.done;
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as { lines: Array<{ name: string; activated: boolean }> };
    assert.deepEqual(
      report.lines.filter((l) => l.activated).map((l) => l.name),
      ['a-first', 'm-gate'],
    );
    // After the boot, readers see what it did.
    assert.equal((await t.device.details('a-first')).state, 'active');
    assert.equal(await exists(join(t.dir, 'var/lib/wmopkg/view')), false, 'the view went with the boot');
  });
});
