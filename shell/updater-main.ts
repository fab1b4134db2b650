// `edgesh-updater`'s full run in node: one updater run on a device, for cron or a systemd timer.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { errorLine } from '../contexts/errors.js';
import { createFeedFetcher } from '../contexts/feed-fetch.js';
import { DEFAULT_DEVICE_DIR, type RunOutcome } from '../firmware-sim/api.js';

/** Printed by `edgesh-updater --help`. */
const UPDATER_USAGE = `Usage: edgesh-updater [--device DIR] [--jitter SECONDS]

  --device DIR        device state directory (default: $EDGESH_DEVICE, else ./.device)
  --jitter SECONDS    first sleep a random time up to SECONDS, so that a fleet does not arrive at once
  -h, --help          show this help

One updater run: update the feeds, plan, apply the plan when the approval settings allow it. It
never asks anything. It prints one line when it applies a plan or a plan waits for approval, and
nothing when there is nothing to do; errors go to stderr. Exit status: 0 applied or nothing to do,
1 failed (nothing half-done), 2 waiting for approval.`;

/** Exit statuses. */
const UPDATER_STATUS = { done: 0, failed: 1, waiting: 2 } as const;

/** The longest jitter: a day. */
const MAX_JITTER = 86_400;

/** Runs `edgesh-updater` with `argv`; resolves with the exit status. */
export async function updaterMain(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let values: { device?: string; jitter?: string; help?: boolean };
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        device: { type: 'string' },
        jitter: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`Error: ${(e as Error).message.split('\n')[0]} (see edgesh-updater --help)\n`);
    return UPDATER_STATUS.failed;
  }
  if (values.help) {
    process.stdout.write(`${UPDATER_USAGE}\n`);
    return UPDATER_STATUS.done;
  }
  const jitter = values.jitter === undefined ? 0 : Number(values.jitter);
  if (!/^[0-9]{1,6}$/.test(values.jitter ?? '0') || jitter > MAX_JITTER) {
    process.stderr.write(`Error: --jitter takes whole seconds from 0 to ${MAX_JITTER}\n`);
    return UPDATER_STATUS.failed;
  }
  const dir = values.device ?? (env.EDGESH_DEVICE || DEFAULT_DEVICE_DIR);
  // A timer must never create a device where it was pointed by mistake.
  if (!existsSync(join(dir, 'device.json'))) {
    process.stderr.write(`Error: ${dir} is not a device directory (no device.json)\n`);
    return UPDATER_STATUS.failed;
  }
  if (jitter > 0) await sleep(Math.floor(Math.random() * jitter * 1000));
  try {
    const outcome = await runOnce(dir);
    const line = summary(outcome);
    if (line !== undefined) process.stdout.write(`edgesh-updater: ${line}\n`);
    return outcome.result === 'waiting' ? UPDATER_STATUS.waiting : UPDATER_STATUS.done;
  } catch (e) {
    process.stderr.write(`${errorLine(e)}\n`);
    return UPDATER_STATUS.failed;
  }
}

/** Opens the device and runs the updater once, over the real transports and media, asking nobody. */
async function runOnce(dir: string): Promise<RunOutcome> {
  const [{ openDevice }, transports, media] = await Promise.all([
    import('../firmware-sim/index.js'),
    import('../transports/index.js'),
    import('../media/index.js'),
  ]);
  const device = await openDevice(dir, { session: { user: 'updater', id: `edgesh-updater ${process.pid}` } });
  const info = await device.info();
  const fetcher = createFeedFetcher({
    openRemote: transports.openRemote,
    media: {
      resolver: media.createMediaResolver({ usbStick: device.paths.usbStick }),
      labels: async () => (await device.bootConfig()).media,
    },
    defaultPorts: info.defaultPorts,
    user: 'updater',
    knownHostsFile: device.paths.knownHostsFile,
    caDir: device.paths.caDir,
  });
  return device.updater.run({ fetcher, trigger: 'timer' });
}

/** The one line a run prints, or none (nothing to do). */
function summary(outcome: RunOutcome): string | undefined {
  switch (outcome.result) {
    case 'applied':
      return `applied plan ${outcome.planId} (${outcome.steps === 1 ? '1 step' : `${outcome.steps} steps`}); ${outcome.reboot === 'done' ? 'rebooted' : 'takes effect at the next reboot'}`;
    case 'waiting':
      return outcome.message ?? `plan ${outcome.planId} waits for approval`;
    default:
      return undefined;
  }
}
