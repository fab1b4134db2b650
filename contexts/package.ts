// The `package` context of the vendor manual (SPEC §3.4): install, remove, show/list, each with its document.

import { printable } from '../common/text.js';
import type { InstallResult } from '../firmware-sim/api.js';
import { commonCommands, commonGroups } from './common.js';
import { bootReportDoc } from './device-docs.js';
import { CliError } from './errors.js';
import { BOOTING, printBootReport } from './exec.js';
import type { PlanResultDoc } from './feed-docs.js';
import { installTarget } from './feed-param-types.js';
import {
  type Args,
  type ArgsOf,
  arg,
  type CommandEnv,
  type Context,
  command,
  confirmFlag,
  dryRunFlag,
  flag,
  option,
  options,
  rebootFlag,
} from './grammar.js';
import {
  type InstallDoc,
  installDoc,
  type PackageDetailsDoc,
  type PackageListDoc,
  packageDetailsDoc,
  packageDoc,
  type RemoveDoc,
} from './package-docs.js';
import { feedCommands } from './package-feeds.js';
import {
  installByName,
  planCommands,
  planDryRunFlag,
  planText,
  removeWithDependents,
} from './package-plan.js';
import { queryCommands } from './package-queries.js';
import { AFTER_REBOOT, detailLines, installLines, packageTable } from './package-text.js';
import { installedPackage, type PackageFile, packageFile, packageOrAll, word } from './param-types.js';
import { openSource, persistentFlag, sourceOptions } from './source.js';

export { AFTER_REBOOT } from './package-text.js';

/** A word of the line that only a file install takes (a server's protocol, login, or a media). */
function fromFile(a: Args): boolean {
  return a.media !== undefined || a.proto !== undefined || a.user !== undefined || a.password !== undefined;
}
/** The feed words after a bare name: only when no file-install word came before, and the target may be a name. */
const feedOnly = (a: Args): boolean =>
  fromFile(a) || (a.target as { name?: string } | undefined)?.name === undefined;
const FEED_ONLY = 'no-recommends applies to installing a package of the feeds by name';
const DRY_RUN_LAST =
  'dry-run follows the file when installing from a server or a media (install ADDRESS FILE dry-run)';

/** `dry-run` of install, after a name (the plan) or after a file (fetched and verified): one help for both. */
const INSTALL_DRY_RUN =
  'Change nothing: print the plan (a name of the feeds), or fetch and verify the file (a .wmopkg)';

const installParams = [
  options(persistentFlag, ...sourceOptions),
  arg('target', installTarget, { skipIf: (a) => a.media !== undefined }),
  options(
    { ...planDryRunFlag, help: INSTALL_DRY_RUN, skipIf: feedOnly, conflict: DRY_RUN_LAST },
    flag('no-recommends', 'Leave the packages it recommends out', 'noRecommends', {
      skipIf: feedOnly,
      conflict: FEED_ONLY,
    }),
    { ...confirmFlag, skipIf: feedOnly },
  ),
  // After a server or a media the file is needed; after a bare name there is none.
  arg('file', packageFile, {
    optional: true,
    requiredIf: (a) => fromFile(a) || (a.target as { name?: string } | undefined)?.name === undefined,
    skipIf: (a) => a.dryRun !== undefined || a.noRecommends !== undefined || a.confirm !== undefined,
  }),
  // A file install takes dry-run, confirm and reboot after the file.
  options(
    { ...dryRunFlag, help: INSTALL_DRY_RUN, skipIf: (a) => a.file === undefined },
    { ...confirmFlag, skipIf: (a) => a.file === undefined },
    { ...rebootFlag, skipIf: (a) => a.file === undefined },
    option(
      'version',
      word('<version>', 'The version the file must hold'),
      'Install only this version: unchanged without a transfer when it is installed, a file of another version refused',
      { display: '<version>', skipIf: (a) => a.file === undefined },
    ),
  ),
] as const;
const removeParams = [arg('target', packageOrAll, { optional: true }), options(confirmFlag)] as const;
const showParams = [arg('name', installedPackage, { optional: true })] as const;

/**
 * `package install PKGNAME | json` from the feeds: the plan is printed (to stderr with `| json`) before
 * it is applied; the document is the plan's result, naming the package.
 */
type FeedInstallDoc = PlanResultDoc & { readonly source: 'feeds'; readonly name: string };

