// The firmware step of every boot: switch slots when asked, drop stale hotfixes, restore the backup, then the packages.
import { writeFileAtomic } from '../../common/atomic.js';
import type { BootLine, BootReport, FirmwareSwitch } from '../api.js';
import { runBoot } from '../boot/sequence.js';
import { formatBootConfig, readBootConfig, type StoredBootConfig } from '../config/boot-config.js';
import { checkCompatibility } from '../config/compat.js';
import type { DeviceFile } from '../config/device-file.js';
import { unlocked } from '../config/policy.js';
import { compareVersions, loadTrustStore } from '../format/index.js';
import { type Layout, REVOKED_LIST_NAME } from '../state/layout.js';
import { otherSlot, readSlot } from '../state/slots.js';
import { dropHeld, heldPackages, restoreHeld } from '../store/backup.js';
import { controlOf, firmwareRecords, hotfixVersion } from '../store/kind.js';
import { loadRecords, removeFromStore } from '../store/packages.js';
import type { StoreRecord } from '../store/records.js';
import { clearJournal, commitSwitch, completeSwitch, emptySlot, writeJournal } from './switch.js';
import { recordedRefusal, sourceOf, writeFirmwareSlot } from './write-slot.js';

/** Appends lines to the event log. */
type Log = (events: readonly string[], at: Date) => Promise<void>;

/** What the firmware part of a boot decided. */
interface Outcome {
  /** `device.json` after it: the new firmware when the switch happened. */
  readonly device: DeviceFile;
  readonly change?: FirmwareSwitch;
  /** Lines of firmware packages (never unpacked as an overlay by the package pass). */
  readonly handled: Map<string, BootLine>;
}

/**
 * The boot (the caller holds the lock): first the firmware — a firmware package installed since the
 * last boot is written into the other slot and switched to, or `firmware fallback` switches back to
 * the other slot; a firmware that fails to activate leaves the running one in place (the rollback) —
 * then the rules that follow the firmware: hotfixes of another firmware are removed, packages the
 * backup keeps come back; then the package pass of boot/sequence.ts re-evaluates every package against
 * the firmware that now runs (`Depends: firmware (…)`). The firmware's events are logged as soon as
 * they happen, so that a crash later in the boot does not lose them.
 */
export async function runFirmwareBoot(layout: Layout, device: DeviceFile, log: Log): Promise<BootReport> {
  // One time for the whole boot: the report's header and every line the boot logs show the same.
  const at = new Date();
  const events: string[] = [];
  const outcome = await firmwareStep(layout, device, events);
  await log(events.splice(0), at);
  const running = outcome.device;
  const restored = await restoreBackup(layout, running, events);
  const hotfixesRemoved = await dropStaleHotfixes(layout, running, events);
  await log(events.splice(0), at);
  return runBoot(layout, running, log, {
    at,
    handled: outcome.handled,
    firmware: {
      version: running.firmwareVersion,
      slot: running.firmwareSlot,
      ...(outcome.change ? { change: outcome.change } : {}),
      hotfixesRemoved,
      restored,
    },
  });
}

async function firmwareStep(layout: Layout, device: DeviceFile, events: string[]): Promise<Outcome> {
  const config = await readBootConfig(layout.bootConfigFile);
  const { records } = await loadRecords(layout);
  const [candidate, ...others] = firmwareRecords(records.values());
  const handled = new Map<string, BootLine>();
  for (const other of others) {
    handled.set(other.name, {
      name: other.name,
      version: other.version,
      verification: other.verification,
      activated: false,
      reason: `another firmware package (${candidate!.name}) is installed too; remove one of them`,
    });
  }
  if (candidate !== undefined) return switchToPackage(layout, device, config, candidate, handled, events);
  if (config.firmwareFallback) return switchToFallback(layout, device, config, handled, events);
  return { device, handled };
}

function switchKind(from: string, to: string): FirmwareSwitch['kind'] {
  const order = compareVersions(to, from);
  return order > 0 ? 'upgrade' : order < 0 ? 'downgrade' : 'reinstall';
}

