// The simulated device behind the shell: the `Device` contract over the state directory.
import { access, readFile, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { MediaLabel } from '../media/types.js';
import type {
  BootConfig,
  BootReport,
  Device,
  DeviceInfo,
  InstallRequest,
  InstallResult,
  PackageDetails,
  PackageSummary,
} from './api.js';
import { writeFileAtomic } from './atomic.js';
import { checkMediaLabel, formatBootConfig, readBootConfig, type StoredBootConfig } from './boot-config.js';
import { type DeviceFile, readDeviceFile } from './device-file.js';
import { DeviceError, deviceErrorOf, isFsError } from './errors.js';
import { appendEvents, readEvents } from './event-log.js';
import { faultPoint } from './fault.js';
import { compareVersions } from './format/version.js';
import type { Layout } from './layout.js';
import { DeviceLock } from './lock.js';
import { activationRefusal, allowUntrustedInForce, unlocked } from './policy.js';
import type { ActiveRecord, StoreRecord } from './records.js';
import { type LastBoot, loadActive, readLastBoot } from './state.js';
import {
  checkPackageName,
  describeOrigin,
  fileListFile,
  findRecord,
  loadRecords,
  removeFromStore,
  storeNames,
} from './store.js';
import { MAX_TOKEN_BYTES, verifyUnlockToken } from './unlock.js';

/** How long a second session waits for the lock by default. */
export const DEFAULT_LOCK_WAIT_MS = 10_000;

/** The session a device object works for: named in the lock file and in `DEVICE_LOCKED`. */
export interface DeviceSession {
  readonly user: string;
  readonly id: string;
}

/** Serializes the mutating calls of one process before they compete for the file lock. */
class Queue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => {});
    return result;
  }
}

/** A `Device` over a state directory. Create it with `openDevice`. */
export class LocalDevice implements Device {
  readonly paths: Layout;
  private readonly lock: DeviceLock;
  private readonly queue = new Queue();

  constructor(
    layout: Layout,
    session: DeviceSession,
    lockWaitMs: number,
    private readonly vendorDir: string,
  ) {
    this.paths = layout;
    this.lock = new DeviceLock(layout.lockFile, session, lockWaitMs);
  }

  /** First use: creates the device; after a crash: recovers. Called by `openDevice`. */
  async start(): Promise<void> {
    const created = await access(this.paths.deviceFile).then(
      () => true,
      () => false,
    );
    if (!created) {
      const { createDevice } = await import('./create.js');
      await this.locked(() => createDevice(this.paths, this.vendorDir));
    } else if ((await this.lock.isStale()) || (await this.interrupted())) await this.locked(async () => {});
  }

