// The documents of the package context (docs/automation.md): the list, one package, the results of install and remove.
import type { InstallResult, PackageDetails, PackageSummary } from '../firmware-sim/api.js';
import type { BootReportDoc } from './device-docs.js';
import { orNull } from './json.js';

/** One package of `package show | json`. */
export type PackageDoc = {
  readonly name: string;
  readonly version: string;
  readonly persistent: boolean;
  /** `Signed`, `Untrusted`, `Unsigned`, `Invalid`. */
  readonly verification: string;
  /** The first line of the control `Description`, whole. */
  readonly description: string;
  /** `active`, `pending`, `inactive`, `removed` (the markers `''`, `*`, `!`, `-` of the table). */
  readonly state: 'active' | 'pending' | 'inactive' | 'removed';
  /** The version running now when it differs from `version`. */
  readonly active_version: string | null;
  /** The device's words about the state: why it is not (or will not be) activated, or when it takes effect. */
  readonly reason: string | null;
};

/** `package show | json`. */
export type PackageListDoc = { readonly packages: readonly PackageDoc[] };

/** Where the package came from: a server (`proto`, `host`, `port`) or a media (`label`); the others `null`. */
export type OriginDoc = {
  readonly kind: 'remote' | 'media';
  readonly proto: string | null;
  readonly host: string | null;
  readonly port: number | null;
  readonly label: string | null;
  readonly path: string;
};

/** `package show PKGNAME | json`: the package's row, its control fields as it states them, and the device's facts. */
export type PackageDetailsDoc = PackageDoc & {
  /** Every control field in file order; continuation lines joined by `\n`, ` .` an empty line. */
  readonly control: { readonly [field: string]: string };
  readonly origin: OriginDoc;
  readonly installed_at: string;
  readonly signing_key: string | null;
  readonly size: number;
  /** Files and links of the data archive, `null` until the package has been activated once. */
  readonly files: number | null;
  /** The feed it was installed from, `null` for a file install. */
  readonly feed: string | null;
  /** Installed as a dependency (`true`), on request (`false`), or not known (`null`: not from a feed). */
  readonly auto_installed: boolean | null;
  /** Installed packages that depend on it. */
  readonly needed_by: readonly string[];
};

/** The row of a package as a document. */
export function packageDoc(p: PackageSummary): PackageDoc {
  return {
    name: p.name,
    version: p.version,
    persistent: p.persistent,
    verification: p.verification,
    description: p.description,
    state: p.state,
    active_version: orNull(p.activeVersion),
    reason: orNull(p.reason),
  };
}

/** A control field's value as shown: continuation lines lose their leading blank, ` .` is an empty line. */
export function controlValue(value: string): string {
  return value
    .split('\n')
    .map((line, i) => (i === 0 ? line : line.replace(/^ /, '').replace(/^\.$/, '')))
    .join('\n');
}

/** The document of `package show PKGNAME`. */
export function packageDetailsDoc(d: PackageDetails): PackageDetailsDoc {
  const control: Record<string, string> = {};
  for (const [field, value] of d.fields) control[field] = controlValue(value);
  const o = d.origin;
  return {
    ...packageDoc(d),
    control,
    origin:
      o.kind === 'remote'
        ? { kind: 'remote', proto: o.proto, host: o.host, port: o.port, label: null, path: o.path }
        : { kind: 'media', proto: null, host: null, port: null, label: o.label, path: o.path },
    installed_at: d.installedAt,
    signing_key: orNull(d.keyNumber),
    size: d.size,
    files: orNull(d.fileCount),
    feed: orNull(d.feed),
    auto_installed: orNull(d.auto),
    needed_by: d.neededBy ?? [],
  };
}

/** `package install … | json`. */
export type InstallDoc = {
  /** `installed`, `upgraded`, `downgraded`, `reinstalled`, `unchanged`; `removed` for a removal package. */
  readonly result: 'installed' | 'upgraded' | 'downgraded' | 'reinstalled' | 'unchanged' | 'removed';
  /** False only when nothing on the device changed (or, with `dry_run`, would change). */
  readonly changed: boolean;
  readonly dry_run: boolean;
  readonly name: string;
  readonly version: string;
  readonly previous_version: string | null;
  readonly verification: string;
  /** Why verification is not `Signed`, or why a Signed package will not be activated. */
  readonly reason: string | null;
  readonly signing_key: string | null;
  readonly persistent: boolean;
  readonly will_activate: boolean;
  /** The change takes effect only at the next boot. */
  readonly reboot_required: boolean;
  /** `package`, `firmware`, `hotfix` or `removal` (the control file's `Tags`). */
  readonly kind: 'package' | 'firmware' | 'hotfix' | 'removal';
  /** A firmware package: the firmware that runs, the one the next boot switches to, and its slot. */
  readonly firmware: {
    readonly from: string;
    readonly to: string;
    readonly slot: 'A' | 'B';
    readonly change: 'upgrade' | 'downgrade' | 'reinstall';
  } | null;
  /** A removal package: the package it took out of the store (effective at the next boot). */
  readonly removal: {
    readonly target: string;
    readonly version: string;
    readonly from_backup: boolean;
    readonly kept_in_backup: boolean;
  } | null;
  /** What the text form prints as `Warning:` lines, without `Warning: `. */
  readonly warnings: readonly string[];
  /** With `reboot`, the report of the boot that followed the install; null when there was none. */
  readonly boot: BootReportDoc | null;
};

/** The document of an install, with the warnings the text form prints. */
export function installDoc(r: InstallResult, warnings: readonly string[]): InstallDoc {
  const result = r.removal !== undefined ? 'removed' : (r.outcome ?? outcomeByVersion(r));
  const changed = result !== 'unchanged' || r.madePersistent === true;
  return {
    result,
    changed,
    dry_run: r.dryRun === true,
    name: r.name,
    version: r.version,
    previous_version: orNull(r.previousVersion),
    verification: r.verification,
    reason: orNull(r.reason),
    signing_key: orNull(r.keyNumber),
    persistent: r.persistent === true,
    will_activate: r.willActivate,
    reboot_required: result !== 'unchanged',
    kind: r.kind ?? 'package',
    firmware: r.firmware === undefined ? null : { ...r.firmware },
    removal:
      r.removal === undefined
        ? null
        : {
            target: r.removal.target,
            version: r.removal.version,
            from_backup: r.removal.fromBackup,
            kept_in_backup: r.removal.keptInBackup,
          },
    warnings,
    boot: null,
  };
}

/** For a device that does not say (an earlier version): installed, or a replacement of unknown direction. */
function outcomeByVersion(r: InstallResult): InstallDoc['result'] {
  if (r.previousVersion === undefined) return 'installed';
  return r.previousVersion === r.version ? 'reinstalled' : 'upgraded';
}

/** `package remove … | json`: `unchanged` for `remove all` with nothing installed. */
export type RemoveDoc = {
  readonly result: 'removed' | 'unchanged';
  /** `remove all` (or `remove` alone): every package, `removed` naming those installed then. */
  readonly all: boolean;
  readonly changed: boolean;
  readonly removed: readonly string[];
  /** `true` when the backup only held it (a removal package had taken it out of the system). */
  readonly from_backup: boolean;
  readonly reboot_required: boolean;
};
