// The `package` context of the vendor manual (SPEC §3.4): install, remove, show/list.

import { formatBytes } from '../common/bytes.js';
import { formatOrigin } from '../common/origin.js';
import { printable } from '../common/text.js';
import type { ActivationState, InstallResult, PackageDetails, PackageSummary } from '../firmware-sim/api.js';
import { commonCommands, commonGroups } from './common.js';
import { CliError } from './errors.js';
import { installFirmwareLine } from './firmware.js';
import { type ArgsOf, arg, type CommandEnv, type Context, command, options } from './grammar.js';
import { address, installedPackage, type PackageFile, packageFile, packageOrAll } from './param-types.js';
import { openSource, persistentFlag, sourceOptions } from './source.js';
import { localTime, pyBool, renderFields, renderTable, toAscii, wrapLine } from './table.js';

const installParams = [
  options(persistentFlag, ...sourceOptions),
  arg('address', address, { skipIf: (a) => a.media !== undefined }),
  arg('file', packageFile),
] as const;
const removeParams = [arg('target', packageOrAll, { optional: true })] as const;
const showParams = [arg('name', installedPackage, { optional: true })] as const;

/** The sentence every change ends with. */
export const AFTER_REBOOT = 'Changes are applied after reboot.';

/** The marker after a name in `show`, and the line under the table that explains it. */
const STATE_MARKERS: Readonly<Record<ActivationState, { readonly mark: string; readonly legend: string }>> = {
  active: { mark: '', legend: '' },
  pending: {
    mark: '*',
    legend: '* pending: installed or changed since the last boot, takes effect at the next reboot',
  },
  inactive: { mark: '!', legend: '! not active: the last boot did not activate it (show PKGNAME says why)' },
  removed: { mark: '-', legend: '- removed: still active until the next reboot' },
};

function ellipsis(env: CommandEnv): string {
  return env.session.terminal.ascii ? '...' : '…';
}

/**
 * `install`. Interrupted (Ctrl-C, a hang-up), it says one thing whichever layer stopped: while
 * connecting, asking, transferring or storing, nothing was installed.
 */
async function install(args: ArgsOf<typeof installParams>, env: CommandEnv): Promise<void> {
  const file = args.file;
  try {
    await installFrom(args, file, env);
  } catch (e) {
    if (!env.signal.aborted) throw e;
    throw new CliError('CLI_ABORTED', `installation of ${file.name} cancelled; nothing was installed`, {
      cause: e,
    });
  }
}

async function installFrom(
  args: ArgsOf<typeof installParams>,
  file: PackageFile,
  env: CommandEnv,
): Promise<void> {
  const source = await openSource({ ...args, path: file.path }, env);
  let downgrade = false;
  let result: InstallResult;
  try {
    result = await env.services.device.install({
      name: file.name,
      persistent: args.persistent === true,
      origin: source.origin,
      stream: source.transfer.stream,
      signal: env.signal,
      confirmDowngrade: async (from, to, subject) => {
        source.done();
        const what = subject === 'firmware' ? 'firmware' : file.name;
        const yes = await env.ui.confirm(`Downgrade ${what} from ${from} to ${to} (y/N)?`);
        // Of the firmware, the package itself is installed (not downgraded) and says so below.
        downgrade = yes && subject !== 'firmware';
        return yes;
      },
    });
  } finally {
    source.done();
    source.transfer.stream.destroy();
  }
  // `persistent` is shown whether typed or kept: a persistent package stays so until it is removed.
  const how = [
    result.verification,
    ...(result.keyNumber === undefined ? [] : [`key ${result.keyNumber}`]),
    ...(result.persistent ? ['persistent'] : []),
  ].join(', ');
  if (result.removal) {
    const r = result.removal;
    const scope = r.keptInBackup
      ? '; it stays in the backup and comes back after a firmware change or a factory reset'
      : r.fromBackup
        ? ', also from the backup'
        : '';
    env.out.line(
      `Removal package ${result.name} (${how}): ${r.target} ${r.version} removed${scope}. ${AFTER_REBOOT}`,
    );
    return;
  }
  let done: string;
  if (result.previousVersion === undefined) done = `Installed ${result.name} ${result.version}`;
  else if (result.previousVersion === result.version) done = `Reinstalled ${result.name} ${result.version}`;
  else if (result.firmware) done = `Replaced ${result.name} ${result.previousVersion} with ${result.version}`;
  else
    done = `${downgrade ? 'Downgraded' : 'Upgraded'} ${result.name} from ${result.previousVersion} to ${result.version}`;
  env.out.line(`${done} (${how}). ${AFTER_REBOOT}`);
  if (result.firmware) env.out.line(installFirmwareLine(result.firmware));
  // `unsigned is Unsigned: no signature (package has no _manifest); it will …`: the device's reason
  // may hold parentheses of its own.
  const what = `${result.name} is ${result.verification}${result.reason === undefined ? '' : `: ${result.reason}`}`;
  if (result.verification === 'Unsigned' || result.verification === 'Untrusted') {
    if (result.willActivate) {
      env.out.warn(`${what}; it will be activated because allow-untrusted is set in the boot context.`);
    } else {
      const trust = await untrustedPolicy(env);
      env.out.warn(
        trust.set && !trust.inForce
          ? `${what}; it will not be activated: allow-untrusted is set, but secure boot does not honour it without an unlock token (boot unlock).`
          : `${what}; it will not be activated unless allow-untrusted is set in the boot context.`,
      );
    }
  } else if (!result.willActivate) {
    env.out.warn(`${what}; it will not be activated.`);
  }
}

