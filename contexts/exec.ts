// The top level (exec) of SPEC §3.2: contexts, show media/version/backup/log, reboot, factory-reset, terminal, whoami, history.
import type { BootReport } from '../firmware-sim/api.js';
import { commonCommands, commonGroups } from './common.js';
import { CliError } from './errors.js';
import { backupLines, firmwareAfterLines, firmwareChangeLines, versionFields } from './firmware.js';
import { type CommandEnv, type Context, command } from './grammar.js';
import { localTime, renderFields, renderTable } from './table.js';

/**
 * What Ctrl-C says during a boot. A boot is not stopped halfway: it would leave some packages
 * activated and others not, which only the next boot sorts out (it is crash safe, not a transaction
 * to cancel); it ends in seconds anyway.
 */
const BOOTING = 'boot in progress, cannot be interrupted';

/** The boot report as `reboot` and `factory-reset` print it. */
function bootReportLines(report: BootReport, env: CommandEnv): string[] {
  const rows = report.lines.map((l) => [
    l.name,
    l.version,
    l.verification,
    l.activated ? l.reason : `not activated: ${l.reason}`,
  ]);
  const lines = firmwareChangeLines(report);
  lines.push(
    ...renderTable(
      {
        title: `Boot ${localTime(report.at)}`,
        columns: ['NAME', 'VERSION', 'VERIFICATION', 'RESULT'],
        rows,
        wrap: true,
      },
      env.session.terminal,
    ),
  );
  lines.push(...firmwareAfterLines(report));
  for (const d of report.deactivated)
    lines.push(`Deactivated ${d.name} ${d.version} (${d.reason ?? 'removed'}).`);
  return lines;
}

async function confirmOrStop(env: CommandEnv, question: string): Promise<void> {
  if (!(await env.ui.confirm(question)))
    throw new CliError('CLI_NOT_CONFIRMED', 'not confirmed, nothing was changed');
}

async function showMedia(env: CommandEnv): Promise<void> {
  const media = await env.services.media();
  const labels = (await env.services.device.bootConfig()).media;
  const statuses = await media.resolver.list(labels);
  const rows = statuses.map((s) => [
    s.label.name,
    s.matches,
    s.available ? `${s.device ?? '?'} on ${s.mountpoint ?? '?'}` : `not available: ${s.reason ?? 'unknown'}`,
  ]);
  for (const line of renderTable(
    { title: 'Media', columns: ['LABEL', 'MATCHES', 'STATUS'], rows, wrap: true },
    env.session.terminal,
  )) {
    env.out.line(line);
  }
}

async function showVersion(env: CommandEnv): Promise<void> {
  const device = env.services.device;
  const [info, firmware] = await Promise.all([device.info(), device.firmware()]);
  for (const line of renderFields(versionFields(info, firmware))) env.out.line(line);
}

/** The top level. */
export const execContext: Context = {
  name: 'exec',
  path: '/',
  groups: { ...commonGroups, show: 'Show device information' },
  commands: [
    command({ name: 'package', help: 'Install, list and remove software packages', enter: 'package' }),
    command({
      name: 'boot',
      help: 'Bootloader configuration: untrusted packages, media labels, firmware fallback',
      enter: 'boot',
    }),
    command({
      name: 'show media',
      help: 'Show the media labels and the drives they match',
      run: async (_a, env) => showMedia(env),
    }),
    command({
      name: 'show version',
      help: 'Show hostname, firmware version and slots, architecture, serial and uptime',
      run: async (_a, env) => showVersion(env),
    }),
    command({
      name: 'show backup',
      help: 'Show the backup: the packages that come back after a firmware change or a factory reset',
      run: async (_a, env) => {
        for (const line of backupLines(await env.services.device.backup(), env)) env.out.line(line);
      },
    }),
    command({
      name: 'show log',
      help: 'Show the package event log',
      run: async (_a, env) => {
        for (const line of await env.services.device.eventLog()) env.out.line(line);
      },
    }),
    command({
      name: 'reboot',
      help: 'Reboot: verify and activate the installed packages, print the boot report',
      run: async (_a, env) => {
        await confirmOrStop(env, 'Reboot the device (y/N)?');
        const report = await env.session.shielded(BOOTING, () => env.services.device.boot());
        for (const line of bootReportLines(report, env)) env.out.line(line);
      },
    }),
    command({
      name: 'factory-reset',
      help: 'Remove all packages that are not persistent, reset runtime state, reboot',
      run: async (_a, env) => {
        await confirmOrStop(
          env,
          'Factory reset: remove all packages that are not persistent and reboot (y/N)?',
        );
        const report = await env.session.shielded(BOOTING, () => env.services.device.factoryReset());
        for (const line of bootReportLines(report, env)) env.out.line(line);
      },
    }),
    command({
      name: 'whoami',
      help: 'Show the user of this session',
      run: async (_a, env) => env.out.line(env.session.user),
    }),
    ...commonCommands,
  ],
};
