// The simulated device behind the shell: the `Device` contract over the state directory.
import { access, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { syncDirectory, tempOwner, writeFileAtomic } from '../common/atomic.js';
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
import {
  checkMediaLabel,
  formatBootConfig,
  readBootConfig,
  type StoredBootConfig,
} from './config/boot-config.js';
import { type DeviceFile, readDeviceFile } from './config/device-file.js';
import { activationRefusal, allowUntrustedInForce, unlocked } from './config/policy.js';
import { MAX_TOKEN_BYTES, verifyUnlockToken } from './config/unlock.js';
import { DeviceError, deviceErrorOf, isFsError } from './errors.js';
import { compareVersions } from './format/version.js';
import { appendEvents, quantity, readEvents } from './state/event-log.js';
import { faultPoint } from './state/fault.js';
import { type Layout, REVOKED_LIST_NAME } from './state/layout.js';
import { DeviceLock, holderAlive } from './state/lock.js';
import { type LastBoot, loadActive, readLastBoot } from './store/last-boot.js';
import {
  checkPackageName,
  damagedError,
  describeOrigin,
  loadRecords,
  packageFile,
  readStoreEntry,
  removeFromStore,
  type StoreEntry,
  storeNames,
} from './store/packages.js';
import type { ActiveRecord, StoreRecord } from './store/records.js';

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
      if ((await this.lock.isStale()) || (await this.interrupted())) await this.locked(async () => {});
      else if ((await this.lock.hasDeadTemps()) || (await this.deadStoreTemps())) {
        // Files of a process killed while it held no lock (taking it, or waiting for a downgrade
        // answer): cleaned now if the lock is free, else by the next operation (`locked` looks too).
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

  /** Temporary files in the store left by a process that is gone (a kill while it held no lock). */
  private async deadStoreTemps(): Promise<boolean> {
    for (const name of await readdir(this.paths.storeDir).catch(() => [] as string[])) {
      const pid = tempOwner(name);
      if (name.startsWith('.tmp-') && (pid === undefined || !holderAlive({ pid, host: hostname() })))
        return true;
    }
    return false;
  }

  /**
   * Runs `task` under the device lock. A lock taken over from a dead holder, or a task that failed
   * half-way, is followed by recovery, so that the next caller finds a consistent state.
   */
  private locked<T>(task: () => Promise<T>, waitMs?: number): Promise<T> {
    return this.queue.run(async () => {
      const { release, stale } = await this.lock.acquire(waitMs);
      try {
        if (stale || (await this.interrupted()) || (await this.deadStoreTemps())) await this.recover();
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
    });
  }

  names(): Promise<string[]> {
    return this.guard('reading the package list', () => storeNames(this.paths));
  }

  list(): Promise<PackageSummary[]> {
    return this.guard('reading the package list', async () => {
      const [{ records, damaged }, active, last, device, config] = await Promise.all([
        loadRecords(this.paths),
        loadActive(this.paths),
        readLastBoot(this.paths),
        this.device(),
        readBootConfig(this.paths.bootConfigFile),
      ]);
      const names = new Set([...records.keys(), ...damaged.keys(), ...active.keys()]);
      return [...names].sort().map((name) => {
        const problem = damaged.get(name);
        if (problem !== undefined) return summarizeDamaged(name, problem, active.get(name));
        return summarize(records.get(name), active.get(name), last, device, config);
      });
    });
  }

  details(name: string): Promise<PackageDetails> {
    return this.guard(`reading package ${name}`, async () => {
      const [entry, active, last, device, config] = await Promise.all([
        readStoreEntry(this.paths, name),
        loadActive(this.paths).then((all) => all.get(name)),
        readLastBoot(this.paths),
        this.device(),
        readBootConfig(this.paths.bootConfigFile),
      ]);
      const record = entry?.kind === 'record' ? entry.record : undefined;
      const source = record ?? active?.record;
      if (entry?.kind === 'damaged' && !active) throw damagedError(entry);
      if (!source) throw notInstalled(name);
      return {
        ...(entry?.kind === 'damaged'
          ? summarizeDamaged(name, entry.problem, active)
          : summarize(record, active, last, device, config)),
        fields: source.fields,
        origin: source.origin,
        installedAt: source.installedAt,
        ...(source.keyNumber === undefined ? {} : { keyNumber: source.keyNumber }),
        size: source.size,
        ...fileCountOf(source, active),
      };
    });
  }

  files(name: string): Promise<string[]> {
    return this.guard(`reading package ${name}`, async () => {
      const entry = await readStoreEntry(this.paths, name);
      if (entry?.kind === 'record') {
        const { storedEntries } = await import('./boot/unpack.js');
        return storedEntries(packageFile(this.paths, entry.record), await this.device());
      }
      const active = (await loadActive(this.paths)).get(name);
      if (!active) throw entry ? damagedError(entry) : notInstalled(name);
      return [...active.files];
    });
  }

  /**
   * Installs in one or two turns of the lock. The package is received, verified and checked under
   * the lock; a downgrade question is asked with the lock released (the file is complete and verified
   * by then, in a temporary file that recovery leaves alone while this process runs), and the second
   * turn checks that the installed package is still the one the question was about before it commits.
   */
  async install(request: InstallRequest): Promise<InstallResult> {
    checkPackageName(request.name);
    const doing = `installing ${request.name}`;
    // Loaded on first use: the prompt must not wait for the unpacker and the tar parser.
    const receive = await import('./store/receive.js');
    const { loadTrustStore, verifyPackage } = await import('./format/index.js');
    const trustStore = () => loadTrustStore(this.paths.keysDir, this.paths.revokedFile, REVOKED_LIST_NAME);
    let origin = describeOrigin(request.origin);
    let received: Received | undefined;
    try {
      const device = await this.device();
      origin = describeOrigin(request.origin, device.defaultPorts);
      const first = await this.locked(async () => {
        const trust = await trustStore();
        received = await receive.receivePackage(this.paths, device, trust, request);
        receive.checkReceived(received, device, request.name);
        const existing = await this.installedEntry(request.name);
        const version = received.reading.control.version;
        if (existing.record && receive.isDowngrade(existing.record, version)) {
          return { ask: existing.record, version };
        }
        return { result: await this.commitInstall(received, request, existing, device, origin) };
      });
      if (first.result) return first.result;
      const { ask, version } = first;
      faultPoint('install:question');
      const yes = await request.confirmDowngrade(ask.version, version);
      if (request.signal?.aborted) {
        throw new DeviceError(
          'DEVICE_ABORTED',
          `installation of ${request.name} cancelled; nothing was installed`,
        );
      }
      if (!yes) {
        throw new DeviceError(
          'DEVICE_DOWNGRADE_REFUSED',
          `downgrade of ${request.name} from ${ask.version} to ${version} not confirmed; nothing was changed`,
        );
      }
      return await this.locked(async () => {
        faultPoint('install:answered');
        const now = await this.installedEntry(request.name);
        if (now.record?.installId !== ask.installId) {
          throw new DeviceError(
            'DEVICE_CHANGED',
            `${request.name} changed while waiting for the answer; nothing was installed`,
          );
        }
        const again = await this.device();
        // The trust store may have changed meanwhile (a key revoked): the verdict is taken again.
        received = { ...received!, verdict: verifyPackage(received!.reading, await trustStore()) };
        receive.checkReceived(received, again, request.name);
        return this.commitInstall(received, request, now, again, origin);
      });
    } catch (error) {
      const failure = this.failure(error, doing);
      if (!(failure instanceof DeviceError && failure.code === 'DEVICE_ABORTED')) {
        // Possibly without the lock (a declined question): an append, no rotation.
        await appendEvents(
          this.paths.logFile,
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

  /** What is installed under `name` now: its record, or a damaged record and what runs of it. */
  private async installedEntry(name: string): Promise<Installed> {
    const entry = await readStoreEntry(this.paths, name);
    if (entry?.kind === 'record') return { record: entry.record };
    if (entry?.kind !== 'damaged') return {};
    const active = (await loadActive(this.paths)).get(name);
    return { damaged: entry, ...(active ? { active } : {}) };
  }

  /** Commits a received and checked package (the caller holds the lock) and logs it. */
  private async commitInstall(
    received: Received,
    request: InstallRequest,
    existing: Installed,
    device: DeviceFile,
    origin: string,
  ): Promise<InstallResult> {
    const { commitPackage, recordOf } = await import('./store/receive.js');
    // Persistence belongs to the package until `remove`: a reinstall or upgrade without the word keeps it.
    const persistent =
      request.persistent ||
      existing.record?.persistent === true ||
      existing.active?.record.persistent === true;
    const record = recordOf(received, { ...request, persistent });
    faultPoint('install:checked');
    await commitPackage(this.paths, received, record, existing.record);
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
    const what = existing.record
      ? replacement(record.name, existing.record.version, record.version)
      : `install ${record.name} ${record.version}`;
    const kept = persistent && !request.persistent ? ' (kept)' : '';
    const over = existing.damaged ? '; replaces a damaged record' : '';
    await this.log([`${what} (${origin})${record.persistent ? ` persistent${kept}` : ''} ${verdict}${over}`]);
    return {
      name: record.name,
      version: record.version,
      ...(existing.record ? { previousVersion: existing.record.version } : {}),
      verification: record.verification,
      ...(record.verification === 'Signed' ? {} : { reason: record.reason }),
      ...(record.keyNumber === undefined ? {} : { keyNumber: record.keyNumber }),
      willActivate: refused === undefined,
      persistent: record.persistent,
    };
  }

  async remove(name: string): Promise<void> {
    checkPackageName(name);
    return this.guard(`removing ${name}`, () =>
      this.locked(async () => {
        const entry = await readStoreEntry(this.paths, name);
        if (!entry) throw notInstalled(name);
        await removeFromStore(this.paths, name);
        faultPoint('remove:done');
        const what = entry.kind === 'record' ? `${name} ${entry.record.version}` : `${name} (damaged record)`;
        await this.log([`remove ${what} (takes effect at the next boot)`]);
      }),
    );
  }

  async removeAll(): Promise<number> {
    return this.guard('removing all packages', async () => {
      const { clearJournal, removePackages, writeJournal } = await import('./lifecycle/recovery.js');
      return this.locked(async () => {
        const names = await storeNames(this.paths);
        if (names.length === 0) return 0;
        await writeJournal(this.paths, { op: 'remove-all', names });
        faultPoint('remove-all:journal');
        await removePackages(this.paths, names);
        await clearJournal(this.paths);
        await this.log([
          `remove all: ${quantity(names.length, 'package')} (${names.join(', ')}) (takes effect at the next boot)`,
        ]);
        return names.length;
      });
    });
  }

  boot(): Promise<BootReport> {
    return this.guard('booting', () => this.locked(() => this.bootLocked()));
  }

  private async bootLocked(): Promise<BootReport> {
    const { runBoot } = await import('./boot/sequence.js');
    return runBoot(this.paths, await this.device(), (events, at) => this.log(events, at));
  }

  factoryReset(): Promise<BootReport> {
    return this.guard('factory reset', async () => {
      const { clearJournal, removePackages, resetRuntime, writeJournal } = await import(
        './lifecycle/recovery.js'
      );
      return this.locked(async () => {
        const { records, damaged } = await loadRecords(this.paths);
        const all = [...records.values()];
        const gone = all.filter((r) => !r.persistent).map((r) => r.name);
        const kept = all.filter((r) => r.persistent).map((r) => r.name);
        await writeJournal(this.paths, { op: 'factory-reset', names: gone });
        faultPoint('factory-reset:journal');
        await removePackages(this.paths, gone);
        faultPoint('factory-reset:removed');
        await resetRuntime(this.paths);
        await clearJournal(this.paths);
        // Whether a package with a damaged record was persistent cannot be known: it stays, named.
        const unknown = [...damaged.keys()];
        await this.log([
          `---- factory reset: ${quantity(gone.length, 'package')} removed${gone.length ? ` (${gone.join(', ')})` : ''}, ${kept.length} persistent kept${kept.length ? ` (${kept.join(', ')})` : ''}${unknown.length ? `, ${unknown.length} with a damaged record kept (${unknown.join(', ')}; remove them by name)` : ''}; known hosts and session state cleared ----`,
        ]);
        faultPoint('factory-reset:before-boot');
        return this.bootLocked();
      });
    });
  }

  bootConfig(): Promise<BootConfig> {
    return this.guard('reading the boot configuration', async () => {
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
      return {
        allowUntrusted: config.allowUntrusted,
        media: config.media,
        ...(unlock ? { unlock } : {}),
        ...(config.problems ? { problems: config.problems } : {}),
      };
    });
  }

  setAllowUntrusted(on: boolean): Promise<void> {
    return this.changeConfig(async (config, device) => {
      if (on && device.secureBoot && !unlocked(config, device)) {
        throw new DeviceError(
          'DEVICE_SECURE_BOOT',
          `allow-untrusted refused: secure boot is on; install an unlock token for serial ${device.serial} first (unlock media external token.lic)`,
        );
      }
      return {
        config: { ...config, allowUntrusted: on },
        event: `boot config: ${on ? 'allow-untrusted' : 'no allow-untrusted'} (takes effect at the next boot)`,
      };
    });
  }

  async setMediaLabel(label: MediaLabel): Promise<void> {
    checkMediaLabel(label);
    return this.changeConfig(async (config) => {
      const media = config.media.some((m) => m.name === label.name)
        ? config.media.map((m) => (m.name === label.name ? label : m))
        : [...config.media, label];
      return { config: { ...config, media }, event: `boot config: media ${label.name} ${label.bus}` };
    });
  }

  removeMediaLabel(name: string): Promise<void> {
    return this.changeConfig(async (config) => {
      if (!config.media.some((m) => m.name === name)) {
        throw new DeviceError('DEVICE_BAD_LABEL', `no media label "${name}" (see show media)`);
      }
      return {
        config: { ...config, media: config.media.filter((m) => m.name !== name) },
        event: `boot config: no media ${name}`,
      };
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
    let installed: { readonly serial: string; readonly keyNumber: string } | undefined;
    await this.changeConfig(async (config, device) => {
      const token = verifyUnlockToken(Buffer.concat(chunks), device.anchorKey, device.serial);
      installed = { serial: token.serial, keyNumber: token.keyNumber };
      return {
        config: { ...config, unlockToken: token.bytes },
        event: `boot config: unlock token installed (serial ${token.serial}, key ${token.keyNumber})`,
      };
    }, 'installing the unlock token');
    return installed!;
  }

  eventLog(): Promise<string[]> {
    return this.guard('reading the event log', () => readEvents(this.paths.logFile));
  }

  /**
   * A change of the boot configuration under the lock: `change` gets the configuration as read (a
   * damaged file's unreadable lines left out, `allowUntrusted` off) and returns the new one, which is
   * written whole, so that any boot command rewrites a damaged file cleanly.
   */
  private changeConfig(
    change: (
      config: StoredBootConfig,
      device: DeviceFile,
    ) => Promise<{ config: StoredBootConfig; event: string }>,
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

/** What is installed under a name: a record, or a damaged record and the activation it left. */
interface Installed {
  readonly record?: StoreRecord;
  readonly damaged?: Extract<StoreEntry, { kind: 'damaged' }>;
  readonly active?: ActiveRecord;
}

type Received = import('./store/receive.js').Received;

/**
 * What `dir` is: a device (`device.json` is there), or a place to create one (missing, empty, or a
 * creation left unfinished). Anything else is refused: creating a device there would mix it with
 * other files, or hide that a device lost its `device.json` (a new serial would orphan its unlock
 * token and its packages).
 */
async function examine(layout: Layout, shown: string): Promise<'device' | 'create'> {
  const missing = (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  };
  if (await stat(layout.deviceFile).catch(missing)) return 'device';
  const root = await stat(layout.root).catch(missing);
  if (!root) return 'create';
  if (!root.isDirectory()) throw new DeviceError('DEVICE_NOT_A_DEVICE', `${shown} is not a directory`);
  const entries = await readdir(layout.root);
  if (entries.length === 0 || entries.includes('.creating')) return 'create';
  if ((await stat(layout.storeDir).catch(missing))?.isDirectory()) {
    throw new DeviceError(
      'DEVICE_NOT_A_DEVICE',
      `${shown}: device.json is missing; restore it from a backup (a new one would give the device a new serial)`,
    );
  }
  throw new DeviceError(
    'DEVICE_NOT_A_DEVICE',
    `${shown} is not a device directory (no device.json) and not empty`,
  );
}

/**
 * `mkdir -p`. Node reports a recursive mkdir on a read-only file system as ENOENT; the first missing
 * ancestor is then made alone, which fails with the real reason (EROFS, EACCES, ENOTDIR…).
 */
async function makeDirectory(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    let first = path;
    while (
      dirname(first) !== first &&
      !(await access(dirname(first)).then(
        () => true,
        () => false,
      ))
    ) {
      first = dirname(first);
    }
    await mkdir(first);
    await mkdir(path, { recursive: true });
  }
}

function notInstalled(name: string): DeviceError {
  return new DeviceError('DEVICE_NOT_INSTALLED', `package ${name} is not installed (see package show)`);
}

/**
 * The row of a package whose record is damaged: `Invalid`, never activated again, and what it had in
 * rootfs stays until the operator removes or reinstalls it.
 */
function summarizeDamaged(name: string, problem: string, active: ActiveRecord | undefined): PackageSummary {
  return {
    name,
    version: active?.version ?? '?',
    persistent: active?.record.persistent ?? false,
    verification: 'Invalid',
    description: active?.record.description ?? '',
    state: 'inactive',
    reason: active
      ? `damaged record: ${problem}; ${active.version} stays active until ${name} is removed or installed again`
      : `damaged record: ${problem}; remove ${name} or install it again`,
  };
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

/** The data archive's file count where known: counted when this installation was activated. */
function fileCountOf(record: StoreRecord, active: ActiveRecord | undefined): { fileCount?: number } {
  const count = record.fileCount ?? (active?.installId === record.installId ? active.fileCount : undefined);
  return count === undefined ? {} : { fileCount: count };
}
