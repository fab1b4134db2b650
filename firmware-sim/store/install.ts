// The install transaction: receive and verify under the lock, ask a downgrade without it, commit, log.
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import type { InstallRequest, InstallResult } from '../api.js';
import { readBootConfig, type StoredBootConfig } from '../config/boot-config.js';
import type { DeviceFile } from '../config/device-file.js';
import { activationRefusal, allowUntrustedInForce } from '../config/policy.js';
import { DeviceError } from '../errors.js';
import {
  checkKindFields,
  FormatError,
  loadTrustStore,
  type PackageKind,
  packageKind,
  verifyPackage,
} from '../format/index.js';
import { compareVersions } from '../format/version.js';
import { appendEvents } from '../state/event-log.js';
import { faultPoint } from '../state/fault.js';
import { type Layout, REVOKED_LIST_NAME } from '../state/layout.js';
import { otherSlot } from '../state/slots.js';
import { firmwareDowngrade, firmwareRefusal, hotfixWarning } from './firmware-install.js';
import { loadActive, readLastBoot } from './last-boot.js';
import {
  checkPackageName,
  describeOrigin,
  packageFile,
  RECORD_FILE,
  readStoreEntry,
  type StoreEntry,
} from './packages.js';
import {
  checkReceived,
  commitPackage,
  isDowngrade,
  type Received,
  receivePackage,
  recordOf,
} from './receive.js';
import { type ActiveRecord, formatRecord, type StoreRecord } from './records.js';
import { applyRemoval } from './removal.js';

/** What the install needs of the device it runs in: its paths, its facts, its lock and its log. */
export interface InstallHost {
  readonly paths: Layout;
  /** `device.json`, read afresh. */
  device(): Promise<DeviceFile>;
  /** Runs `task` under the device lock (recovering first what a crash left). */
  locked<T>(task: () => Promise<T>): Promise<T>;
  /** Appends events to the log (under the lock). */
  log(events: readonly string[]): Promise<void>;
  /** A failure as the device reports it: file-system errors as one-line `DeviceError`s. */
  failure(error: unknown, doing: string): Error;
}

/** What is installed under a name: a record, or a damaged record and the activation it left. */
interface Installed {
  readonly record?: StoreRecord;
  readonly damaged?: Extract<StoreEntry, { kind: 'damaged' }>;
  readonly active?: ActiveRecord;
}

/** `install … version V`: a file of another version is refused before anything is stored. */
function checkVersion(received: Received, request: InstallRequest): void {
  const version = received.reading.control.version;
  if (request.version === undefined || version === request.version) return;
  throw new DeviceError(
    'DEVICE_VERSION_MISMATCH',
    `package ${request.name} refused: the file holds version ${version}, not ${request.version}; nothing was installed`,
  );
}

/**
 * Installs in one or two turns of the lock. The package is received, verified and checked under
 * the lock; a downgrade question is asked with the lock released (the file is complete and verified
 * by then, in a temporary file that recovery leaves alone while this process runs), and the second
 * turn checks that the installed package is still the one the question was about before it commits.
 */
