// The simulated device behind the shell: the `Device` contract over the state directory, a façade over its rooms.
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { syncDirectory, writeFileAtomic } from '../common/atomic.js';
import type { MediaLabel } from '../common/vocabulary.js';
import type {
  ApplyPlanOptions,
  ApplyPlanResult,
  BackupEntry,
  BootConfig,
  BootReport,
  DependentView,
  DependsView,
  Device,
  DeviceInfo,
  DeviceTrust,
  FeedConfig,
  FeedPackageInfo,
  FeedPlan,
  FeedPlanRequest,
  FeedStatus,
  FeedUpdateOptions,
  FeedUpdateResult,
  FirmwareChange,
  FirmwareState,
  InstallRequest,
  InstallResult,
  PackageDetails,
  PackageSummary,
  PendingReboot,
  RequestHook,
  Updater,
} from './api.js';
import { formatBootConfig, readBootConfig } from './config/boot-config.js';
import { type DeviceFile, readDeviceFile } from './config/device-file.js';
import * as settings from './config/settings.js';
import { DeviceError, deviceErrorOf, isFsError } from './errors.js';
import { deadTemps, examine, interrupted, makeDirectory } from './lifecycle/open.js';
import * as feedsRoom from './repository/facade.js';
import type { RepositoryHost } from './repository/host.js';
import { appendEvents, readEvents } from './state/event-log.js';
import { faultPoint } from './state/fault.js';
import type { Layout } from './state/layout.js';
import { DeviceLock } from './state/lock.js';
import { Queue } from './state/queue.js';
import { readConsistently, withReadView } from './state/snapshot.js';
import { backupList, dropHeld } from './store/backup.js';
import { loadActive, readLastBoot } from './store/last-boot.js';
import {
  checkPackageName,
  damagedError,
  packageFile,
  readStoreEntry,
  removeFromStore,
  storeNames,
} from './store/packages.js';
import { listPackages, notInstalled, packageDetails, pendingReboot } from './store/summary.js';
import { LocalTrust } from './trust.js';
import { invalidateFastPath, recordRequests, resetUpdater } from './updater/hooks.js';
import { lazyUpdater } from './updater/lazy.js';

/** How long a second session waits for the lock by default. */
export const DEFAULT_LOCK_WAIT_MS = 10_000;

/** The session a device object works for: named in the lock file and in `DEVICE_LOCKED`. */
export interface DeviceSession {
  readonly user: string;
  readonly id: string;
}

/**
 * A `Device` over a state directory. Create it with `openDevice`. It holds the lock and says what
 * each call was doing when it failed; the work is done in the rooms (store/, boot/, config/,
 * lifecycle/), each loaded when a call first needs it, so that the prompt does not wait for them.
 */
export class LocalDevice implements Device {
  readonly paths: Layout;
  /** The updater; its room is loaded on first use. */
  readonly updater: Updater;
  readonly trust: DeviceTrust;
  private readonly lock: DeviceLock;
  private readonly queue = new Queue();
  private readonly hooks = new Set<RequestHook>();
  private readonly feedsFacade: feedsRoom.FeedsFacade;

  /**
   * `shownDir` is the state directory as the operator named it, for messages (default: its path).
   */
  constructor(
    layout: Layout,
    session: DeviceSession,
    lockWaitMs: number,
    private readonly vendorDir: string,
    private readonly shownDir: string = layout.root,
  ) {
    this.paths = layout;
    this.lock = new DeviceLock(layout.lockFile, session, lockWaitMs);
    this.updater = lazyUpdater(() => ({
      paths: this.paths,
      device: () => this.device(),
      locked: (task) => this.locked(task),
      log: (events) => this.log(events),
      failure: (error, doing) => this.failure(error, doing),
      feeds: this,
      boot: () => this.boot(),
    }));
    // The operator's `package install NAME` and `package remove NAME` become (or stop being) requests.
    this.hooks.add(async (records) => this.log(await recordRequests(this.paths, records)));
    this.trust = new LocalTrust({
      paths: layout,
      user: session.user,
      device: () => this.device(),
      change: (doing, task) => this.guard(doing, () => this.locked(task)),
      read: (doing, task) => this.guard(doing, task),
      log: (events) => this.log(events),
    });
    this.feedsFacade = new feedsRoom.FeedsFacade(this.host(), (doing, task) => this.guard(doing, task));
  }