/** A firmware package: written into the other slot, then the switch; on any failure the old one stays. */
async function switchToPackage(
  layout: Layout,
  device: DeviceFile,
  config: StoredBootConfig,
  record: StoreRecord,
  handled: Map<string, BootLine>,
  events: string[],
): Promise<Outcome> {
  const from = { slot: device.firmwareSlot, version: device.firmwareVersion };
  const to = { slot: otherSlot(device.firmwareSlot), version: record.version };
  const base = {
    kind: switchKind(from.version, to.version),
    from: from.version,
    to: to.version,
    slot: to.slot,
    package: record.name,
  } as const;
  const refuse = (reason: string, verification = record.verification, rolledBack = false): Outcome => {
    const why = rolledBack
      ? `${reason}; rolled back to ${from.version} in slot ${from.slot}`
      : `${reason}; ${from.version} stays in slot ${from.slot}`;
    events.push(`firmware ${to.version} (package ${record.name}) not activated: ${why}`);
    handled.set(record.name, {
      name: record.name,
      version: record.version,
      verification,
      activated: false,
      reason: why,
    });
    return {
      device,
      handled,
      change: { ...base, done: false, ...(rolledBack ? { rolledBack } : {}), reason },
    };
  };
  // Checks that need no reading: nothing is wiped for a firmware that may not run anyway.
  const trust = await loadTrustStore(layout.keysDir, layout.revokedFile, REVOKED_LIST_NAME);
  const early =
    checkCompatibility(controlOf(record), device)?.reason ??
    (base.kind === 'downgrade' && device.secureBoot && !unlocked(config, device)
      ? `a downgrade from ${from.version} needs an unlock token (secure boot)`
      : undefined);
  if (early !== undefined) return refuse(early);
  const untrusted = recordedRefusal(record, device, trust);
  if (untrusted?.reason !== undefined) return refuse(untrusted.reason, untrusted.verification);
  const journal = {
    op: 'install',
    from,
    to,
    package: { name: record.name, installId: record.installId },
  } as const;
  await writeJournal(layout, journal);
  const written = await writeFirmwareSlot(layout, device, record, trust, events);
  if (written.reason !== undefined) {
    await emptySlot(layout, to.slot, {
      version: to.version,
      reason: written.reason,
      source: sourceOf(record),
    });
    await clearJournal(layout);
    return refuse(written.reason, written.verification, true);
  }
  const next = await commitSwitch(layout, device, journal);
  await completeSwitch(layout, journal);
  const word =
    base.kind === 'reinstall' ? 'reinstalled' : base.kind === 'upgrade' ? 'upgraded' : 'downgraded';
  events.push(
    `firmware ${word}: ${from.version} -> ${to.version} (package ${record.name}) in slot ${to.slot}; ${from.version} stays in slot ${from.slot} as the fallback`,
  );
  handled.set(record.name, {
    name: record.name,
    version: record.version,
    verification: written.verification,
    activated: true,
    reason: `firmware activated in slot ${to.slot}`,
  });
  return { device: next, handled, change: { ...base, done: true } };
}

/** `firmware fallback`: the other slot's firmware, if it holds a good one and may run here. */
async function switchToFallback(
  layout: Layout,
  device: DeviceFile,
  config: StoredBootConfig,
  handled: Map<string, BootLine>,
  events: string[],
): Promise<Outcome> {
  const slot = otherSlot(device.firmwareSlot);
  const fallback = await readSlot(layout, slot);
  const from = { slot: device.firmwareSlot, version: device.firmwareVersion };
  const version = fallback.version ?? '?';
  const refusal =
    fallback.state !== 'good'
      ? `slot ${slot} holds no firmware to fall back to (${fallback.state})`
      : compareVersions(version, from.version) < 0 && device.secureBoot && !unlocked(config, device)
        ? `a downgrade from ${from.version} needs an unlock token (secure boot)`
        : undefined;
  if (refusal !== undefined) {
    // Asked once: the request goes, with the reason in the report and the log.
    const { firmwareFallback: _, ...rest } = config;
    await writeFileAtomic(layout.bootConfigFile, formatBootConfig(rest));
    events.push(
      `firmware fallback to slot ${slot} not done: ${refusal}; ${from.version} stays in slot ${from.slot}`,
    );
    const change = {
      kind: 'fallback',
      from: from.version,
      to: version,
      slot,
      done: false,
      reason: refusal,
    } as const;
    return { device, handled, change };
  }
  const journal = { op: 'fallback', from, to: { slot, version } } as const;
  await writeJournal(layout, journal);
  const next = await commitSwitch(layout, device, journal);
  await completeSwitch(layout, journal);
  events.push(`firmware fallback: ${from.version} (slot ${from.slot}) -> ${version} (slot ${slot})`);
  return {
    device: next,
    handled,
    change: { kind: 'fallback', from: from.version, to: version, slot, done: true },
  };
}

/** Packages the backup keeps (taken out by a removal package) come back once another firmware runs. */
async function restoreBackup(
  layout: Layout,
  device: DeviceFile,
  events: string[],
): Promise<Array<{ name: string; version: string }>> {
  const restored: Array<{ name: string; version: string }> = [];
  for (const [name, { record, held }] of [...(await heldPackages(layout))].sort()) {
    if (held.firmware === device.firmwareVersion) continue;
    const outcome = await restoreHeld(layout, name);
    if (outcome === 'restored') {
      restored.push({ name, version: record.version });
      events.push(
        `restored ${name} ${record.version} from the backup: firmware is now ${device.firmwareVersion}`,
      );
    } else if (outcome === 'dropped') {
      events.push(`dropped ${name} ${record.version} from the backup: ${name} was installed again meanwhile`);
    }
  }
  return restored;
}

/** Hotfixes (`Depends: firmware (= V)`) of a firmware that no longer runs are removed, from the backup too. */
async function dropStaleHotfixes(
  layout: Layout,
  device: DeviceFile,
  events: string[],
): Promise<Array<{ name: string; version: string }>> {
  const removed: Array<{ name: string; version: string }> = [];
  const { records } = await loadRecords(layout);
  for (const record of [...records.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const firmware = hotfixVersion(record);
    if (firmware === undefined || firmware === device.firmwareVersion) continue;
    await removeFromStore(layout, record.name);
    removed.push({ name: record.name, version: record.version });
    events.push(`removed hotfix ${record.name} ${record.version}: firmware is now ${device.firmwareVersion}`);
  }
  for (const [name, { record }] of await heldPackages(layout)) {
    const firmware = hotfixVersion(record);
    if (firmware !== undefined && firmware !== device.firmwareVersion) await dropHeld(layout, name);
  }
  return removed;
}
