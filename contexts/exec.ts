// The top level (exec) of SPEC §3.2: contexts, show media/version/log, reboot, factory-reset, terminal, whoami, history.
import type { BootReport } from '../firmware-sim/api.js';
import { commonCommands } from './common.js';
import { CliError } from './errors.js';
import { arg, type CommandEnv, type Context, command } from './grammar.js';
import { number } from './param-types.js';
import { duration, localTime, renderFields, renderTable } from './table.js';

/**
 * What Ctrl-C says during a boot. A boot is not stopped halfway: it would leave some packages
 * activated and others not, which only the next boot sorts out (it is crash safe, not a transaction
 * to cancel); it ends in seconds anyway.
 */
const BOOTING = 'boot in progress, cannot be interrupted';

/** The boot report as `reboot` and `factory-reset` (and `updater run` with `reboot auto`) print it. */
export function bootReportLines(report: BootReport, env: CommandEnv): string[] {
  const rows = report.lines.map((l) => [
    l.name,
    l.version,
    l.verification,
    l.activated ? l.reason : `not activated: ${l.reason}`,
  ]);
  const lines = renderTable(
    {
      title: `Boot ${localTime(report.at)}`,
      columns: ['NAME', 'VERSION', 'VERIFICATION', 'RESULT'],
      rows,
      wrap: true,
    },
    env.session.terminal,
  );
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
  const info = await env.services.device.info();
  const fields: Array<[string, string]> = [
    ['Hostname', info.hostname],
    ['Firmware version', info.firmwareVersion],
    ['Architecture', ['all', ...info.architectures].join(', ')],
    ['Serial', info.serial],
    ['Secure boot', info.secureBoot ? 'yes' : 'no'],
    ['Uptime', `${duration(Date.now() - Date.parse(info.bootedAt))} (booted ${localTime(info.bootedAt)})`],
  ];
  for (const line of renderFields(fields)) env.out.line(line);
}

function setTerminal(env: CommandEnv, change: Partial<CommandEnv['session']['terminal']>): void {
  Object.assign(env.session.terminal, change);
}

/** The top level. */
export const execContext: Context = {
  name: 'exec',
  path: '/',
  groups: { show: 'Show device information', terminal: 'Settings of this terminal session' },
  commands: [
    command({ name: 'package', help: 'Install, list and remove software packages', enter: 'package' }),
    command({
      name: 'boot',
      help: 'Bootloader configuration: untrusted packages, media labels',
      enter: 'boot',
    }),
    command({
      name: 'updater',
      help: 'Keep the packages in a described state from the feeds: requests, plans, approvals',
      enter: 'updater',
    }),
    command({
      name: 'show media',
      help: 'Show the media labels and the drives they match',
      run: async (_a, env) => showMedia(env),
    }),
    command({
      name: 'show version',
      help: 'Show hostname, firmware version, architecture, serial and uptime',
      run: async (_a, env) => showVersion(env),
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
      name: 'terminal length',
      help: 'Lines per page on this terminal (0: no paging)',
      params: [arg('n', number('N', 'Lines per page, 0 for no paging', 0, 512))],
      run: async (a, env) => setTerminal(env, { length: a.n }),
    }),
    command({
      name: 'terminal width',
      help: 'Columns of this terminal, for tables',
      params: [arg('n', number('N', 'Columns', 40, 512))],
      run: async (a, env) => setTerminal(env, { width: a.n }),
    }),
    command({
      name: 'terminal ascii',
      help: 'Draw tables with ASCII characters only',
      run: async (_a, env) => setTerminal(env, { ascii: true }),
    }),
    command({
      name: 'terminal utf8',
      help: 'Draw tables with box-drawing characters',
      run: async (_a, env) => setTerminal(env, { ascii: false }),
    }),
    command({
      name: 'whoami',
      help: 'Show the user of this session',
      run: async (_a, env) => env.out.line(env.session.user),
    }),
    ...commonCommands,
  ],
};