/**
 * Whether `allow-untrusted` is set, and whether the boot honours it: with a secure-boot anchor only
 * when an unlock token for this device is installed (the device lists a token only when it is valid).
 */
async function untrustedPolicy(env: CommandEnv): Promise<{ set: boolean; inForce: boolean }> {
  const device = env.services.device;
  const [config, info] = await Promise.all([device.bootConfig(), device.info()]);
  return {
    set: config.allowUntrusted,
    inForce: config.allowUntrusted && (!info.secureBoot || config.unlock !== undefined),
  };
}

async function remove(args: ArgsOf<typeof removeParams>, env: CommandEnv): Promise<void> {
  const target = args.target ?? { all: true };
  const device = env.services.device;
  if (target.all) {
    // Asked even when nothing is installed: the manual always asks, and a script sends the answer.
    if (!(await env.ui.confirm('Remove all packages (y/N)?'))) throw notConfirmed();
    const removed = await device.removeAll();
    env.out.line(
      removed === 0 ? 'No packages installed.' : `Removing all packages${ellipsis(env)} ${AFTER_REBOOT}`,
    );
    return;
  }
  let question = `Remove package ${target.name} (y/N)?`;
  if (!(await device.names()).includes(target.name)) {
    // Not installed, but kept in the backup (taken out by a removal package): remove takes it out.
    const held = (await device.backup()).some((e) => e.name === target.name && e.state === 'held');
    if (!held) {
      // The device's words for the same case (`package show NAME`).
      throw new CliError(
        'CLI_NOT_FOUND',
        `package ${printable(target.name)} is not installed (see package show)`,
      );
    }
    question = `Remove package ${target.name} from the backup (y/N)?`;
  }
  if (!(await env.ui.confirm(question))) throw notConfirmed();
  await device.remove(target.name);
  env.out.line(`Removed${ellipsis(env)} ${AFTER_REBOOT}`);
}

function notConfirmed(): CliError {
  return new CliError('CLI_NOT_CONFIRMED', 'not confirmed, nothing was changed');
}

async function show(args: ArgsOf<typeof showParams>, env: CommandEnv): Promise<void> {
  const name = args.name;
  const device = env.services.device;
  if (name !== undefined) {
    for (const line of detailLines(await device.details(name), env)) env.out.line(line);
    return;
  }
  for (const line of packageTable(await device.list(), env)) env.out.line(line);
}

/** The `show` table with its five columns, and the legend of the markers it uses. */
function packageTable(list: readonly PackageSummary[], env: CommandEnv): string[] {
  const rows = list.map((p) => [
    p.name + STATE_MARKERS[p.state].mark,
    p.version,
    pyBool(p.persistent),
    p.verification,
    p.description,
  ]);
  const lines = renderTable(
    { title: 'Packages', columns: ['NAME', 'VERSION', 'PERSISTENT', 'VERIFICATION', 'DESCRIPTION'], rows },
    env.session.terminal,
  );
  for (const state of ['pending', 'inactive', 'removed'] as const) {
    if (list.some((p) => p.state === state))
      lines.push(...wrapLine(STATE_MARKERS[state].legend, env.session.terminal.width));
  }
  return lines;
}