  /**
   * First use: creates the device, in a missing or empty directory only; after a crash: recovers.
   * Called by `openDevice`. Anything else (a file, a directory with other things in it, a device
   * whose `device.json` is gone) is refused with `DEVICE_NOT_A_DEVICE`.
   */
  async start(): Promise<void> {
    const opening = `opening the device ${this.shownDir}`;
    const what = await this.guard(opening, () => examine(this.paths, this.shownDir));
    if (what === 'create') {
      await this.guard(`creating the device ${this.shownDir}`, async () => {
        await makeDirectory(this.paths.root);
        // The mark of a creation in progress: an interrupted one is resumed, not refused as foreign.
        await (await open(this.paths.creatingFile, 'w')).close();
        await syncDirectory(this.paths.root);
        const { createDevice } = await import('./lifecycle/create.js');
        await this.locked(() => createDevice(this.paths, this.vendorDir));
      });
      return;
    }
    await this.guard(opening, async () => {
      if (await this.lock.isStale()) await this.locked(async () => {});
      else if (
        (await interrupted(this.paths)) ||
        (await this.lock.hasDeadTemps()) ||
        (await deadTemps(this.paths))
      ) {
        // Work left half done, or files of a process killed while it held no lock (taking it, or
        // waiting for a downgrade answer): recovered now if the lock is free. If a live session
        // holds it, that is its work in progress (a boot's transaction): opening never waits for
        // it, and the next operation recovers what is left (`locked` looks too).
        await this.locked(async () => {}, 0).catch((error: unknown) => {
          if (!(error instanceof DeviceError && error.code === 'DEVICE_LOCKED')) throw error;
        });
      }
    });
  }

