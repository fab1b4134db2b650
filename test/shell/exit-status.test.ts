// Exit statuses by class (docs/automation.md): the table, and each class through `edgesh -c` on the real device.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CliError } from '../../contexts/errors.js';
import { DeviceError } from '../../firmware-sim/index.js';
import { classOf, EXIT_STATUS, failureLine } from '../../shell/exit-status.js';
import { runEdgesh } from '../helpers/run-edgesh.js';

const temp = mkdtempSync('/tmp/edgesh-status-');
after(() => rmSync(temp, { recursive: true, force: true }));

test('each class has its own status; a bug is internal, a code no table knows is failed', () => {
  const statuses = Object.values(EXIT_STATUS);
  assert.equal(new Set(statuses).size, statuses.length);
  assert.equal(classOf(new TypeError('x is undefined')), 'internal');
  assert.equal(classOf(new CliError('CLI_UNKNOWN_COMMAND', 'x')), 'unknown-command');
  assert.equal(classOf(new DeviceError('DEVICE_NO_SPACE', 'full')), 'storage');
  const unknown = Object.assign(new Error('from a later layer'), { code: 'DEVICE_SOMETHING_NEW' });
  assert.equal(classOf(unknown), 'failed');
  assert.equal(failureLine(new DeviceError('DEVICE_LOCKED', 'device busy')), 'Error: device busy [locked]');
});

/** Where the class is in the line: a program's regular expression (docs/automation.md). */
const LINE = /^Error: (?<message>.*) \[(?<cls>[a-z][a-z-]*)\]$/;

const cases: ReadonlyArray<{ readonly cls: string; readonly commands: readonly string[] }> = [
  { cls: 'usage', commands: ['show version now'] },
  { cls: 'usage', commands: ['whoami | json'] },
  { cls: 'unknown-command', commands: ['frobnicate'] },
  { cls: 'not-found', commands: ['package show ghost'] },
  { cls: 'not-found', commands: ['boot no media stick'] },
  { cls: 'not-confirmed', commands: ['package remove all'] },
  { cls: 'refused', commands: ['package install 192.0.2.1 tampered.wmopkg'] },
  { cls: 'transfer', commands: ['package install 192.0.2.1 nothere.wmopkg'] },
  // The first failure decides; the later commands still ran.
  { cls: 'unknown-command', commands: ['frobnicate', 'package show ghost', 'whoami'] },
];

for (const c of cases) {
  test(`-c ${c.commands.join('; ')}: [${c.cls}], status ${EXIT_STATUS[c.cls as keyof typeof EXIT_STATUS]}`, () => {
    const r = runEdgesh({ args: c.commands.flatMap((command) => ['-c', command]) });
    const first = r.stderr.split('\n')[0]!;
    assert.equal(LINE.exec(first)?.groups?.cls, c.cls, r.stderr);
    assert.equal(r.status, EXIT_STATUS[c.cls as keyof typeof EXIT_STATUS]);
  });
}

test('a damaged state file is a storage failure', () => {
  const device = join(temp, 'damaged');
  const set = runEdgesh({
    device,
    args: ['-c', 'package install 192.0.2.1 pkgname.wmopkg', '-c', 'reboot confirm'],
  });
  assert.equal(set.status, 0, set.stderr);
  const active = join(device, 'var/lib/wmopkg/active');
  const [record] = readdirSync(active).filter((f) => f.endsWith('.json'));
  writeFileSync(join(active, record!), '{ not json');
  const r = runEdgesh({ device, args: ['-c', 'package show'] });
  assert.match(r.stderr, /^Error: .* \[storage\]\n$/);
  assert.equal(r.status, EXIT_STATUS.storage);
});
