// The example rolling rollout over 100 devices of `npm run fleet` (real sshd, edgesh as login shell) from an http server, as root from .ci/run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  makeDiskFull,
  makeWrongArchitecture,
  type PlaybookRun,
  type RolloutSource,
  runPlaybook,
  serveRollout,
} from '../../lab/rollout.js';
import { type FleetRecord, startFleet, stopFleet } from '../../scripts/fleet/index.js';
import { ROOT } from '../helpers/run-edgesh.js';

assert.equal(process.getuid?.(), 0, 'the rollout interop test runs as root (.ci/run)');

const COUNT = 100;
/** One in a batch of 20, the two failures in different batches: 5 % each, under max_fail_percentage. */
const WRONG_ARCH = 'edge-037';
const FULL_DISK = 'edge-074';
/** Larger than the full disk's room: the package holds 256 KiB of random data (it cannot compress). */
const PAYLOAD = 256 * 1024;
const ROOM = 64 * 1024;

const temp = mkdtempSync(join(tmpdir(), 'edgesh-rollout-interop-'));
chmodSync(temp, 0o755);
let fleet: FleetRecord;
let source: RolloutSource;
let undoFullDisk: (() => Promise<void>) | undefined;

before(async () => {
  fleet = await startFleet({ count: COUNT, dir: join(temp, 'fleet'), basePort: 22000, repo: ROOT });
  source = await serveRollout(fleet, { name: 'greeter', version: '2.0.0', payload: PAYLOAD });
  await makeWrongArchitecture(device(WRONG_ARCH));
  undoFullDisk = await makeDiskFull(device(FULL_DISK), ROOM);
});

after(async () => {
  await source?.close();
  await undoFullDisk?.().catch(() => {});
  await stopFleet(join(temp, 'fleet')).catch(() => {});
  rmSync(temp, { recursive: true, force: true });
});

function device(name: string) {
  const d = fleet.devices.find((x) => x.name === name);
  assert.ok(d, name);
  return d;
}

const rollout = (): Promise<PlaybookRun> =>
  runPlaybook(fleet, 'edgesh.device.rollout', {
    rollout_package: source.name,
    rollout_version: source.version,
    rollout_src: source.src,
    rollout_server: source.server,
    rollout_batch: 20,
    rollout_max_fail_percentage: 10,
  });

/** Each failed host's message, for an assertion's text. */
function why(run: PlaybookRun): string {
  const failed = run.results.flatMap((t) =>
    Object.entries(t.hosts)
      .filter(([, r]) => (r as { failed?: boolean }).failed === true)
      .map(([h, r]) => `${h}: ${(r as { msg?: string }).msg}`),
  );
  return `${failed.join('\n')}\n${run.stderr.slice(-2000)}`;
}

/** The report of the playbook's last play: one line per device. */
function report(run: PlaybookRun): string[] {
  const last = run.results.at(-1)!;
  const msg = (last.hosts.localhost as { msg: string[] }).msg;
  assert.equal(msg.length, COUNT, msg.join('\n'));
  return msg;
}

/** `package show | json` on a device, over OpenSSH as any script would ask it. */
function packages(name: string): Array<{ name: string; version: string; state: string }> {
  const r = spawnSync('ssh', ['-F', fleet.sshConfig, name, 'package show | json'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { packages: Array<{ name: string; version: string; state: string }> })
    .packages;
}

/** Files of an install that did not end: a device is whole when none is left. */
function leftovers(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (/^\.tmp-|\.part$|\.new$/.test(e.name)) found.push(join(d, e.name));
      if (e.isDirectory() && !e.isSymbolicLink()) walk(join(d, e.name));
    }
  };
  walk(dir);
  return found;
}

test('the rollout reaches every device; the two that fail are named with their reason and keep what they had; a second run changes nothing', async () => {
  const first = await rollout();
  const hosts = Object.keys(first.stats).filter((h) => h !== 'localhost');
  assert.equal(hosts.length, COUNT, why(first));
  for (const h of hosts) {
    const s = first.stats[h]!;
    assert.equal(s.unreachable, 0, h);
    if (h === WRONG_ARCH || h === FULL_DISK) {
      assert.equal(s.failures, 1, h);
      assert.equal(s.changed, 0, h);
    } else {
      assert.equal(s.failures, 0, `${h}: ${JSON.stringify(s)}\n${why(first)}`);
      assert.equal(s.changed, 1, h);
    }
  }
  const lines = report(first);
  assert.equal(lines.filter((l) => l.endsWith(': rolled out: greeter 2.0.0 active')).length, COUNT - 2);
  assert.ok(
    lines.includes(
      `${WRONG_ARCH}: failed (refused): package greeter refused: architecture arm64 is not accepted by this device (accepted: all, armhf)`,
    ),
    lines.join('\n'),
  );
  assert.ok(
    lines.includes(`${FULL_DISK}: failed (storage): installing greeter: no space left on the device storage`),
    lines.join('\n'),
  );

  // Neither failed device is half-installed: nothing of greeter, nothing left of the download.
  for (const name of [WRONG_ARCH, FULL_DISK]) {
    assert.deepEqual(
      packages(name).filter((p) => p.name === 'greeter'),
      [],
      name,
    );
    assert.deepEqual(leftovers(device(name).deviceDir), [], name);
  }
  const free = statfsSync(device(FULL_DISK).deviceDir);
  assert.ok(free.bavail * free.bsize >= ROOM / 2, 'the full disk has its room back');
  // A device that was rolled out has the package active after its reboot.
  assert.deepEqual(
    packages('edge-001')
      .filter((p) => p.name === 'greeter')
      .map((p) => [p.version, p.state]),
    [['2.0.0', 'active']],
  );

  const second = await rollout();
  for (const [h, s] of Object.entries(second.stats)) assert.equal(s.changed, 0, `${h}: ${JSON.stringify(s)}`);
  const again = report(second);
  assert.equal(
    again.filter((l) => l.endsWith(': current: greeter 2.0.0 already installed')).length,
    COUNT - 2,
  );
  assert.equal(again.filter((l) => / failed \((refused|storage)\): /.test(l)).length, 2, again.join('\n'));
});
