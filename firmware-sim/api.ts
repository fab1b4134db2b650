// The device as the shell sees it: what it stores, what it reports. No printing, no prompting in here.
import type { Readable } from 'node:stream';
import type { TransferOrigin } from '../common/origin.js';
import type { MediaLabel, ProtoName, Verification } from '../common/vocabulary.js';
import type { FeedsDevice } from './feeds-api.js';
import type {
  RebootMode,
  RunRecord,
  UpdaterOptions,
  UpdaterPlan,
  UpdaterRequest,
  UpdaterStatus,
} from './updater/types.js';

export type { Verification } from '../common/vocabulary.js';
export type * from './feeds-api.js';
export type * from './updater/types.js';
export {
  formatHeld,
  formatLost,
  formatRequestRef,
  formatUpdaterReason,
  formatUpdaterStep,
} from './updater/words.js';

/** The default state directory of `npm start` and `edgesh` without `--device` (or `$EDGESH_DEVICE`). */
export const DEFAULT_DEVICE_DIR = './.device';

/**
 * Where an installed package came from: the origin of its transfer (the protocol, host and port that
 * delivered it, or the media) and the path on it.
 */
export type PackageOrigin = TransferOrigin & { readonly path: string };

/**
 * Whether what is installed is what runs:
 * - `active`: installed and activated at the last boot, same version;
 * - `pending`: installed or upgraded since the last boot, takes effect at the next one;
 * - `inactive`: installed but the last boot did not activate it (`reason` says why);
 * - `removed`: removed since the last boot, still active until the next one.
 */
export type ActivationState = 'active' | 'pending' | 'inactive' | 'removed';

/** One row of `package show`. */
export interface PackageSummary {
  readonly name: string;
  readonly version: string;
  readonly persistent: boolean;
  readonly verification: Verification;
  /** First line of the control `Description`. */
  readonly description: string;
  readonly state: ActivationState;
  /** Version running now, when it differs from `version` (an upgrade pending). */
  readonly activeVersion?: string;
  /** Why it is not (or will not be) activated, or why verification failed. */
  readonly reason?: string;
}

/** `package show NAME`. */
export interface PackageDetails extends PackageSummary {
  /** Every control field in file order, unknown ones included. */
  readonly fields: ReadonlyArray<readonly [string, string]>;
  readonly origin: PackageOrigin;
  /** ISO 8601 time of installation. */
  readonly installedAt: string;
  /** Signing key number, 16 hex digits, when the package is signed. */
  readonly keyNumber?: string;
  /** Size of the stored .wmopkg file in bytes. */
  readonly size: number;
  /**
   * Regular files and links in data.tar.gz (directories not counted); known once this installation
   * has been activated (the archive is inflated only then).
   */
  readonly fileCount?: number;
  /** The feed it was installed from, by name (absent: installed from a file). */
  readonly feed?: string;
  /** Installed only as a dependency: `autoremove` takes it once nothing needs it. */
  readonly auto?: boolean;
  /** Installed packages that depend on it now (for a package installed as a dependency). */
  readonly neededBy?: readonly string[];
}

/** `install`: the stream is read once; the store hashes and writes it as it flows. */
export interface InstallRequest {
  /** Package name on the device: the file name without `.wmopkg`. */
  readonly name: string;
  readonly persistent: boolean;
  readonly origin: PackageOrigin;
  readonly stream: Readable;
  readonly signal?: AbortSignal;
  /**
   * Asked when the package is older than the installed one, or (`subject` `firmware`) when a firmware
   * package is older than the firmware that runs; resolve `true` to go on.
   */
  readonly confirmDowngrade: (from: string, to: string, subject?: 'firmware') => Promise<boolean>;
  /**
   * Receive and verify only (`install … dry-run`): nothing is stored, nothing asked, nothing logged; the
   * result says what the install would have done (a downgrade as if confirmed).
   */
  readonly dryRun?: boolean;
  /**
   * The version the file must hold (`install … version V`): a file of another version is refused
   * before anything is stored (`DEVICE_VERSION_MISMATCH`).
   */
  readonly version?: string;
}

/**
 * What an install did to the package of that name: `installed` (it was not installed), `upgraded`,
 * `downgraded`, `reinstalled` (the same version with other content, or installed again after the last
 * boot did not activate it), `unchanged` (this very package, every member's digest the same, was
 * installed and active or pending: nothing was stored).
 */
