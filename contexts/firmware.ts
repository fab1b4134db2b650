// How the firmware lifecycle reads on the terminal: slots in show version, the backup, the boot's firmware lines.
import type { BackupDoc, BootReportDoc, FirmwareNextDoc, SlotDoc, VersionDoc } from './device-docs.js';
import type { CommandEnv } from './grammar.js';
import { duration, localTime, renderTable, wrapLine } from './table.js';

/** One slot as `show version` lists it: `B  5.27.0  active, written 2026-11-21 10:02:41 from firmware-5.27.0`. */
function slotText(slot: SlotDoc): string {
  if (slot.state === 'empty') return `${slot.name}  empty`;
  const from =
    slot.source === null || slot.source === 'factory'
      ? ' (factory firmware)'
      : `, written ${slot.written_at === null ? '' : `${localTime(slot.written_at)} `}from ${slot.source}`;
  const state =
    slot.state === 'failed' ? `failed: ${slot.reason ?? 'unknown reason'}` : `${slot.state}${from}`;
  return `${slot.name}  ${slot.version ?? '?'}  ${state}`;
}

/** What the next reboot does to the firmware, in words. */
export function changeText(next: FirmwareNextDoc): string {
  return next.kind === 'fallback'
    ? `fallback to firmware ${next.to} in slot ${next.slot}`
    : `firmware ${next.from} -> ${next.to} from package ${next.package ?? '?'}, written into slot ${next.slot}`;
}

/** `yes (2 packages, boot configuration, firmware)` or `no`. */
function pendingText(doc: VersionDoc): string {
  if (!doc.reboot_pending) return 'no';
  const n = doc.pending.packages.length;
  const why = [
    ...(n === 0 ? [] : [`${n} package${n === 1 ? '' : 's'}`]),
    ...(doc.pending.boot_config ? ['boot configuration'] : []),
    ...(doc.pending.firmware ? ['firmware'] : []),
  ];
  return `yes (${why.join(', ')})`;
}

/**
 * The fields of `show version`, from its document: hostname, the firmware with both slots and what
 * the next reboot changes, architecture, serial, secure boot, uptime, and whether a reboot is pending.
 */
export function versionFields(doc: VersionDoc): Array<[string, string]> {
  const firmware = doc.firmware;
  const fields: Array<[string, string]> = [
    ['Hostname', doc.hostname],
    ['Firmware version', `${doc.firmware_version} (slot ${firmware.active_slot})`],
    ['Firmware slots', firmware.slots.map(slotText).join('\n')],
  ];
  if (firmware.next !== null) fields.push(['Next reboot', changeText(firmware.next)]);
  fields.push(
    ['Architecture', doc.architectures.join(', ')],
    ['Serial', doc.serial],
    ['Secure boot', doc.secure_boot ? 'yes' : 'no'],
    ['Uptime', `${duration(doc.uptime_seconds * 1000)} (booted ${localTime(doc.booted_at)})`],
    ['Reboot pending', pendingText(doc)],
  );
  return fields;
}

/** The line under the backup table that explains `held`. */
const HELD_LEGEND =
  'held: taken out of the system by a removal package without --backup; comes back after a firmware change or a factory reset';

/** `show backup`: what comes back after a firmware change or a factory reset. */
export function backupLines(doc: BackupDoc, env: CommandEnv): string[] {
  const entries = doc.backup;
  if (entries.length === 0) {
    return ['The backup is empty: install persistent adds a package to it.'];
  }
  const rows = entries.map((e) => [
    e.name,
    e.version,
    e.state === 'held' ? `held (${e.removed_by ?? '?'})` : 'installed',
    e.description,
  ]);
  const lines = renderTable(
    { title: 'Backup', columns: ['NAME', 'VERSION', 'STATE', 'DESCRIPTION'], rows },
    env.session.terminal,
  );
  if (entries.some((e) => e.state === 'held'))
    lines.push(...wrapLine(HELD_LEGEND, env.session.terminal.width));
  return lines;
}

/** The firmware line a boot report starts with, when the boot switched or tried to. */
export function firmwareChangeLines(report: BootReportDoc): string[] {
  const running = report.firmware;
  const change = running?.change;
  if (running === null || change === null || change === undefined) return [];
  if (change.done) {
    const what = change.kind === 'fallback' ? 'fallback' : change.kind;
    return [
      `Firmware ${what} from ${change.from} to ${change.to}: runs in slot ${change.slot}; ${change.from} stays in slot ${running.slot === 'A' ? 'B' : 'A'}${change.kind === 'fallback' ? '' : ' as the fallback'}.`,
    ];
  }
  if (change.rolled_back) {
    return [
      `Firmware ${change.to} failed in slot ${change.slot}: ${change.reason ?? '?'}; rolled back to ${change.from} in slot ${running.slot}.`,
    ];
  }
  const what = change.kind === 'fallback' ? `Firmware fallback to ${change.to}` : `Firmware ${change.to}`;
  return [`${what} not activated: ${change.reason ?? '?'}; ${change.from} stays in slot ${running.slot}.`];
}

/** The lines after the boot table: hotfixes removed, packages back from the backup. */
export function firmwareAfterLines(report: BootReportDoc): string[] {
  const firmware = report.firmware;
  if (firmware === null) return [];
  return [
    ...firmware.hotfixes_removed.map(
      (h) => `Removed hotfix ${h.name} ${h.version}: firmware is now ${firmware.version}.`,
    ),
    ...firmware.restored.map((r) => `Restored ${r.name} ${r.version} from the backup.`),
  ];
}
