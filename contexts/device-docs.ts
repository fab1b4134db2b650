// The documents of the top level and the boot context (docs/automation.md): version, media, log, boot report, backup, boot configuration.
import type {
  BackupEntry,
  BootConfig,
  BootReport,
  DeviceInfo,
  FirmwareState,
  PendingReboot,
} from '../firmware-sim/api.js';
import type { MediaLabel, MediaStatus } from '../media/types.js';
import { orNull } from './json.js';

/** One firmware slot: `state` is `active`, `fallback`, `failed` or `empty`. */
export type SlotDoc = {
  readonly name: 'A' | 'B';
  readonly state: 'active' | 'fallback' | 'failed' | 'empty';
  readonly version: string | null;
  readonly written_at: string | null;
  /** The firmware package it came from, or `factory`. */
  readonly source: string | null;
  readonly reason: string | null;
};

/** What the next reboot does to the firmware (`kind` `install`: a firmware package; `fallback`). */
export type FirmwareNextDoc = {
  readonly kind: 'install' | 'fallback';
  readonly from: string;
  readonly to: string;
  readonly slot: 'A' | 'B';
  readonly package: string | null;
};

/** `show version | json`. */
export type VersionDoc = {
  readonly hostname: string;
  readonly serial: string;
  readonly firmware_version: string;
  /** What packages the device accepts, `all` first. */
  readonly architectures: readonly string[];
  readonly secure_boot: boolean;
  readonly booted_at: string;
  readonly uptime_seconds: number;
  /** The next boot changes what runs: a package, the boot configuration or the firmware. */
  readonly reboot_pending: boolean;
  readonly pending: {
    readonly packages: readonly string[];
    readonly boot_config: boolean;
    readonly firmware: boolean;
  };
  readonly firmware: {
    readonly active_slot: 'A' | 'B';
    readonly slots: readonly SlotDoc[];
    readonly next: FirmwareNextDoc | null;
  };
};

/** The document of `show version`, from the device's facts at `now`. */
export function versionDoc(
  info: DeviceInfo,
  firmware: FirmwareState,
  pending: PendingReboot,
  now = Date.now(),
): VersionDoc {
  const next = firmware.next;
  return {
    hostname: info.hostname,
    serial: info.serial,
    firmware_version: info.firmwareVersion,
    architectures: ['all', ...info.architectures],
    secure_boot: info.secureBoot,
    booted_at: info.bootedAt,
    uptime_seconds: Math.max(0, Math.floor((now - Date.parse(info.bootedAt)) / 1000)),
    reboot_pending: pending.packages.length > 0 || pending.bootConfig || next !== undefined,
    pending: { packages: pending.packages, boot_config: pending.bootConfig, firmware: next !== undefined },
    firmware: {
      active_slot: firmware.active,
      slots: firmware.slots.map((s) => ({
        name: s.name,
        state: s.state,
        version: orNull(s.version),
        written_at: orNull(s.writtenAt),
        source: orNull(s.source),
        reason: orNull(s.reason),
      })),
      next: nextDoc(firmware),
    },
  };
}

/** What the next boot does to the firmware, or `null`. */
function nextDoc(firmware: FirmwareState): FirmwareNextDoc | null {
  const next = firmware.next;
  return next === undefined
    ? null
    : { kind: next.kind, from: next.from, to: next.to, slot: next.slot, package: orNull(next.package) };
}

/** A media label as its configuration says it. */
export type LabelDoc = {
  readonly label: string;
  /** `usb`, `sd` or `any`. */
  readonly bus: string;
  readonly fs_label: string | null;
  readonly uuid: string | null;
  /** `null`: the first partition. */
  readonly partition: number | null;
  /** What the label matches, in words. */
  readonly matches: string;
  /** The label as its configuration line: `media my-usb usb fs-label FIRMWARE`. */
  readonly config_line: string;
};

/** How the media layer says what a label is: in words, and as its configuration line. */
export interface LabelWords {
  describeLabel(label: MediaLabel): string;
  formatMediaLabel(label: MediaLabel): string;
}

/** A label as a document: its fields, what it matches, its configuration line. */
export function labelDoc(label: MediaLabel, words: LabelWords, matches?: string): LabelDoc {
  return {
    label: label.name,
    bus: label.bus,
    fs_label: orNull(label.fsLabel),
    uuid: orNull(label.uuid),
    partition: orNull(label.partition),
    matches: matches ?? words.describeLabel(label),
    config_line: words.formatMediaLabel(label),
  };
}

/** One label of `show media`: where it is mounted, or why it is not available. */
export type MediaDoc = LabelDoc & {
  readonly available: boolean;
  readonly device: string | null;
  readonly mountpoint: string | null;
  readonly reason: string | null;
};

/** `show media | json`. */
export type MediaListDoc = { readonly media: readonly MediaDoc[] };

/** The document of `show media`. */
export function mediaListDoc(statuses: readonly MediaStatus[], words: LabelWords): MediaListDoc {
  return {
    media: statuses.map((s) => ({
      ...labelDoc(s.label, words, s.matches),
      available: s.available,
      device: orNull(s.device),
      mountpoint: orNull(s.mountpoint),
      reason: orNull(s.reason),
    })),
  };
}

/** `show log | json`: `time` is the log's own stamp (local time, no zone), `text` the rest of the line. */
export type LogDoc = {
  readonly events: ReadonlyArray<{ readonly time: string | null; readonly text: string }>;
};