export type InstallOutcome = 'installed' | 'upgraded' | 'downgraded' | 'reinstalled' | 'unchanged';

/** What an install did; `previousVersion` is set for a replacement (upgrade or downgrade). */
export interface InstallResult {
  readonly name: string;
  readonly version: string;
  readonly previousVersion?: string;
  /** What happened to the package of that name (always set by the device; absent for a removal package). */
  readonly outcome?: InstallOutcome;
  /** `unchanged`: the persistent flag was asked for and set now, the only change made. */
  readonly madePersistent?: boolean;
  /** A dry run (`InstallRequest.dryRun`): nothing was stored; the rest says what would have been done. */
  readonly dryRun?: boolean;
  readonly verification: Verification;
  /** Why verification is not `Signed` (unknown key, revoked key, no signature). */
  readonly reason?: string;
  readonly keyNumber?: string;
  /** Whether the next boot will activate it under the current boot configuration. */
  readonly willActivate: boolean;
  /**
   * Whether the package is persistent now (always set by the device). Persistence is kept across
   * reinstalls and upgrades: `true` here although the request did not ask for it means it was kept
   * from the installed package; only `remove` clears it.
   */
  readonly persistent?: boolean;
  /** What the control file says the package is (`Tags:`); absent for an ordinary package. */
  readonly kind?: 'firmware' | 'hotfix' | 'removal';
  /** A firmware package: the firmware that runs, the one the next boot switches to, and its slot. */
  readonly firmware?: {
    readonly from: string;
    readonly to: string;
    readonly slot: FirmwareSlotName;
    readonly change: 'upgrade' | 'downgrade' | 'reinstall';
  };
  /**
   * A removal package (never stored, never listed): the package it took out of the store, effective at
   * the next boot; `fromBackup` when out of the backup too, `keptInBackup` when a persistent package
   * stays in the backup (it comes back after a firmware change or a factory reset).
   */
  readonly removal?: {
    readonly target: string;
    readonly version: string;
    readonly fromBackup: boolean;
    readonly keptInBackup: boolean;
  };
}

/** One line of the boot report. */
export interface BootLine {
  readonly name: string;
  readonly version: string;
  readonly verification: Verification;
  readonly activated: boolean;
  /** `activated`, `already active`, or why not: `untrusted key 0123456789abcdef, allow-untrusted is off`. */
  readonly reason: string;
}

/** A package the boot took out of rootfs, and why. */
export interface Deactivated {
  readonly name: string;
  readonly version: string;
  /**
   * Why it was taken out: `removed`, or why it may no longer run (`revoked key 0123456789abcdef,
   * allow-untrusted is off`, `invalid: package file changed in the store since installation
   * (data.tar.gz)`, …). Always set by the device; optional for reports of older versions.
   */
  readonly reason?: string;
}

/** A firmware switch a boot made, or tried and rolled back. */
export interface FirmwareSwitch {
  /** `upgrade`, `downgrade`, `reinstall` (a firmware package), or `fallback` (to the other slot). */
  readonly kind: 'upgrade' | 'downgrade' | 'reinstall' | 'fallback';
  readonly from: string;
  readonly to: string;
  /** The slot the new firmware was written into, or switched to. */
  readonly slot: FirmwareSlotName;
  /** Whether it runs now. */
  readonly done: boolean;
  /** The new firmware was written into its slot and failed to activate: the device rolled back to `from`. */
  readonly rolledBack?: boolean;
  /** Why it did not activate (`postinst failed (exit status 1)`, `invalid: …`). */
  readonly reason?: string;
  /** The firmware package it came from. */
  readonly package?: string;
}

/** What a boot did to the firmware and to the packages bound to it. */
export interface FirmwareBootReport {
  /** The firmware that runs after the boot, and its slot. */
  readonly version: string;
  readonly slot: FirmwareSlotName;
  readonly change?: FirmwareSwitch;
  /** Hotfixes removed because the firmware is no longer the one they were made for. */
  readonly hotfixesRemoved: ReadonlyArray<{ readonly name: string; readonly version: string }>;
  /** Packages of the backup that came back after the firmware changed. */
  readonly restored: ReadonlyArray<{ readonly name: string; readonly version: string }>;
}