export async function installPackage(host: InstallHost, request: InstallRequest): Promise<InstallResult> {
  checkPackageName(request.name);
  const { paths } = host;
  const doing = `installing ${request.name}`;
  const trustStore = () => loadTrustStore(paths.keysDir, paths.revokedFile, REVOKED_LIST_NAME);
  let origin = describeOrigin(request.origin);
  let received: Received | undefined;
  try {
    const device = await host.device();
    origin = describeOrigin(request.origin, device.defaultPorts);
    const first = await host.locked(async () => {
      const trust = await trustStore();
      received = await receivePackage(paths, device, trust, request);
      checkReceived(received, device, request.name);
      checkVersion(received, request);
      const kind = kindOfReceived(received, request.name);
      const config = await readBootConfig(paths.bootConfigFile);
      if (kind === 'removal') {
        const refused = refusalOf(received, device, config);
        return {
          result: await applyRemoval(paths, device, received, request, refused, origin, (events) =>
            host.log(events),
          ),
        };
      }
      const existing = await installedEntry(paths, request.name);
      if (existing.record !== undefined && (await unchanged(paths, existing.record, received))) {
        return { result: await keepInstall(host, received, request, existing.record, device, origin) };
      }
      const version = received.reading.control.version;
      if (kind === 'firmware') {
        const refusal = await firmwareRefusal(
          paths,
          request.name,
          received.verdict,
          request.persistent,
          device,
          config,
        );
        if (refusal) throw refusal;
        if (firmwareDowngrade(version, device, config) && request.dryRun !== true) {
          const question: Question = { from: device.firmwareVersion, to: version, subject: 'firmware' };
          return { ask: question, existing: existing.record };
        }
      } else if (existing.record && isDowngrade(existing.record, version) && request.dryRun !== true) {
        return { ask: { from: existing.record.version, to: version } as Question, existing: existing.record };
      }
      return { result: await commitInstall(host, received, request, existing, device, origin) };
    });
    if (first.result) return first.result;
    const { ask, existing: asked } = first;
    const version = ask.to;
    faultPoint('install:question');
    const yes = await (ask.subject === 'firmware'
      ? request.confirmDowngrade(ask.from, ask.to, 'firmware')
      : request.confirmDowngrade(ask.from, ask.to));
    if (request.signal?.aborted) {
      throw new DeviceError(
        'DEVICE_ABORTED',
        `installation of ${request.name} cancelled; nothing was installed`,
      );
    }
    if (!yes) {
      const what = ask.subject === 'firmware' ? 'firmware' : request.name;
      throw new DeviceError(
        'DEVICE_DOWNGRADE_REFUSED',
        `downgrade of ${what} from ${ask.from} to ${version} not confirmed; nothing was changed`,
      );
    }
    return await host.locked(async () => {
      faultPoint('install:answered');
      const now = await installedEntry(paths, request.name);
      const again = await host.device();
      const firmwareMoved = ask.subject === 'firmware' && again.firmwareVersion !== ask.from;
      if (now.record?.installId !== asked?.installId || firmwareMoved) {
        throw new DeviceError(
          'DEVICE_CHANGED',
          `${firmwareMoved ? 'the firmware' : request.name} changed while waiting for the answer; nothing was installed`,
        );
      }
      // The trust store may have changed meanwhile (a key revoked): the verdict is taken again.
      received = { ...received!, verdict: verifyPackage(received!.reading, await trustStore()) };
      checkReceived(received, again, request.name);
      if (ask.subject === 'firmware') {
        const config = await readBootConfig(paths.bootConfigFile);
        const refusal = await firmwareRefusal(
          paths,
          request.name,
          received.verdict,
          request.persistent,
          again,
          config,
        );
        if (refusal) throw refusal;
        firmwareDowngrade(version, again, config);
      }
      return commitInstall(host, received, request, now, again, origin);
    });
  } catch (error) {
    const failure = host.failure(error, doing);
    if (!(failure instanceof DeviceError && failure.code === 'DEVICE_ABORTED')) {
      // Possibly without the lock (a declined question): an append, no rotation.
      await appendEvents(
        paths.logFile,
        [`install ${request.name} refused (${origin}): ${failure.message}`],
        undefined,
        { rotate: false },
      ).catch(() => {});
    }
    throw failure;
  } finally {
    if (received) await rm(received.tmp, { force: true });
  }
}

/** A downgrade question: of the package over its installed version, or of the firmware that runs. */
interface Question {
  readonly from: string;
  readonly to: string;
  readonly subject?: 'firmware';
}

/** The kind a received package declares; contradicting tags or a kind's missing fields refuse it. */
function kindOfReceived(received: Received, name: string): PackageKind {
  try {
    return checkKindFields(received.reading.control);
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    throw new DeviceError('DEVICE_BAD_PACKAGE', `package ${name} refused: ${error.message}`, {
      cause: error,
    });
  }
}

/** Why the activation rule would not let a received package act here, or `undefined`. */
function refusalOf(received: Received, device: DeviceFile, config: StoredBootConfig): string | undefined {
  const { verdict } = received;
  return activationRefusal(
    verdict.status,
    verdict.reason,
    verdict.keyNumber,
    allowUntrustedInForce(config, device),
    config,
    device,
  );
}

/** What is installed under `name` now: its record, or a damaged record and what runs of it. */
async function installedEntry(paths: Layout, name: string): Promise<Installed> {
  const entry = await readStoreEntry(paths, name);
  if (entry?.kind === 'record') return { record: entry.record };
  if (entry?.kind !== 'damaged') return {};
  const active = (await loadActive(paths)).get(name);
  return { damaged: entry, ...(active ? { active } : {}) };
}