function ellipsis(env: CommandEnv): string {
  return env.session.terminal.ascii ? '...' : '…';
}

/**
 * `install`. Interrupted (Ctrl-C, a hang-up), it says one thing whichever layer stopped: while
 * connecting, asking, transferring or storing, nothing was installed.
 */
async function install(
  args: ArgsOf<typeof installParams>,
  env: CommandEnv,
): Promise<InstallDoc | FeedInstallDoc> {
  const file = args.file;
  if (file === undefined) {
    // A bare name: from the feeds, with everything it needs (the plan is printed as it goes).
    const name = args.target!.name!;
    return { ...(await installByName(name, args, env)), source: 'feeds', name };
  }
  try {
    return await installFrom(args, file, env);
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
): Promise<InstallDoc> {
  if (args.version !== undefined) {
    const kept = await installedAt(file.name, args.version, args, env);
    if (kept !== undefined) return kept;
  }
  const source = await openSource(
    {
      ...args,
      ...(args.target?.address === undefined ? {} : { address: args.target.address }),
      path: file.path,
    },
    env,
  );
  let result: InstallResult;
  try {
    result = await env.services.device.install({
      name: file.name,
      persistent: args.persistent === true,
      origin: source.origin,
      stream: source.transfer.stream,
      signal: env.signal,
      ...(args.dryRun === true ? { dryRun: true } : {}),
      ...(args.version === undefined ? {} : { version: args.version }),
      confirmDowngrade: async (from, to, subject) => {
        source.done();
        const what = subject === 'firmware' ? 'firmware' : file.name;
        return env.ui.confirm(`Downgrade ${what} from ${from} to ${to} (y/N)?`);
      },
    });
  } finally {
    source.done();
    source.transfer.stream.destroy();
  }
  const doc = installDoc(result, await installWarnings(result, env));
  if (args.reboot !== true || !doc.changed || !doc.reboot_required) return doc;
  // The install is done and stored: the boot that activates it is not interrupted (as `reboot`).
  const report = await env.session.shielded(BOOTING, () => env.services.device.boot());
  // The boot has run: nothing waits for another one (the report says what it activated).
  return { ...doc, reboot_required: false, boot: bootReportDoc(report) };
}

/**
 * `install … version V` when `name` is installed at V, valid, and persistent if asked: `unchanged`
 * without a transfer (the device knows the version it holds; only another version needs the file).
 */
async function installedAt(
  name: string,
  version: string,
  args: { readonly persistent?: boolean; readonly dryRun?: boolean },
  env: CommandEnv,
): Promise<InstallDoc | undefined> {
  const persistent = args.persistent === true;
  const device = env.services.device;
  const entry = (await device.list()).find((p) => p.name === name);
  if (entry === undefined || entry.state === 'removed' || entry.version !== version) return undefined;
  if (entry.verification === 'Invalid' || (persistent && !entry.persistent)) return undefined;
  const details = await device.details(name);
  return {
    result: 'unchanged',
    changed: false,
    dry_run: args.dryRun === true,
    name,
    version,
    previous_version: version,
    verification: entry.verification,
    reason: entry.reason ?? null,
    signing_key: details.keyNumber ?? null,
    persistent: entry.persistent,
    will_activate: entry.state !== 'inactive',
    reboot_required: false,
    kind: 'package',
    firmware: null,
    removal: null,
    warnings: [],
    boot: null,
  };
}

/**
 * The warnings of an install: why an Unsigned or Untrusted package, or a Signed one the activation
 * rule refuses, will (not) be activated. `unsigned is Unsigned: no signature (…); it will …`: the
 * device's reason may hold parentheses of its own.
 */
async function installWarnings(result: InstallResult, env: CommandEnv): Promise<string[]> {
  if (result.removal !== undefined) return [];
  const what = `${result.name} is ${result.verification}${result.reason === undefined ? '' : `: ${result.reason}`}`;
  if (result.verification === 'Unsigned' || result.verification === 'Untrusted') {
    if (result.willActivate)
      return [`${what}; it will be activated because allow-untrusted is set in the boot context.`];
    const trust = await untrustedPolicy(env);
    return [
      trust.set && !trust.inForce
        ? `${what}; it will not be activated: allow-untrusted is set, but secure boot does not honour it without an unlock token (boot unlock).`
        : `${what}; it will not be activated unless allow-untrusted is set in the boot context.`,
    ];
  }
  return result.willActivate ? [] : [`${what}; it will not be activated.`];
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

async function remove(args: ArgsOf<typeof removeParams>, env: CommandEnv): Promise<RemoveDoc> {
  const target = args.target ?? { all: true };
  const device = env.services.device;
  if (target.all) {
    // Asked even when nothing is installed: the manual always asks, and a script sends the answer.
    if (!(await env.ui.confirm('Remove all packages (y/N)?'))) throw notConfirmed();
    const names = (await device.list()).filter((p) => p.state !== 'removed').map((p) => p.name);
    const removed = await device.removeAll();
    const changed = removed > 0;
    return {
      result: changed ? 'removed' : 'unchanged',
      all: true,
      changed,
      removed: changed ? names : [],
      from_backup: false,
      reboot_required: changed,
    };
  }
  let question = `Remove package ${target.name} (y/N)?`;
  let held = false;
  if (!(await device.names()).includes(target.name)) {
    // Not installed, but kept in the backup (taken out by a removal package): remove takes it out.
    held = (await device.backup()).some((e) => e.name === target.name && e.state === 'held');
    if (!held) {
      // The device's words for the same case (`package show NAME`).
      throw new CliError(
        'CLI_NOT_FOUND',
        `package ${printable(target.name)} is not installed (see package show)`,
      );
    }
    question = `Remove package ${target.name} from the backup (y/N)?`;
  }
  // Installed packages that depend on it: listed, and removed too once confirmed (a package kept only
  // in the backup is installed nowhere, so nothing depends on it).
  const withDependents = held ? undefined : await removeWithDependents(target.name, env);
  if (withDependents !== undefined) {
    return {
      result: 'removed',
      all: false,
      changed: true,
      removed: [...withDependents],
      from_backup: false,
      reboot_required: true,
    };
  }
  if (!(await env.ui.confirm(question))) throw notConfirmed();
  await device.remove(target.name);
  return {
    result: 'removed',
    all: false,
    changed: true,
    removed: [target.name],
    from_backup: held,
    reboot_required: !held,
  };
}

function notConfirmed(): CliError {
  return new CliError('CLI_NOT_CONFIRMED', 'not confirmed, nothing was changed');
}

async function show(
  args: ArgsOf<typeof showParams>,
  env: CommandEnv,
): Promise<PackageListDoc | PackageDetailsDoc> {
  const device = env.services.device;
  if (args.name !== undefined) return packageDetailsDoc(await device.details(args.name));
  return { packages: (await device.list()).map(packageDoc) };
}

/** The `package` context. */
export const packageContext: Context = {
  name: 'package',
  path: '/package/#',
  groups: { ...commonGroups, no: 'Remove a feed (no feed NAME)' },
  commands: [
    command({
      name: 'install',
      help: 'Install a package from the feeds by name, or a .wmopkg file from a server or a media; takes effect after reboot',
      params: installParams,
      data: install,
      text: (doc, env) => {
        // From the feeds, the plan was printed before it was applied.
        if ('source' in doc) {
          const idle = `Nothing to do: ${doc.name} is installed, at the newest version the feeds offer.`;
          planText(doc, env, idle);
          return;
        }
        for (const line of installLines(doc)) env.out.line(line);
        for (const warning of doc.warnings) env.out.warn(warning);
        if (doc.boot !== null) printBootReport(doc.boot, env);
      },
    }),
    command({
      name: 'remove',
      help: 'Remove a package, or all packages (the default); takes effect after reboot',
      params: removeParams,
      data: remove,
      text: (doc, env) =>
        env.out.line(
          !doc.changed
            ? 'No packages installed.'
            : `${doc.all ? 'Removing all packages' : 'Removed'}${ellipsis(env)} ${AFTER_REBOOT}`,
        ),
    }),
    command({
      name: 'show',
      aliases: ['list'],
      help: 'Show the installed packages, or the details of one',
      params: showParams,
      data: show,
      text: (doc, env) => {
        const lines = 'packages' in doc ? packageTable(doc.packages, env) : detailLines(doc, env);
        for (const line of lines) env.out.line(line);
      },
    }),
    ...feedCommands,
    ...planCommands,
    ...queryCommands,
    ...commonCommands,
  ],
};