/**
 * What a boot did, in package name order; `deactivated` lists the packages taken out: removed since
 * the last boot, or no longer allowed to run. `firmware` (absent in reports of earlier versions)
 * says which firmware runs, and what changed about it.
 */
export interface BootReport {
  readonly at: string;
  readonly lines: readonly BootLine[];
  readonly deactivated: readonly Deactivated[];
  readonly firmware?: FirmwareBootReport;
}

/**
 * One package of the backup (`show backup`): what comes back after a firmware change or a factory
 * reset. `installed`: a persistent package of the system; `held`: taken out of the system by a
 * removal package made without `--backup`, it comes back once another firmware runs or the device is
 * reset.
 */
export interface BackupEntry {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly state: 'installed' | 'held';
  /** `held`: the removal package that took it out of the system. */
  readonly removedBy?: string;
  /** `held`: the firmware that ran when it was taken out; it comes back under any other. */
  readonly firmware?: string;
}

/** The bootloader configuration (`boot` context). */
export interface BootConfig {
  readonly allowUntrusted: boolean;
  readonly media: readonly MediaLabel[];
  /** Installed unlock token, when there is one. */
  readonly unlock?: { readonly serial: string; readonly keyNumber: string };
  /** `firmware fallback` is set: the next boot switches to the other firmware slot. */
  readonly firmwareFallback?: boolean;
  /**
   * Lines of `boot/config` that could not be read, one message each (`boot/config line 2: unknown
   * setting "frobnicate"; ignored`). While there is one, `allowUntrusted` is off whatever the file
   * says (a damaged configuration fails closed); any change of the boot configuration rewrites the
   * file without them. Absent when the file is fine.
   */
  readonly problems?: readonly string[];
}

/** The two firmware slots of an A/B system. */
export type FirmwareSlotName = 'A' | 'B';

/**
 * One firmware slot:
 * - `active`: the firmware that runs;
 * - `fallback`: a complete firmware kept for `firmware fallback` (the one that ran before);
 * - `failed`: the last firmware written into it did not activate (`reason`); the device rolled back;
 * - `empty`: nothing written yet, or a write was interrupted.
 */
export interface FirmwareSlot {
  readonly name: FirmwareSlotName;
  readonly state: 'active' | 'fallback' | 'failed' | 'empty';
  readonly version?: string;
  /** ISO 8601 time the firmware was written into the slot (absent for the factory firmware). */
  readonly writtenAt?: string;
  /** The firmware package it came from (its name on the device), or `factory`. */
  readonly source?: string;
  /** Why a `failed` slot did not activate. */
  readonly reason?: string;
}

/** What the next boot will do to the firmware. */
export interface FirmwareChange {
  /** `install`: a firmware package is installed; `fallback`: `firmware fallback` was requested. */
  readonly kind: 'install' | 'fallback';
  readonly from: string;
  readonly to: string;
  /** The slot that will run. */
  readonly slot: FirmwareSlotName;
  /** The firmware package (`install`). */
  readonly package?: string;
}

/** The firmware slots and which one runs (`show version`). */
export interface FirmwareState {
  readonly active: FirmwareSlotName;
  readonly slots: readonly FirmwareSlot[];
  readonly next?: FirmwareChange;
}

/** Fixed facts of the device (`device.json`) and its runtime state. */
export interface DeviceInfo {
  readonly hostname: string;
  readonly serial: string;
  readonly firmwareVersion: string;
  /** Architectures the device accepts besides `all`. */
  readonly architectures: readonly string[];
  /** The device has a secure-boot anchor: `allow-untrusted` needs an unlock token. */
  readonly secureBoot: boolean;
  readonly defaultPorts: Readonly<Record<ProtoName, number>>;
  /** Largest package accepted, in bytes. */
  readonly maxPackageBytes: number;
  /** ISO 8601 time of the last boot. */
  readonly bootedAt: string;
}

/** What the next boot changes besides the firmware (`show version`: `Reboot pending`). */
export interface PendingReboot {
  /** Packages installed, changed or removed since the last boot (`pending` or `removed`), in name order. */
  readonly packages: readonly string[];
  /**
   * The activation rule the next boot applies differs from the last boot's: `allow-untrusted` set or
   * cleared, or an unlock token that puts it in force (or takes it out) on a secure-boot device.
   */
  readonly bootConfig: boolean;
}

