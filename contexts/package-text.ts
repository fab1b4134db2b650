// How the package context's documents read as text: the `show` table and its markers, `show PKGNAME`, the install line.
import { formatBytes } from '../common/bytes.js';
import { formatHostPort } from '../common/host.js';
import type { CommandEnv } from './grammar.js';
import type { InstallDoc, OriginDoc, PackageDetailsDoc, PackageDoc } from './package-docs.js';
import { localTime, pyBool, renderFields, renderTable, toAscii, wrapLine } from './table.js';

/** The sentence every change ends with. */
export const AFTER_REBOOT = 'Changes are applied after reboot.';

/** The marker after a name in `show`, and the line under the table that explains it. */
const STATE_MARKERS: Readonly<
  Record<PackageDoc['state'], { readonly mark: string; readonly legend: string }>
> = {
  active: { mark: '', legend: '' },
  pending: {
    mark: '*',
    legend: '* pending: installed or changed since the last boot, takes effect at the next reboot',
  },
  inactive: { mark: '!', legend: '! not active: the last boot did not activate it (show PKGNAME says why)' },
  removed: { mark: '-', legend: '- removed: still active until the next reboot' },
};

/** The `show` table with its five columns, and the legend of the markers it uses. */
export function packageTable(list: readonly PackageDoc[], env: CommandEnv): string[] {
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
function stateText(p: PackageDoc): string {
  const running = p.active_version === null ? '' : ` (running ${p.active_version})`;
  switch (p.state) {
    case 'active':
      return 'active';
    case 'pending':
      return p.reason === null || /^takes effect\b/.test(p.reason)
        ? `pending, takes effect at the next reboot${running}`
        : `pending${running}, ${p.reason}`;
    case 'inactive':
      if (p.verification === 'Invalid' && !/^damaged record\b/.test(p.reason ?? '')) {
        return `not active${running}: verification failed`;
      }
      return `not active${running}${p.reason === null ? '' : `: ${p.reason}`}`;
    case 'removed':
      return 'removed, still active until the next reboot';
  }
}

/**
 * `Verification:` with why it is not Signed. The device's `reason` explains the activation; what it
 * says about the signature (a revoked key, why a package is Invalid) is kept, the rest follows from
 * the verdict and the signing key.
 */
function verificationText(d: PackageDetailsDoc): string {
  switch (d.verification) {
    case 'Signed':
      return 'Signed';
    case 'Unsigned':
      return 'Unsigned (no signature)';
    case 'Untrusted': {
      const key = d.signing_key ?? 'unknown';
      const reason = d.reason ?? '';
      if (reason.startsWith('revocation list unreadable')) return `Untrusted (${reason})`;
      return /\brevoked key\b/.test(reason)
        ? `Untrusted (key ${key} is revoked)`
        : `Untrusted (key ${key} is not trusted)`;
    }
    default:
      return d.reason === null ? d.verification : `${d.verification} (${d.reason})`;
  }
}

/** `ftp 192.0.2.1:21 pkgname.wmopkg`, `media external path/x.wmopkg`. */
function sourceText(o: OriginDoc): string {
  const from =
    o.kind === 'media'
      ? `media ${o.label ?? '?'}`
      : `${o.proto ?? '?'} ${formatHostPort(o.host ?? '?', o.port ?? undefined)}`;
  return `${from} ${o.path}`;
}

/** The heading over what the package says of itself, apart from what the device knows. */
export const CONTROL_HEADING = 'Control fields, as the package states them:';

/**
 * `show PKGNAME`: first what the device knows (the name it installed the package under, its version,
 * state and verification, where it came from), each at the start of a line; then the package's own
 * control fields, indented under a heading. A package may name a field `State` or `Verification` and
 * give it any value: it is shown among the package's words, never where the device speaks.
 */
export function detailLines(d: PackageDetailsDoc, env: CommandEnv): string[] {
  const facts: Array<[string, string]> = [
    ['Name', d.name],
    ['Version', d.version],
    ['State', stateText(d)],
    ['Verification', verificationText(d)],
    ['Signing key', d.signing_key ?? 'none'],
    ['Persistent', pyBool(d.persistent)],
    ['Source', sourceText(d.origin)],
    ['Installed', localTime(d.installed_at)],
    ['Size', d.size < 1024 ? formatBytes(d.size) : `${formatBytes(d.size)} (${d.size} bytes)`],
    ['Files', d.files === null ? 'counted at activation' : String(d.files)],
  ];
  if (d.feed !== null) facts.push(['Feed', d.feed]);
  if (d.auto_installed !== null) {
    const needed = d.needed_by.length === 0 ? undefined : d.needed_by.join(', ');
    facts.push([
      'Auto-installed',
      !d.auto_installed
        ? 'no, installed on request'
        : needed === undefined
          ? 'yes, installed as a dependency; nothing needs it now (autoremove takes it)'
          : `yes, installed as a dependency of ${needed}`,
    ]);
  }
  const control = Object.entries(d.control);
  const lines = [...renderFields(facts), CONTROL_HEADING, ...renderFields(control, 2)];
  return lines.map((l) => (env.session.terminal.ascii ? toAscii(l) : l));
}

/** `Signed, key K, persistent`: how a package was installed, in the parentheses of the install line. */
function howText(r: InstallDoc): string {
  return [
    r.verification,
    ...(r.signing_key === null ? [] : [`key ${r.signing_key}`]),
    ...(r.persistent ? ['persistent'] : []),
  ].join(', ');
}

/** What a dry run adds: the device was not changed. */
const DRY_RUN = 'Dry run: nothing was changed.';

/** The lines `install` prints (its warnings go to stderr with `env.out.warn`, see `installText`). */
export function installLines(r: InstallDoc): string[] {
  const how = howText(r);
  const after = r.dry_run ? DRY_RUN : AFTER_REBOOT;
  if (r.removal !== null) {
    const x = r.removal;
    const scope = x.kept_in_backup
      ? '; it stays in the backup and comes back after a firmware change or a factory reset'
      : x.from_backup
        ? ', also from the backup'
        : '';
    const verb = r.dry_run ? 'would remove' : 'removed';
    return [`Removal package ${r.name} (${how}): ${x.target} ${x.version} ${verb}${scope}. ${after}`];
  }
  if (r.result === 'unchanged') {
    const now = !r.changed ? '' : r.dry_run ? ', would be made persistent' : ', now persistent';
    return [
      `Unchanged ${r.name} ${r.version} (${how}): already installed${now}.${r.dry_run ? ` ${DRY_RUN}` : ''}`,
    ];
  }
  const from = r.previous_version;
  let done: string;
  if (r.dry_run) {
    done =
      r.result === 'installed' || from === null
        ? `Would install ${r.name} ${r.version}`
        : r.result === 'reinstalled'
          ? `Would reinstall ${r.name} ${r.version}`
          : `Would ${r.result === 'downgraded' ? 'downgrade' : 'upgrade'} ${r.name} from ${from} to ${r.version}`;
    return [`${done} (${how}). ${after}`];
  }
  if (from === null) done = `Installed ${r.name} ${r.version}`;
  else if (r.result === 'reinstalled') done = `Reinstalled ${r.name} ${r.version}`;
  else if (r.firmware !== null) done = `Replaced ${r.name} ${from} with ${r.version}`;
  else
    done = `${r.result === 'downgraded' ? 'Downgraded' : 'Upgraded'} ${r.name} from ${from} to ${r.version}`;
  const lines = [`${done} (${how}). ${after}`];
  if (r.firmware !== null) lines.push(installFirmwareLine(r.firmware));
  return lines;
}

/** What `install` adds for a firmware package: the change the next reboot makes. */
function installFirmwareLine(firmware: NonNullable<InstallDoc['firmware']>): string {
  const { from, to, slot, change } = firmware;
  const what = change === 'reinstall' ? `reinstall of firmware ${to}` : `${change} from ${from} to ${to}`;
  return `Firmware ${what} at the next reboot: written into slot ${slot}; ${from} stays as the fallback.`;
}