/**
 * `State:` of `show PKGNAME`. For a pending package the device's reason either says the same as
 * the shell (`takes effect at the next boot`) or why the next boot will not activate it.
 */
function stateText(p: PackageSummary): string {
  const running = p.activeVersion === undefined ? '' : ` (running ${p.activeVersion})`;
  switch (p.state) {
    case 'active':
      return 'active';
    case 'pending':
      return p.reason === undefined || /^takes effect\b/.test(p.reason)
        ? `pending, takes effect at the next reboot${running}`
        : `pending${running}, ${p.reason}`;
    case 'inactive':
      if (p.verification === 'Invalid' && !/^damaged record\b/.test(p.reason ?? '')) {
        return `not active${running}: verification failed`;
      }
      return `not active${running}${p.reason === undefined ? '' : `: ${p.reason}`}`;
    case 'removed':
      return 'removed, still active until the next reboot';
  }
}

/**
 * `Verification:` with why it is not Signed. The device's `reason` explains the activation; what it
 * says about the signature (a revoked key, why a package is Invalid) is kept, the rest follows from
 * the verdict and the signing key.
 */
function verificationText(d: PackageDetails): string {
  switch (d.verification) {
    case 'Signed':
      return 'Signed';
    case 'Unsigned':
      return 'Unsigned (no signature)';
    case 'Untrusted': {
      const key = d.keyNumber ?? 'unknown';
      const reason = d.reason ?? '';
      if (reason.startsWith('revocation list unreadable')) return `Untrusted (${reason})`;
      return /\brevoked key\b/.test(reason)
        ? `Untrusted (key ${key} is revoked)`
        : `Untrusted (key ${key} is not trusted)`;
    }
    case 'Invalid':
      return d.reason === undefined ? 'Invalid' : `Invalid (${d.reason})`;
  }
}

/** A control field value for display: continuation lines lose their leading blank, ` .` is an empty line. */
function controlValue(value: string): string {
  return value
    .split('\n')
    .map((line, i) => (i === 0 ? line : line.replace(/^ /, '').replace(/^\.$/, '')))
    .join('\n');
}

/** The heading over what the package says of itself, apart from what the device knows. */
export const CONTROL_HEADING = 'Control fields, as the package states them:';

/**
 * `show PKGNAME`: first what the device knows (the name it installed the package under, its version,
 * state and verification, where it came from), each at the start of a line; then the package's own control fields, indented under a
 * heading. A package may name a field `State` or `Verification` and give it any value: it is shown
 * among the package's words, never where the device speaks.
 */
function detailLines(d: PackageDetails, env: CommandEnv): string[] {
  const source = `${formatOrigin(d.origin)} ${d.origin.path}`;
  const facts: Array<[string, string]> = [
    ['Name', d.name],
    ['Version', d.version],
    ['State', stateText(d)],
    ['Verification', verificationText(d)],
    ['Signing key', d.keyNumber ?? 'none'],
    ['Persistent', pyBool(d.persistent)],
    ['Source', source],
    ['Installed', localTime(d.installedAt)],
    ['Size', d.size < 1024 ? formatBytes(d.size) : `${formatBytes(d.size)} (${d.size} bytes)`],
    ['Files', d.fileCount === undefined ? 'counted at activation' : String(d.fileCount)],
  ];
  const control = d.fields.map(([k, v]): [string, string] => [k, controlValue(v)]);
  const lines = [...renderFields(facts), CONTROL_HEADING, ...renderFields(control, 2)];
  return lines.map((l) => (env.session.terminal.ascii ? toAscii(l) : l));
}

/** The `package` context. */
export const packageContext: Context = {
  name: 'package',
  path: '/package/#',
  groups: commonGroups,
  commands: [
    command({
      name: 'install',
      help: 'Install a .wmopkg package from a server or a media; takes effect after reboot',
      params: installParams,
      run: install,
    }),
    command({
      name: 'remove',
      help: 'Remove a package, or all packages (the default); takes effect after reboot',
      params: removeParams,
      run: remove,
    }),
    command({
      name: 'show',
      aliases: ['list'],
      help: 'Show the installed packages, or the details of one',
      params: showParams,
      run: show,
    }),
    ...commonCommands,
  ],
};