/** Well-known paths inside the device state directory (SPEC §4.1). */
export interface DevicePaths {
  readonly root: string;
  readonly keysDir: string;
  readonly revokedFile: string;
  readonly knownHostsFile: string;
  readonly caDir: string;
  readonly rootfs: string;
  readonly logFile: string;
  /** The simulated USB stick (`media/usb0/`). */
  readonly usbStick: string;
  /** Runtime state of sessions (`var/lib/edgesh/`: shell history, …); emptied by a factory reset. */
  readonly runtimeDir?: string;
}

/** A trusted package key (`etc/wmopkg/keys/`), as `trust show keys` lists it. */
export interface TrustedKeyInfo {
  /** 16 hex digits. */
  readonly keyNumber: string;
  /** The key file, relative to the device directory (`etc/wmopkg/keys/vendor.pub`). */
  readonly file: string;
  /** The untrusted comment of the key file. */
  readonly comment: string;
  /** Listed in `etc/wmopkg/revoked`: the key is there but trusted no more. */
  readonly revoked: boolean;
  /** The key of the secure-boot anchor (`anchorKey` in `device.json`), which also checks unlock tokens. */
  readonly anchor: boolean;
}

/** The trusted keys, the revoked key numbers and what could not be read. */
export interface TrustedKeys {
  readonly keys: readonly TrustedKeyInfo[];
  /** Key numbers of the revocation list, in its order. */
  readonly revoked: readonly string[];
  /** Key files that are not keys, lines of the revocation list that do not parse. */
  readonly problems: readonly string[];
}

/** One entry of `etc/ssh/known_hosts`. */
export interface KnownHostInfo {
  /** 1-based line in the file. */
  readonly line: number;
  /** The host patterns as written (`192.0.2.3`, `[192.0.2.3]:2222`), or `(hashed)`. */
  readonly hosts: string;
  /** `ssh-ed25519`, `ssh-rsa`, … */
  readonly type: string;
  /** `SHA256:` and unpadded base64, as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
  /** `@revoked` or `@cert-authority` when the line has a marker. */
  readonly marker?: string;
}

/** A CA certificate of `etc/ssl/certs/` (https trusts it besides the system's). */
export interface CaCertificateInfo {
  /** The file name in `etc/ssl/certs/`: what `no certificate` takes. */
  readonly name: string;
  /** The subject's common name, or the whole subject. */
  readonly subject: string;
  /** ISO 8601 end of validity. */
  readonly validTo: string;
  /** SHA-256 of the certificate, hex, upper case, colon-separated (as `openssl x509 -fingerprint`). */
  readonly fingerprint: string;
  /** Why the file does not count (not a certificate, not a CA, expired), when it does not. */
  readonly problem?: string;
}

/**
 * The device's trust stores, as the `trust` context manages them: package keys and their revocation,
 * SSH host keys, CA certificates. Each change takes the device lock and is written to the event log.
 */
export interface DeviceTrust {
  keys(): Promise<TrustedKeys>;
  /** Adds a signify public key (read from `stream`, at most 4 KiB) to `etc/wmopkg/keys/`. */
  addKey(stream: Readable): Promise<TrustedKeyInfo>;
  /** Removes every key file holding `keyNumber`; returns what was removed. */
  removeKey(keyNumber: string): Promise<readonly TrustedKeyInfo[]>;
  /** Adds `keyNumber` to the revocation list; `false` when it was there already. */
  revokeKey(keyNumber: string): Promise<boolean>;
  knownHosts(): Promise<readonly KnownHostInfo[]>;
  /** The entries a `removeKnownHost` of `host` on `port` would remove (shown before it asks). */
  knownHostEntries(host: string, port: number): Promise<readonly KnownHostInfo[]>;
  /** Removes the entries that name `host` on `port` (as `ssh-keygen -R`); returns them. */
  removeKnownHost(host: string, port: number): Promise<readonly KnownHostInfo[]>;
  certificates(): Promise<readonly CaCertificateInfo[]>;
  /** Adds a PEM CA certificate (read from `stream`, at most 64 KiB) to `etc/ssl/certs/`. */
  addCertificate(stream: Readable): Promise<CaCertificateInfo>;
  /** Removes the file `name` of `etc/ssl/certs/`; returns its certificates. */
  removeCertificate(name: string): Promise<readonly CaCertificateInfo[]>;
}