const STAMP = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (.*)$/s;

/** The document of `show log`, oldest first. */
export function logDoc(lines: readonly string[]): LogDoc {
  return {
    events: lines.map((line) => {
      const m = STAMP.exec(line);
      return m === null ? { time: null, text: line } : { time: m[1]!, text: m[2]! };
    }),
  };
}

/** One package of a boot report: `activated` is what a program tests, `reason` the device's words. */
export type BootLineDoc = {
  readonly name: string;
  readonly version: string;
  readonly verification: string;
  readonly activated: boolean;
  readonly reason: string;
};

/** A firmware switch of a boot (made, rolled back, or not activated). */
export type FirmwareSwitchDoc = {
  readonly kind: 'upgrade' | 'downgrade' | 'reinstall' | 'fallback';
  readonly from: string;
  readonly to: string;
  readonly slot: 'A' | 'B';
  readonly done: boolean;
  readonly rolled_back: boolean;
  readonly reason: string | null;
  readonly package: string | null;
};

/** `show last-boot | json`; `reboot | json` and `factory-reset | json` put `result` and `changed` in front. */
export type BootReportDoc = {
  readonly booted_at: string;
  readonly packages: readonly BootLineDoc[];
  readonly deactivated: ReadonlyArray<{
    readonly name: string;
    readonly version: string;
    readonly reason: string;
  }>;
  /** The firmware that runs after the boot, what changed about it, and the packages bound to it. */
  readonly firmware: {
    readonly version: string;
    readonly slot: 'A' | 'B';
    readonly change: FirmwareSwitchDoc | null;
    readonly hotfixes_removed: ReadonlyArray<{ readonly name: string; readonly version: string }>;
    readonly restored: ReadonlyArray<{ readonly name: string; readonly version: string }>;
  } | null;
};

/** The document of a boot report. */
export function bootReportDoc(report: BootReport): BootReportDoc {
  const f = report.firmware;
  const change = f?.change;
  return {
    booted_at: report.at,
    packages: report.lines.map((l) => ({
      name: l.name,
      version: l.version,
      verification: l.verification,
      activated: l.activated,
      reason: l.reason,
    })),
    deactivated: report.deactivated.map((d) => ({
      name: d.name,
      version: d.version,
      reason: d.reason ?? 'removed',
    })),
    firmware:
      f === undefined
        ? null
        : {
            version: f.version,
            slot: f.slot,
            change:
              change === undefined
                ? null
                : {
                    kind: change.kind,
                    from: change.from,
                    to: change.to,
                    slot: change.slot,
                    done: change.done,
                    rolled_back: change.rolledBack === true,
                    reason: orNull(change.reason),
                    package: orNull(change.package),
                  },
            hotfixes_removed: f.hotfixesRemoved.map((h) => ({ name: h.name, version: h.version })),
            restored: f.restored.map((r) => ({ name: r.name, version: r.version })),
          },
  };
}

/** `reboot | json`, `factory-reset | json`: the boot report of the boot they ran. */
export type RebootDoc = {
  readonly result: 'rebooted' | 'factory-reset';
  readonly changed: true;
} & BootReportDoc;

/** `show backup | json`: `state` `installed` (a persistent package) or `held` (by a removal package). */
export type BackupDoc = {
  readonly backup: ReadonlyArray<{
    readonly name: string;
    readonly version: string;
    readonly description: string;
    readonly state: 'installed' | 'held';
    readonly removed_by: string | null;
    readonly firmware: string | null;
  }>;
};

/** The document of `show backup`. */
export function backupDoc(entries: readonly BackupEntry[]): BackupDoc {
  return {
    backup: entries.map((e) => ({
      name: e.name,
      version: e.version,
      description: e.description,
      state: e.state,
      removed_by: orNull(e.removedBy),
      firmware: orNull(e.firmware),
    })),
  };
}

/** `boot show | json`. */
export type BootShowDoc = {
  readonly allow_untrusted: boolean;
  /** Whether the boot honours `allow_untrusted` (secure boot needs an unlock token). */
  readonly allow_untrusted_in_force: boolean;
  readonly secure_boot: boolean;
  readonly unlock_token: { readonly serial: string; readonly signing_key: string } | null;
  readonly firmware_fallback: boolean;
  /** What the next reboot does to the firmware (a fallback set here, or a firmware package installed). */
  readonly firmware_next: FirmwareNextDoc | null;
  readonly media: readonly LabelDoc[];
  /** Lines of `boot/config` that could not be read, the device's words. */
  readonly problems: readonly string[];
};

/** The document of `boot show`. */
export function bootShowDoc(
  config: BootConfig,
  info: DeviceInfo,
  firmware: FirmwareState,
  words: LabelWords,
): BootShowDoc {
  return {
    allow_untrusted: config.allowUntrusted,
    allow_untrusted_in_force: config.allowUntrusted && (!info.secureBoot || config.unlock !== undefined),
    secure_boot: info.secureBoot,
    unlock_token:
      config.unlock === undefined
        ? null
        : { serial: config.unlock.serial, signing_key: config.unlock.keyNumber },
    firmware_fallback: config.firmwareFallback === true,
    firmware_next: nextDoc(firmware),
    media: config.media.map((l) => labelDoc(l, words)),
    problems: config.problems ?? [],
  };
}