  /**
   * Runs `task` under the device lock. A lock taken over from a dead holder, or a task that failed
   * half-way, is followed by recovery, so that the next caller finds a consistent state.
   */
  private locked<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      const { release, stale } = await this.lock.acquire();
      try {
        if (stale || (await this.interrupted())) await this.recover();
        try {
          return await task();
        } catch (error) {
          await this.recover().catch(() => {});
          throw error;
        }
      } finally {
        await release();
      }
    });
  }

  /** Whether an activation or a multi-package operation was left unfinished (cheap: two lookups). */
  private async interrupted(): Promise<boolean> {
    const present = (path: string) =>
      access(path).then(
        () => true,
        () => false,
      );
    return (await present(this.paths.txnDir)) || (await present(this.paths.journalFile));
  }

  private async recover(): Promise<void> {
    const { recover } = await import('./recovery.js');
    const events = await recover(this.paths);
    await appendEvents(this.paths.logFile, events);
  }

  private device(): Promise<DeviceFile> {
    return readDeviceFile(this.paths.deviceFile);
  }

  private log(events: readonly string[]): Promise<void> {
    return appendEvents(this.paths.logFile, events);
  }

  async info(): Promise<DeviceInfo> {
    const device = await this.device();
    const last = await readLastBoot(this.paths);
    return {
      hostname: device.hostname,
      serial: device.serial,
      firmwareVersion: device.firmwareVersion,
      architectures: device.architectures,
      secureBoot: device.secureBoot,
      defaultPorts: device.defaultPorts,
      maxPackageBytes: device.maxPackageBytes,
      bootedAt: last?.report.at ?? new Date(0).toISOString(),
    };
  }

  names(): Promise<string[]> {
    return storeNames(this.paths);
  }

  async list(): Promise<PackageSummary[]> {
    const [{ records }, active, last, device, config] = await Promise.all([
      loadRecords(this.paths),
      loadActive(this.paths),
      readLastBoot(this.paths),
      this.device(),
      readBootConfig(this.paths.bootConfigFile),
    ]);
    const names = new Set([...records.keys(), ...active.keys()]);
    return [...names]
      .sort()
      .map((name) => summarize(records.get(name), active.get(name), last, device, config));
  }

  async details(name: string): Promise<PackageDetails> {
    const [record, active, last, device, config] = await Promise.all([
      findRecord(this.paths, name),
      loadActive(this.paths).then((all) => all.get(name)),
      readLastBoot(this.paths),
      this.device(),
      readBootConfig(this.paths.bootConfigFile),
    ]);
    const source = record ?? active?.record;
    if (!source) throw notInstalled(name);
    return {
      ...summarize(record, active, last, device, config),
      fields: source.fields,
      origin: source.origin,
      installedAt: source.installedAt,
      ...(source.keyNumber === undefined ? {} : { keyNumber: source.keyNumber }),
      size: source.size,
      fileCount: source.fileCount,
    };
  }

  async files(name: string): Promise<string[]> {
    const record = await findRecord(this.paths, name);
    if (record) return JSON.parse(await readFile(fileListFile(this.paths, record), 'utf8')) as string[];
    const active = (await loadActive(this.paths)).get(name);
    if (!active) throw notInstalled(name);
    return [...active.files];
  }

  async install(request: InstallRequest): Promise<InstallResult> {
    checkPackageName(request.name);
    // Loaded on first use: the prompt must not wait for the unpacker and the tar parser.
    const { checkReceived, commitPackage, isDowngrade, receivePackage, recordOf } = await import(
      './receive.js'
    );
    const { loadTrustStore } = await import('./format/index.js');
    return this.locked(async () => {
      const device = await this.device();
      const origin = describeOrigin(request.origin, device.defaultPorts);
      const trust = await loadTrustStore(this.paths.keysDir, this.paths.revokedFile);
      let received: Awaited<ReturnType<typeof receivePackage>> | undefined;
      try {
        received = await receivePackage(this.paths, device, trust, request);
        checkReceived(received, device, request.name);
        const existing = await findRecord(this.paths, request.name);
        const version = received.reading.control.version;
        if (isDowngrade(existing, version) && !(await request.confirmDowngrade(existing!.version, version))) {
          throw new DeviceError(
            'DEVICE_DOWNGRADE_REFUSED',
            `downgrade of ${request.name} from ${existing!.version} to ${version} not confirmed; nothing was changed`,
          );
        }
        const record = recordOf(received, request);
        faultPoint('install:checked');
        await commitPackage(this.paths, received, record, existing);
        const config = await readBootConfig(this.paths.bootConfigFile);
        const allow = allowUntrustedInForce(config, device);
        const refused = activationRefusal(
          record.verification,
          record.reason,
          record.keyNumber,
          allow,
          config,
          device,
        );
        const verdict =
          record.verification === 'Signed'
            ? 'Signed: OK'
            : `${record.verification}: warning: ${record.reason}; ${refused === undefined ? 'allow-untrusted is on' : 'will not be activated'}`;
        const what = existing
          ? replacement(record.name, existing.version, record.version)
          : `install ${record.name} ${record.version}`;
        await this.log([`${what} (${origin})${record.persistent ? ' persistent' : ''} ${verdict}`]);
        return {
          name: record.name,
          version: record.version,
          ...(existing ? { previousVersion: existing.version } : {}),
          verification: record.verification,
          ...(record.verification === 'Signed' ? {} : { reason: record.reason }),
          ...(record.keyNumber === undefined ? {} : { keyNumber: record.keyNumber }),
          willActivate: refused === undefined,
        };
      } catch (error) {
        const failure =
          error instanceof DeviceError || !isFsError(error)
            ? (error as Error)
            : deviceErrorOf(error, `installing ${request.name}`);
        if (!(failure instanceof DeviceError && failure.code === 'DEVICE_ABORTED')) {
          await this.log([`install ${request.name} refused (${origin}): ${failure.message}`]).catch(() => {});
        }
        throw failure;
      } finally {
        if (received) await rm(received.tmp, { force: true });
      }
    });
  }

  async remove(name: string): Promise<void> {
    checkPackageName(name);
    await this.locked(async () => {
      const record = await findRecord(this.paths, name);
      if (!record) throw notInstalled(name);
      await removeFromStore(this.paths, name);
      faultPoint('remove:done');
      await this.log([`remove ${name} ${record.version} (takes effect at the next boot)`]);
    });
  }

  async removeAll(): Promise<number> {
    const { clearJournal, removePackages, writeJournal } = await import('./recovery.js');
    return this.locked(async () => {
      const names = await storeNames(this.paths);
      if (names.length === 0) return 0;
      await writeJournal(this.paths, { op: 'remove-all', names });
      faultPoint('remove-all:journal');
      await removePackages(this.paths, names);
      await clearJournal(this.paths);
      await this.log([
        `remove all: ${names.length} packages (${names.join(', ')}) (takes effect at the next boot)`,
      ]);
      return names.length;
    });
  }

  async boot(): Promise<BootReport> {
    return this.locked(() => this.bootLocked());
  }

  private async bootLocked(): Promise<BootReport> {
    const { runBoot } = await import('./boot.js');
    return runBoot(this.paths, await this.device(), (events) => this.log(events));
  }

  async factoryReset(): Promise<BootReport> {
    const { clearJournal, removePackages, resetRuntime, writeJournal } = await import('./recovery.js');
    return this.locked(async () => {
      const { records } = await loadRecords(this.paths);
      const all = [...records.values()];
      const gone = all.filter((r) => !r.persistent).map((r) => r.name);
      const kept = all.filter((r) => r.persistent).map((r) => r.name);
      await writeJournal(this.paths, { op: 'factory-reset', names: gone });
      faultPoint('factory-reset:journal');
      await removePackages(this.paths, gone);
      faultPoint('factory-reset:removed');
      await resetRuntime(this.paths);
      await clearJournal(this.paths);
      await this.log([
        `---- factory reset: ${gone.length} packages removed${gone.length ? ` (${gone.join(', ')})` : ''}, ${kept.length} persistent kept${kept.length ? ` (${kept.join(', ')})` : ''}; known hosts and session state cleared ----`,
      ]);
      faultPoint('factory-reset:before-boot');
      return this.bootLocked();
    });
  }

  async bootConfig(): Promise<BootConfig> {
    const [config, device] = await Promise.all([readBootConfig(this.paths.bootConfigFile), this.device()]);
    let unlock: BootConfig['unlock'];
    if (config.unlockToken) {
      try {
        const token = verifyUnlockToken(config.unlockToken, device.anchorKey, device.serial);
        unlock = { serial: token.serial, keyNumber: token.keyNumber };
      } catch {
        unlock = undefined;
      }
    }
    return { allowUntrusted: config.allowUntrusted, media: config.media, ...(unlock ? { unlock } : {}) };
  }

  async setAllowUntrusted(on: boolean): Promise<void> {
    await this.locked(async () => {
      const [config, device] = await Promise.all([readBootConfig(this.paths.bootConfigFile), this.device()]);
      if (on && device.secureBoot && !unlocked(config, device)) {
        throw new DeviceError(
          'DEVICE_SECURE_BOOT',
          `allow-untrusted refused: secure boot is on; install an unlock token for serial ${device.serial} first (unlock media external token.lic)`,
        );
      }
      await this.writeConfig({ ...config, allowUntrusted: on });
      await this.log([
        `boot config: ${on ? 'allow-untrusted' : 'no allow-untrusted'} (takes effect at the next boot)`,
      ]);
    });
  }

  async setMediaLabel(label: MediaLabel): Promise<void> {
    checkMediaLabel(label);
    await this.locked(async () => {
      const config = await readBootConfig(this.paths.bootConfigFile);
      const media = config.media.some((m) => m.name === label.name)
        ? config.media.map((m) => (m.name === label.name ? label : m))
        : [...config.media, label];
      await this.writeConfig({ ...config, media });
      await this.log([`boot config: media ${label.name} ${label.bus}`]);
    });
  }

  async removeMediaLabel(name: string): Promise<void> {
    await this.locked(async () => {
      const config = await readBootConfig(this.paths.bootConfigFile);
      if (!config.media.some((m) => m.name === name)) {
        throw new DeviceError('DEVICE_BAD_LABEL', `no media label "${name}" (see show media)`);
      }
      await this.writeConfig({ ...config, media: config.media.filter((m) => m.name !== name) });
      await this.log([`boot config: no media ${name}`]);
    });
  }

  async installUnlockToken(
    stream: Readable,
  ): Promise<{ readonly serial: string; readonly keyNumber: string }> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > MAX_TOKEN_BYTES) {
        stream.destroy();
        throw new DeviceError(
          'DEVICE_BAD_TOKEN',
          `unlock token refused: larger than ${MAX_TOKEN_BYTES} bytes, not a token`,
        );
      }
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
    return this.locked(async () => {
      const device = await this.device();
      const token = verifyUnlockToken(Buffer.concat(chunks), device.anchorKey, device.serial);
      const config = await readBootConfig(this.paths.bootConfigFile);
      await this.writeConfig({ ...config, unlockToken: token.bytes });
      await this.log([
        `boot config: unlock token installed (serial ${token.serial}, key ${token.keyNumber})`,
      ]);
      return { serial: token.serial, keyNumber: token.keyNumber };
    });
  }

  eventLog(): Promise<string[]> {
    return readEvents(this.paths.logFile);
  }

  private async writeConfig(config: StoredBootConfig): Promise<void> {
    await writeFileAtomic(this.paths.bootConfigFile, formatBootConfig(config));
  }
}