  /** Runs `task`; a file-system failure becomes a one-line `DeviceError` saying what was being done. */
  private async guard<T>(doing: string, task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } catch (error) {
      throw this.failure(error, doing);
    }
  }

  private failure(error: unknown, doing: string): Error {
    if (error instanceof DeviceError) {
      // Converted below without the device directory at hand: said again with relative paths.
      const relabel =
        (error.code === 'DEVICE_IO' || error.code === 'DEVICE_READ_ONLY') && isFsError(error.cause);
      return relabel ? deviceErrorOf(error.cause, doing, this.paths.root) : error;
    }
    if (!isFsError(error)) return error as Error;
    return deviceErrorOf(error, doing, this.paths.root);
  }

  /**
   * Runs `task` under the device lock. A lock taken over from a dead holder, or a task that failed
   * half-way, is followed by recovery, so that the next caller finds a consistent state.
   */
  private locked<T>(task: () => Promise<T>, waitMs?: number): Promise<T> {
    return this.queue.run(async () => {
      const { release, stale } = await this.lock.acquire(waitMs);
      try {
        if (stale || (await interrupted(this.paths)) || (await deadTemps(this.paths))) await this.recover();
        // Whatever this task changes, the updater's shortcut for "nothing changed" no longer holds.
        await invalidateFastPath(this.paths);
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

  private async recover(): Promise<void> {
    const { recover } = await import('./lifecycle/recovery.js');
    const events = await recover(this.paths);
    await appendEvents(this.paths.logFile, events);
  }

  private device(): Promise<DeviceFile> {
    return readDeviceFile(this.paths.deviceFile, 'device.json');
  }

  private log(events: readonly string[], at?: Date): Promise<void> {
    return appendEvents(this.paths.logFile, events, at);
  }

  async info(): Promise<DeviceInfo> {
    return this.guard('reading the device information', async () => {
      const device = await this.device();
      const last = await readConsistently(this.paths, readLastBoot);
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
    });
  }

  pending(): Promise<PendingReboot> {
    return this.guard('reading what the next boot changes', async () =>
      pendingReboot(this.paths, await this.device()),
    );
  }

  lastBoot(): Promise<BootReport> {
    return this.guard('reading the last boot', async () => {
      const last = await readLastBoot(this.paths);
      return last?.report ?? { at: new Date(0).toISOString(), lines: [], deactivated: [] };
    });
  }

  names(): Promise<string[]> {
    return this.guard('reading the package list', () => storeNames(this.paths));
  }

  list(): Promise<PackageSummary[]> {
    return this.guard('reading the package list', async () => {
      const device = await this.device();
      return readConsistently(this.paths, (layout) => listPackages(layout, device));
    });
  }

  details(name: string): Promise<PackageDetails> {
    return this.guard(`reading package ${name}`, async () => {
      const device = await this.device();
      const details = await readConsistently(this.paths, (layout) => packageDetails(layout, device, name));
      if (details.auto !== true) return details;
      // Who needs it now: the relations of every installed package (the repository reads them).
      const { dependentsOf } = await feedsRoom.load();
      const neededBy = await dependentsOf(this.paths, name).catch(() => []);
      return { ...details, neededBy: neededBy.map((d) => d.name) };
    });
  }

  files(name: string): Promise<string[]> {
    return this.guard(`reading package ${name}`, async () => {
      const entry = await readStoreEntry(this.paths, name);
      if (entry?.kind === 'record') {
        const { storedEntries } = await import('./boot/unpack-stored.js');
        return storedEntries(packageFile(this.paths, entry.record), await this.device());
      }
      const active = (await readConsistently(this.paths, loadActive)).get(name);
      if (!active) throw entry ? damagedError(entry) : notInstalled(name);
      return [...active.files];
    });
  }

  /** Installs through the install transaction of store/install.ts (see there: one or two turns of the lock). */
  async install(request: InstallRequest): Promise<InstallResult> {
    checkPackageName(request.name);
    // Loaded on first use: the prompt must not wait for the package reader and the tar parser.
    const { installPackage } = await import('./store/install.js');
    return installPackage(this.host(), request);
  }

  /** What the install transaction and the repository need of the device. */
  private host(): RepositoryHost {
    return {
      paths: this.paths,
      device: () => this.device(),
      locked: (task) => this.locked(task),
      log: (events) => this.log(events),
      failure: (error, doing) => this.failure(error, doing),
      hooks: this.hooks,
    };
  }

  /** Removes a package from the store, and from the backup (a package held there by a removal package too). */
  async remove(name: string): Promise<void> {
    checkPackageName(name);
    return this.guard(`removing ${name}`, () =>
      this.locked(async () => {
        const entry = await readStoreEntry(this.paths, name);
        const held = await dropHeld(this.paths, name);
        if (!entry && !held) throw notInstalled(name);
        if (entry) await removeFromStore(this.paths, name);
        faultPoint('remove:done');
        const what = !entry
          ? `${name} from the backup`
          : entry.kind === 'record'
            ? `${name} ${entry.record.version}`
            : `${name} (damaged record)`;
        await this.log([`remove ${what} (takes effect at the next boot)`]);
        await (await feedsRoom.load()).tellRemoval(this.host(), name);
      }),
    );
  }

  firmware(): Promise<FirmwareState> {
    return this.guard('reading the firmware slots', async () => {
      const { firmwareState } = await import('./firmware/state.js');
      return firmwareState(this.paths, await this.device());
    });
  }

  backup(): Promise<BackupEntry[]> {
    return this.guard('reading the backup', () => backupList(this.paths));
  }

  async setFirmwareFallback(on: boolean): Promise<FirmwareChange | undefined> {
    const { fallbackChange } = await import('./firmware/state.js');
    let change: FirmwareChange | undefined;
    await this.changeConfig(
      fallbackChange(this.paths, on, (next) => {
        change = next;
      }),
      on ? 'setting the firmware fallback' : 'changing the boot configuration',
    );
    return change;
  }

  async removeAll(): Promise<number> {
    return this.guard('removing all packages', async () => {
      const { removeAllPackages } = await import('./lifecycle/reset.js');
      return this.locked(() => removeAllPackages(this.paths, (events) => this.log(events)));
    });
  }

  boot(): Promise<BootReport> {
    return this.guard('booting', () => this.locked(() => this.bootLocked()));
  }

  /**
   * The boot sequence, under the lock. Readers of other sessions do not wait for it: they read the
   * view of the state it started from (state/snapshot.ts) until it ends.
   */
  private async bootLocked(): Promise<BootReport> {
    const { runFirmwareBoot } = await import('./firmware/boot.js');
    const device = await this.device();
    return withReadView(this.paths, () =>
      runFirmwareBoot(this.paths, device, (events, at) => this.log(events, at)),
    );
  }

  factoryReset(): Promise<BootReport> {
    return this.guard('factory reset', async () => {
      const { resetPackages } = await import('./lifecycle/reset.js');
      return this.locked(async () => {
        await resetPackages(this.paths, (events) => this.log(events));
        await resetUpdater(this.paths, await storeNames(this.paths));
        return this.bootLocked();
      });
    });
  }

  bootConfig(): Promise<BootConfig> {
    return this.guard('reading the boot configuration', async () => {
      const [config, device] = await Promise.all([readBootConfig(this.paths.bootConfigFile), this.device()]);
      return settings.bootConfigView(config, device);
    });
  }

  setAllowUntrusted(on: boolean): Promise<void> {
    return this.changeConfig(settings.setAllowUntrusted(on));
  }

  async setMediaLabel(label: MediaLabel): Promise<void> {
    return this.changeConfig(settings.setMediaLabel(label));
  }

  removeMediaLabel(name: string): Promise<void> {
    return this.changeConfig(settings.removeMediaLabel(name));
  }

  async installUnlockToken(
    stream: Readable,
  ): Promise<{ readonly serial: string; readonly keyNumber: string }> {
    const bytes = await settings.readUnlockToken(stream);
    let installed: { readonly serial: string; readonly keyNumber: string } | undefined;
    const change = settings.installUnlockToken(bytes, (token) => {
      installed = token;
    });
    await this.changeConfig(change, 'installing the unlock token');
    return installed!;
  }

  feeds(): Promise<FeedStatus[]> {
    return this.feedsFacade.feeds();
  }

  setFeed(feed: FeedConfig): Promise<'added' | 'changed' | 'unchanged'> {
    return this.feedsFacade.setFeed(feed);
  }

  removeFeed(name: string): Promise<void> {
    return this.feedsFacade.removeFeed(name);
  }

  updateFeeds(options: FeedUpdateOptions): Promise<FeedUpdateResult[]> {
    return this.feedsFacade.updateFeeds(options);
  }

  feedNames(): Promise<string[]> {
    return this.feedsFacade.feedNames();
  }

  availablePackages(query?: feedsRoom.AvailableQuery): Promise<FeedPackageInfo[]> {
    return this.feedsFacade.availablePackages(query);
  }

  availableDetails(name: string): Promise<feedsRoom.AvailableDetails[]> {
    return this.feedsFacade.availableDetails(name);
  }

  dependsOf(name: string): Promise<DependsView> {
    return this.feedsFacade.dependsOf(name);
  }

  dependentsOf(name: string, options?: { readonly recursive?: boolean }): Promise<DependentView[]> {
    return this.feedsFacade.dependentsOf(name, options);
  }

  planFeeds(request: FeedPlanRequest): Promise<FeedPlan> {
    return this.feedsFacade.planFeeds(request);
  }

  planRemove(names: readonly string[]): Promise<FeedPlan> {
    return this.feedsFacade.planRemove(names);
  }

  planAutoremove(): Promise<FeedPlan> {
    return this.feedsFacade.planAutoremove();
  }

  applyPlan(plan: FeedPlan, options: ApplyPlanOptions): Promise<ApplyPlanResult> {
    return this.feedsFacade.applyPlan(plan, options);
  }

  onRequests(hook: RequestHook): () => void {
    this.hooks.add(hook);
    return () => void this.hooks.delete(hook);
  }

  eventLog(): Promise<string[]> {
    return this.guard('reading the event log', () =>
      readConsistently(this.paths, (layout) => readEvents(layout.logFile)),
    );
  }

  /**
   * A change of the boot configuration under the lock: `change` gets the configuration as read (a
   * damaged file's unreadable lines left out, `allowUntrusted` off) and returns the new one, which is
   * written whole, so that any boot command rewrites a damaged file cleanly.
   */
  private changeConfig(
    change: settings.ConfigChange,
    doing = 'changing the boot configuration',
  ): Promise<void> {
    return this.guard(doing, () =>
      this.locked(async () => {
        const [config, device] = await Promise.all([
          readBootConfig(this.paths.bootConfigFile),
          this.device(),
        ]);
        const next = await change(config, device);
        const dropped = (config.problems ?? []).map(
          (problem) => `boot config: rewritten without an unreadable line: ${problem}`,
        );
        await mkdir(dirname(this.paths.bootConfigFile), { recursive: true });
        await writeFileAtomic(this.paths.bootConfigFile, formatBootConfig(next.config));
        await this.log([...dropped, next.event]);
      }),
    );
  }
}
