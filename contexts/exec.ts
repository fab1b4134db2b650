// The top level (exec) of SPEC §3.2: contexts, show media/version/backup/log/last-boot, reboot, factory-reset, whoami.
import type { BootReport } from '../firmware-sim/api.js';
import { commonCommands, commonGroups } from './common.js';
import {
  type BootReportDoc,
  backupDoc,
  bootReportDoc,
  logDoc,
  type MediaListDoc,
  mediaListDoc,
  type RebootDoc,
  type VersionDoc,
  versionDoc,
} from './device-docs.js';
import { CliError } from './errors.js';
import { backupLines, firmwareAfterLines, firmwareChangeLines, versionFields } from './firmware.js';
import { type CommandEnv, type Context, command, confirmFlag, options } from './grammar.js';
import { localTime, renderFields, renderTable } from './table.js';

/** `reboot [confirm]`, `factory-reset [confirm]`. */
const confirmParams = [options(confirmFlag)] as const;

/**
 * What Ctrl-C says during a boot. A boot is not stopped halfway: it would leave some packages
 * activated and others not, which only the next boot sorts out (it is crash safe, not a transaction
 * to cancel); it ends in seconds anyway.
 */
export const BOOTING = 'boot in progress, cannot be interrupted';

/** The boot report as `reboot`, `factory-reset` and `show last-boot` print it. */
function bootReportLines(report: BootReportDoc, env: CommandEnv): string[] {
  const rows = report.packages.map((l) => [
    l.name,
    l.version,
    l.verification,
    l.activated ? l.reason : `not activated: ${l.reason}`,
  ]);
  const lines = firmwareChangeLines(report);
  lines.push(
    ...renderTable(
      {
        title: `Boot ${localTime(report.booted_at)}`,
        columns: ['NAME', 'VERSION', 'VERIFICATION', 'RESULT'],
        rows,
        wrap: true,
      },
      env.session.terminal,
    ),
  );
  lines.push(...firmwareAfterLines(report));
  for (const d of report.deactivated) lines.push(`Deactivated ${d.name} ${d.version} (${d.reason}).`);
  return lines;
}

/** Prints a boot report (`text` of the commands that have one, and of those that boot on the way). */
export function printBootReport(report: BootReportDoc, env: CommandEnv): void {
  for (const line of bootReportLines(report, env)) env.out.line(line);
}

async function confirmOrStop(env: CommandEnv, question: string): Promise<void> {
  if (!(await env.ui.confirm(question)))
    throw new CliError('CLI_NOT_CONFIRMED', 'not confirmed, nothing was changed');
}

function mediaLines(doc: MediaListDoc, env: CommandEnv): string[] {
  const rows = doc.media.map((s) => [
    s.label,
    s.matches,
    s.available ? `${s.device ?? '?'} on ${s.mountpoint ?? '?'}` : `not available: ${s.reason ?? 'unknown'}`,
  ]);
  return renderTable(
    { title: 'Media', columns: ['LABEL', 'MATCHES', 'STATUS'], rows, wrap: true },
    env.session.terminal,
  );
}

async function showMedia(env: CommandEnv): Promise<MediaListDoc> {
  const media = await env.services.media();
  const labels = (await env.services.device.bootConfig()).media;
  return mediaListDoc(await media.resolver.list(labels), media);
}

async function showVersion(env: CommandEnv): Promise<VersionDoc> {
  const device = env.services.device;
  const [info, firmware, pending] = await Promise.all([device.info(), device.firmware(), device.pending()]);
  return versionDoc(info, firmware, pending);
}

/** `reboot` and `factory-reset`: asked first, the boot never stopped halfway, its report as the result. */
async function rebootWith(
  env: CommandEnv,
  question: string,
  result: RebootDoc['result'],
  boot: () => Promise<BootReport>,
): Promise<RebootDoc> {
  await confirmOrStop(env, question);
  const report = await env.session.shielded(BOOTING, boot);
  return { result, changed: true, ...bootReportDoc(report) };
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
      name: 'updater',
      help: 'Keep the packages in a described state from the feeds: requests, plans, approvals',
      enter: 'updater',
    }),
    command({
      name: 'trust',
      help: 'Trusted keys and revocations, known SSH hosts, CA certificates',
      enter: 'trust',
    }),
    command({
      name: 'show media',
      help: 'Show the media labels and the drives they match',
      data: async (_a, env) => showMedia(env),
      text: (doc, env) => {
        for (const line of mediaLines(doc, env)) env.out.line(line);
      },
    }),
    command({
      name: 'show version',
      help: 'Show hostname, firmware version and slots, architecture, serial and uptime',
      data: async (_a, env) => showVersion(env),
      text: (doc, env) => {
        for (const line of renderFields(versionFields(doc))) env.out.line(line);
      },
    }),
    command({
      name: 'show backup',
      help: 'Show the backup: the packages that come back after a firmware change or a factory reset',
      data: async (_a, env) => backupDoc(await env.services.device.backup()),
      text: (doc, env) => {
        for (const line of backupLines(doc, env)) env.out.line(line);
      },
    }),
    command({
      name: 'show log',
      help: 'Show the package event log',
      data: async (_a, env) => logDoc(await env.services.device.eventLog()),
      text: (doc, env) => {
        for (const e of doc.events) env.out.line(e.time === null ? e.text : `${e.time} ${e.text}`);
      },
    }),
    command({
      name: 'show last-boot',
      help: 'Show the report of the last boot',
      data: async (_a, env) => bootReportDoc(await env.services.device.lastBoot()),
      text: printBootReport,
    }),
    command({
      name: 'reboot',
      help: 'Reboot: verify and activate the installed packages, print the boot report',
      params: confirmParams,
      data: async (_a, env) =>
        rebootWith(env, 'Reboot the device (y/N)?', 'rebooted', () => env.services.device.boot()),
      text: printBootReport,
    }),
    command({
      name: 'factory-reset',
      help: 'Remove all packages that are not persistent, reset runtime state, reboot',
      params: confirmParams,
      data: async (_a, env) =>
        rebootWith(
          env,
          'Factory reset: remove all packages that are not persistent and reboot (y/N)?',
          'factory-reset',
          () => env.services.device.factoryReset(),
        ),
      text: printBootReport,
    }),
    command({
      name: 'whoami',
      help: 'Show the user of this session',
      run: async (_a, env) => env.out.line(env.session.user),
    }),
    ...commonCommands,
  ],
};