/** Commits a received and checked package (the caller holds the lock) and logs it. */
async function commitInstall(
  host: InstallHost,
  received: Received,
  request: InstallRequest,
  existing: Installed,
  device: DeviceFile,
  origin: string,
): Promise<InstallResult> {
  // Persistence belongs to the package until `remove`: a reinstall or upgrade without the word keeps it.
  const persistent =
    request.persistent || existing.record?.persistent === true || existing.active?.record.persistent === true;
  const record = recordOf(received, { ...request, persistent });
  const dryRun = request.dryRun === true;
  faultPoint('install:checked');
  if (!dryRun) await commitPackage(host.paths, received, record, existing.record);
  const config = await readBootConfig(host.paths.bootConfigFile);
  const kind = packageKind(received.reading.control);
  const refused =
    refusalOf(received, device, config) ??
    (kind === 'hotfix' ? await hotfixWarning(host.paths, device.firmwareVersion, device, config) : undefined);
  const firmware =
    kind === 'firmware'
      ? {
          from: device.firmwareVersion,
          to: record.version,
          slot: otherSlot(device.firmwareSlot),
          change: changeOf(device.firmwareVersion, record.version),
        }
      : undefined;
  const verdict =
    record.verification === 'Signed'
      ? `Signed: OK${firmware ? `; firmware ${firmware.from} -> ${firmware.to} into slot ${firmware.slot} at the next boot` : ''}${refused ? `; ${refused}` : ''}`
      : `${record.verification}: warning: ${record.reason}; ${refused === undefined ? 'allow-untrusted is on' : 'will not be activated'}`;
  const what = existing.record
    ? replacement(record.name, existing.record.version, record.version)
    : `install ${record.name} ${record.version}`;
  const kept = persistent && !request.persistent ? ' (kept)' : '';
  const over = existing.damaged ? '; replaces a damaged record' : '';
  if (!dryRun)
    await host.log([`${what} (${origin})${record.persistent ? ` persistent${kept}` : ''} ${verdict}${over}`]);
  return {
    name: record.name,
    version: record.version,
    ...(existing.record ? { previousVersion: existing.record.version } : {}),
    outcome: existing.record ? outcomeOf(existing.record.version, record.version) : 'installed',
    ...(dryRun ? { dryRun: true } : {}),
    verification: record.verification,
    ...(record.verification === 'Signed' ? (refused ? { reason: refused } : {}) : { reason: record.reason }),
    ...(record.keyNumber === undefined ? {} : { keyNumber: record.keyNumber }),
    willActivate: refused === undefined,
    persistent: record.persistent,
    ...(kind === 'package' ? {} : { kind }),
    ...(firmware ? { firmware } : {}),
  };
}

/** `upgraded`, `downgraded` or `reinstalled`, by the versions. */
function outcomeOf(from: string, to: string): 'upgraded' | 'downgraded' | 'reinstalled' {
  const order = compareVersions(to, from);
  return order > 0 ? 'upgraded' : order < 0 ? 'downgraded' : 'reinstalled';
}

/**
 * Whether `received` is the very package installed under `record` (every member the same size and
 * digest) and that installation is active or waits for the next boot: installing it again would
 * change nothing. One the last boot did not activate is installed again (a reinstall).
 */
async function unchanged(paths: Layout, record: StoreRecord, received: Received): Promise<boolean> {
  const members = received.reading.members;
  const same =
    members.length === record.members.length &&
    members.every((m, i) => {
      const r = record.members[i]!;
      return m.name === r.name && m.size === r.size && m.sha256 === r.sha256;
    });
  if (!same) return false;
  // A stored file cut short since (a full disk, a hand) is no reason to keep it: installed again.
  const stored = await stat(packageFile(paths, record)).catch(() => undefined);
  if (stored?.size !== record.size) return false;
  const last = await readLastBoot(paths);
  if (last?.installIds[record.name] !== record.installId) return true;
  return last.report.lines.find((l) => l.name === record.name)?.activated !== false;
}

/**
 * The install of a package that is installed as it is (`unchanged`): nothing is stored; `persistent`
 * asked of a package that is not sets the flag in its record, the one change (the caller holds the
 * lock). A dry run changes nothing at all.
 */
async function keepInstall(
  host: InstallHost,
  received: Received,
  request: InstallRequest,
  record: StoreRecord,
  device: DeviceFile,
  origin: string,
): Promise<InstallResult> {
  const dryRun = request.dryRun === true;
  const madePersistent = request.persistent && !record.persistent;
  if (madePersistent && !dryRun) {
    await writeFileAtomic(
      join(host.paths.storeDir, record.name, RECORD_FILE),
      formatRecord({ ...record, persistent: true }),
    );
  }
  if (!dryRun) {
    await host.log([
      `install ${record.name} ${record.version} (${origin}) unchanged: already installed${madePersistent ? ', now persistent' : ''}`,
    ]);
  }
  const config = await readBootConfig(host.paths.bootConfigFile);
  const { verdict } = received;
  const refused = refusalOf(received, device, config);
  return {
    name: record.name,
    version: record.version,
    previousVersion: record.version,
    outcome: 'unchanged',
    ...(madePersistent ? { madePersistent: true } : {}),
    ...(dryRun ? { dryRun: true } : {}),
    verification: verdict.status,
    ...(verdict.status === 'Signed' ? (refused ? { reason: refused } : {}) : { reason: verdict.reason }),
    ...(verdict.keyNumber === undefined ? {} : { keyNumber: verdict.keyNumber }),
    willActivate: refused === undefined,
    persistent: record.persistent || request.persistent,
  };
}

/** What a firmware package does to the firmware that runs. */
function changeOf(from: string, to: string): 'upgrade' | 'downgrade' | 'reinstall' {
  const order = compareVersions(to, from);
  return order > 0 ? 'upgrade' : order < 0 ? 'downgrade' : 'reinstall';
}

/** The event log's word for installing over an installed package: reinstall, upgrade or downgrade. */
function replacement(name: string, from: string, to: string): string {
  const order = compareVersions(to, from);
  if (order === 0) return `reinstall ${name} ${to}`;
  return `${order > 0 ? 'upgrade' : 'downgrade'} ${name} ${from} -> ${to}`;
}
