// Fleet benchmarks (root): the example rollout with the Ansible collection against `xargs -P 10 ssh host 'CMD | json'`,
// and one `ssh host 'package show | json'` against `ssh host true`, on one fleet of `npm run fleet` (real sshd per device).
import { chmod, readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../lab/paths.js';
import { type RolloutSource, runPlaybook, serveRollout } from '../lab/rollout.js';
import type { Bench, BenchResult } from './types.js';
import { haveCommand, median, runCommand, scratch } from './util.js';

/** Devices of the fleet: EDGESH_BENCH_FLEET, 100 by default (the rollout). */
const COUNT = Number(process.env.EDGESH_BENCH_FLEET ?? 100);
/** Parallel connections on both sides: Ansible's forks and xargs -P. */
const PARALLEL = 10;
const SSH_RUNS = 15;

/** What the benches read of `DIR/fleet.json`. */
interface FleetJson {
  readonly vendorSecretKey: string;
  readonly ansibleHome: string;
  readonly ansibleConfig: string;
  readonly sshConfig: string;
  readonly devices: ReadonlyArray<{ readonly name: string }>;
}

/** Starts a fleet of `count` devices as an operator does (`npm run fleet`), runs `use`, stops it. */
async function withFleet<T>(count: number, use: (fleet: FleetJson) => Promise<T>): Promise<T> {
  if (process.getuid?.() !== 0)
    throw new Error('needs root (a fleet on 127.0.1.K:22 with its own login user)');
  for (const tool of ['sshd', 'ssh', 'ansible-playbook']) {
    if (!(await haveCommand(tool)) && !(await haveCommand(`/usr/sbin/${tool}`)))
      throw new Error(`needs ${tool}`);
  }
  const { dir, cleanup } = await scratch('fleet');
  await chmod(dir, 0o755);
  const fleetDir = join(dir, 'fleet');
  const program = join(ROOT, 'dist', 'scripts', 'fleet.js');
  try {
    await runCommand(process.execPath, [program, String(count), '--dir', fleetDir]);
    const fleet = JSON.parse(await readFile(join(fleetDir, 'fleet.json'), 'utf8')) as FleetJson;
    return await use(fleet);
  } finally {
    await runCommand(process.execPath, [program, 'stop', '--dir', fleetDir]).catch(() => undefined);
    await cleanup();
  }
}

/** Seconds of wall time of `run`. */
async function seconds(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return (performance.now() - start) / 1000;
}

/**
 * The rollout: the collection's example playbook (batches of 10, read the device's packages, install
 * over http, reboot, check active) against the same commands over OpenSSH, 10 devices at a time, one
 * connection per device: `package show | json; package install … confirm | json; reboot confirm | json`.
 * Each run rolls out a newer version to every device, so that every run installs and reboots. The
 * reference runs before and after the playbook and counts with its mean: on a shared machine the load
 * drifts during a run of minutes, and one side alone would take the drift. The load average is in the note.
 */
async function rollout(): Promise<BenchResult[]> {
  return withFleet(COUNT, async (fleet) => {
    const versions = ['2.0.0', '2.0.1', '2.0.2'];
    const sources = [];
    try {
      for (const version of versions)
        sources.push(await serveRollout(fleet, { name: 'greeter', version, payload: 64 * 1024 }));
      const [before, ours, after] = sources as [RolloutSource, RolloutSource, RolloutSource];
      const hosts = `${fleet.devices.map((d) => d.name).join('\n')}\n`;
      // What the package module sends, as one line: it reads the packages first (idempotence).
      const xargs = (source: RolloutSource) =>
        seconds(() =>
          runCommand(
            'sh',
            [
              '-c',
              `xargs -P ${PARALLEL} -I{} ssh -F "$1" {} "$2" >/dev/null`,
              'xargs',
              fleet.sshConfig,
              `package show | json; package install proto http ${source.server} ${source.src} confirm | json; reboot confirm | json`,
            ],
            { input: hosts },
          ),
        );
      const load = [loadavg()[0]!];
      const first = await xargs(before);
      load.push(loadavg()[0]!);
      let failed = 0;
      const ansible = await seconds(async () => {
        const run = await runPlaybook(fleet, 'edgesh.device.rollout', {
          rollout_package: ours.name,
          rollout_version: ours.version,
          rollout_src: ours.src,
          rollout_server: ours.server,
          rollout_batch: PARALLEL,
        });
        failed = Object.values(run.stats).filter((s) => s.failures > 0 || s.unreachable > 0).length;
      });
      if (failed > 0) throw new Error(`the playbook failed on ${failed} devices`);
      load.push(loadavg()[0]!);
      const second = await xargs(after);
      load.push(loadavg()[0]!);
      return [
        {
          name: `rollout to ${COUNT} devices with the collection (serial ${PARALLEL}, forks ${PARALLEL})`,
          reference: `xargs -P ${PARALLEL} ssh host 'package show | json; package install … confirm | json; reboot confirm | json'`,
          ours: ansible,
          theirs: (first + second) / 2,
          target: 1.5,
          kind: 'ratio',
          unit: 's',
          note: `the reference is the mean of a run before (${first.toFixed(1)} s) and after (${second.toFixed(1)} s); every device installs and reboots in each run; load average (1 min) ${load.map((l) => l.toFixed(1)).join(', ')} at the start and end of each`,
        },
      ];
    } finally {
      for (const source of sources) await source.close();
    }
  });
}

/** One command over OpenSSH on one device: a JSON document against the login shell doing nothing. */
async function sshJson(): Promise<BenchResult[]> {
  return withFleet(1, async (fleet) => {
    const host = fleet.devices[0]!.name;
    const ssh = (command: string) => () =>
      runCommand('sh', [
        '-c',
        'ssh -F "$1" "$2" "$3" >/dev/null 2>&1; true',
        'ssh',
        fleet.sshConfig,
        host,
        command,
      ]);
    const json: number[] = [];
    const nothing: number[] = [];
    for (let i = 0; i < SSH_RUNS; i++) {
      json.push(await seconds(ssh('package show | json')));
      nothing.push(await seconds(ssh('true')));
    }
    return [
      {
        name: "ssh host 'package show | json'",
        reference: 'ssh host true (edgesh -c true: the login shell starts, the word is not a command)',
        ours: median(json),
        theirs: median(nothing),
        target: 1.5,
        kind: 'ratio',
        unit: 's',
        note: `median of ${SSH_RUNS} alternated runs`,
      },
    ];
  });
}

/** The fleet's benches (root only). */
export const benches: Record<string, Bench> = {
  'fleet: rollout with the collection vs xargs ssh': rollout,
  'fleet: ssh package show | json vs ssh true': sshJson,
};
