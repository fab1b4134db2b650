// How the firmware lifecycle reads on the terminal: slots in show version, the backup, the boot's firmware lines.
import type {
  BackupEntry,
  BootReport,
  DeviceInfo,
  FirmwareChange,
  FirmwareSlot,
  FirmwareState,
  InstallResult,
} from '../firmware-sim/api.js';
import type { CommandEnv } from './grammar.js';
import { duration, localTime, renderTable, wrapLine } from './table.js';

/** One slot as `show version` lists it: `B  5.27.0  active, written 2026-11-21 10:02:41 from firmware-5.27.0`. */
function slotText(slot: FirmwareSlot): string {
  if (slot.state === 'empty') return `${slot.name}  empty`;
  const from =
    slot.source === undefined || slot.source === 'factory'
      ? ' (factory firmware)'
      : `, written ${slot.writtenAt === undefined ? '' : `${localTime(slot.writtenAt)} `}from ${slot.source}`;
  const state =
    slot.state === 'failed' ? `failed: ${slot.reason ?? 'unknown reason'}` : `${slot.state}${from}`;
  return `${slot.name}  ${slot.version ?? '?'}  ${state}`;
}

/** What the next reboot does to the firmware, in words. */
export function changeText(next: FirmwareChange): string {
  return next.kind === 'fallback'
    ? `fallback to firmware ${next.to} in slot ${next.slot}`
    : `firmware ${next.from} -> ${next.to} from package ${next.package ?? '?'}, written into slot ${next.slot}`;
}

/**
 * The fields of `show version`, from the device's typed facts (`DeviceInfo` and `FirmwareState`,
 * which automation can print as JSON as they are): hostname, the firmware with both slots and what
 * the next reboot changes, architecture, serial, secure boot, uptime.
 */
export function versionFields(
  info: DeviceInfo,
  firmware: FirmwareState | undefined,
  now = Date.now(),
): Array<[string, string]> {
  const fields: Array<[string, string]> = [
    ['Hostname', info.hostname],
    [
      'Firmware version',
      firmware ? `${info.firmwareVersion} (slot ${firmware.active})` : info.firmwareVersion,
    ],
  ];
  if (firmware) {
    fields.push(['Firmware slots', firmware.slots.map(slotText).join('\n')]);
    if (firmware.next) fields.push(['Next reboot', changeText(firmware.next)]);
  }
  fields.push(
    ['Architecture', ['all', ...info.architectures].join(', ')],
    ['Serial', info.serial],
    ['Secure boot', info.secureBoot ? 'yes' : 'no'],
    ['Uptime', `${duration(now - Date.parse(info.bootedAt))} (booted ${localTime(info.bootedAt)})`],
  );
  return fields;
}

/** The line under the backup table that explains `held`. */
const HELD_LEGEND =
  'held: taken out of the system by a removal package without --backup; comes back after a firmware change or a factory reset';

/** `show backup`: what comes back after a firmware change or a factory reset. */
export function backupLines(entries: readonly BackupEntry[], env: CommandEnv): string[] {
  if (entries.length === 0) {
    return ['The backup is empty: install persistent adds a package to it.'];
  }
  const rows = entries.map((e) => [
    e.name,
    e.version,
    e.state === 'held' ? `held (${e.removedBy ?? '?'})` : 'installed',
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
export function firmwareChangeLines(report: BootReport): string[] {
  const change = report.firmware?.change;
  if (change === undefined) return [];
  const running = report.firmware!;
  if (change.done) {
    const what = change.kind === 'fallback' ? 'fallback' : change.kind;
    return [
      `Firmware ${what} from ${change.from} to ${change.to}: runs in slot ${change.slot}; ${change.from} stays in slot ${running.slot === 'A' ? 'B' : 'A'}${change.kind === 'fallback' ? '' : ' as the fallback'}.`,
    ];
  }
  if (change.rolledBack) {
    return [
      `Firmware ${change.to} failed in slot ${change.slot}: ${change.reason ?? '?'}; rolled back to ${change.from} in slot ${running.slot}.`,
    ];
  }
  const what = change.kind === 'fallback' ? `Firmware fallback to ${change.to}` : `Firmware ${change.to}`;
  return [`${what} not activated: ${change.reason ?? '?'}; ${change.from} stays in slot ${running.slot}.`];
}

/** The lines after the boot table: hotfixes removed, packages back from the backup. */
export function firmwareAfterLines(report: BootReport): string[] {
  const firmware = report.firmware;
  if (firmware === undefined) return [];
  return [
    ...firmware.hotfixesRemoved.map(
      (h) => `Removed hotfix ${h.name} ${h.version}: firmware is now ${firmware.version}.`,
    ),
    ...firmware.restored.map((r) => `Restored ${r.name} ${r.version} from the backup.`),
  ];
}

/** What `install` adds for a firmware package: the change the next reboot makes. */
export function installFirmwareLine(firmware: NonNullable<InstallResult['firmware']>): string {
  const { from, to, slot, change } = firmware;
  const what = change === 'reinstall' ? `reinstall of firmware ${to}` : `${change} from ${from} to ${to}`;
  return `Firmware ${what} at the next reboot: written into slot ${slot}; ${from} stays as the fallback.`;
}