/**
 * The simulated device. Every mutating call takes the device lock; errors are `DeviceError`s. Its
 * feeds (configuration, update, plans) are `FeedsDevice` (feeds-api.ts).
 */
export interface Device extends FeedsDevice {
  readonly paths: DevicePaths;
  info(): Promise<DeviceInfo>;
  /** Installed packages and packages removed but still active, in name order. */
  list(): Promise<PackageSummary[]>;
  /** Installed package names only: fast, for TAB completion. */
  names(): Promise<string[]>;
  details(name: string): Promise<PackageDetails>;
  install(request: InstallRequest): Promise<InstallResult>;
  remove(name: string): Promise<void>;
  /** Removes every installed package; returns how many. */
  removeAll(): Promise<number>;
  boot(): Promise<BootReport>;
  factoryReset(): Promise<BootReport>;
  bootConfig(): Promise<BootConfig>;
  setAllowUntrusted(on: boolean): Promise<void>;
  setMediaLabel(label: MediaLabel): Promise<void>;
  removeMediaLabel(name: string): Promise<void>;
  /** Paths of one installed (or removed but still active) package's files, in archive order. */
  files?(name: string): Promise<string[]>;
  /** Both firmware slots, which one runs, and what the next boot changes (reads the store: not for the prompt). */
  firmware(): Promise<FirmwareState>;
  /** The backup: persistent packages, and those a removal package took out but the backup keeps. */
  backup(): Promise<BackupEntry[]>;
  /**
   * `firmware fallback` (on) or `no firmware fallback`: whether the next boot switches to the firmware
   * of the other slot. Returns the change the next boot will make (on), refused with `DEVICE_FIRMWARE`
   * when there is no fallback or a firmware package is pending, `DEVICE_SECURE_BOOT` for an older
   * firmware on a secure-boot device without an unlock token.
   */
  setFirmwareFallback(on: boolean): Promise<FirmwareChange | undefined>;
  /** Reads an unlock token (vendor-signed, naming this serial) and stores it. */
  installUnlockToken(stream: Readable): Promise<{ readonly serial: string; readonly keyNumber: string }>;
  /** The event log, oldest first. */
  eventLog(): Promise<string[]>;
  /** What a reboot would change of the packages and the activation rule (the firmware: `firmware()`). */
  pending(): Promise<PendingReboot>;
  /** The report of the last boot (`show last-boot`). */
  lastBoot(): Promise<BootReport>;
  /** The updater: requests, settings, plans and runs (docs/updater.md). */
  readonly updater: Updater;
  /** The trust stores: package keys, revocations, SSH host keys, CA certificates. */
  readonly trust: DeviceTrust;
}

/** What an updater run returns: how it ended, the plan it weighed, and the boot report of `reboot auto`. */
export interface RunOutcome extends RunRecord {
  readonly plan?: UpdaterPlan;
  readonly boot?: BootReport;
}

/** The updater of a device (`device.updater`). Mutating calls take the device lock; it never asks anyone. */
export interface Updater {
  status(): Promise<UpdaterStatus>;
  /** Adds or replaces the explicit request about `request.name` (of either kind). */
  setRequest(request: Omit<UpdaterRequest, 'source' | 'shadowed'>): Promise<void>;
  /** Drops the explicit request of that kind about `name`; false when there was none. */
  dropRequest(kind: 'install' | 'uninstall', name: string): Promise<boolean>;
  setApproval(on: boolean): Promise<void>;
  setDelay(hours: number): Promise<void>;
  setReboot(mode: RebootMode): Promise<void>;
  /** Approves a plan id for the next run. */
  approve(id: string): Promise<void>;
  /** Updates the feeds and computes what a run would do now. */
  plan(options: UpdaterOptions): Promise<UpdaterPlan>;
  /** One run: update the feeds, plan, apply (if allowed), log one block, reboot if `reboot auto`. */
  run(options: UpdaterOptions & { readonly trigger: 'cli' | 'timer' }): Promise<RunOutcome>;
}