function notInstalled(name: string): DeviceError {
  return new DeviceError('DEVICE_NOT_INSTALLED', `package ${name} is not installed (see package show)`);
}

/** One row of `package show` from what the store, the activation records and the last boot say. */
function summarize(
  record: StoreRecord | undefined,
  active: ActiveRecord | undefined,
  last: LastBoot | undefined,
  device: DeviceFile,
  config: StoredBootConfig,
): PackageSummary {
  if (!record) {
    const gone = active!.record;
    return {
      name: gone.name,
      version: active!.version,
      persistent: gone.persistent,
      verification: active!.verification,
      description: gone.description,
      state: 'removed',
      reason: 'removed; active until the next boot',
    };
  }
  const base = {
    name: record.name,
    version: record.version,
    persistent: record.persistent,
    description: record.description,
  };
  const running = active && active.installId !== record.installId ? { activeVersion: active.version } : {};
  const line =
    last?.installIds[record.name] === record.installId
      ? last.report.lines.find((l) => l.name === record.name)
      : undefined;
  if (active?.installId === record.installId) {
    return { ...base, verification: line?.verification ?? active.verification, state: 'active' };
  }
  if (line && !line.activated) {
    return { ...base, verification: line.verification, state: 'inactive', ...running, reason: line.reason };
  }
  const refused = activationRefusal(
    record.verification,
    record.reason,
    record.keyNumber,
    allowUntrustedInForce(config, device),
    config,
    device,
  );
  return {
    ...base,
    verification: record.verification,
    state: 'pending',
    ...running,
    reason: refused === undefined ? 'takes effect at the next boot' : `will not be activated: ${refused}`,
  };
}

/** The event log's word for installing over an installed package: reinstall, upgrade or downgrade. */
function replacement(name: string, from: string, to: string): string {
  const order = compareVersions(to, from);
  if (order === 0) return `reinstall ${name} ${to}`;
  return `${order > 0 ? 'upgrade' : 'downgrade'} ${name} ${from} -> ${to}`;
}
