// An in-memory Device (firmware-sim/api.ts) for shell tests; optionally kept in DIR/fake-device.json between runs.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type {
  ActivationState,
  BackupEntry,
  BootConfig,
  BootLine,
  BootReport,
  Device,
  DeviceInfo,
  DevicePaths,
  FirmwareChange,
  FirmwareState,
  InstallRequest,
  InstallResult,
  PackageDetails,
  PackageOrigin,
  PackageSummary,
  Verification,
} from '../../firmware-sim/api.js';
import type { MediaLabel } from '../../media/types.js';
import { compareVersions, type FakePackage } from './fake-package.js';

/** The error the fake throws, shaped like the real `DeviceError` (a `DEVICE_*` code). */
export class FakeDeviceError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'DeviceError';
    this.code = code;
  }
}

interface Stored {
  name: string;
  version: string;
  persistent: boolean;
  verification: Verification;
  description: string;
  fields: Array<[string, string]>;
  origin: PackageOrigin;
  installedAt: string;
  keyNumber?: string;
  reason?: string;
  size: number;
  fileCount: number;
}

/** Everything the fake device knows; the JSON kept in `fake-device.json`. */
export interface FakeState {
  hostname: string;
  serial: string;
  secureBoot: boolean;
  allowUntrusted: boolean;
  media: MediaLabel[];
  unlock?: { serial: string; keyNumber: string };
  packages: Record<string, Stored>;
  /** What the last boot activated: name → version. */
  active: Record<string, string>;
  /** Installed packages the last boot did not activate: name → reason. */
  inactive: Record<string, string>;
  log: string[];
  bootedAt: string;
  /** Seconds of the fake clock since 2026-11-21 10:00:00 UTC. */
  clock: number;
  /** When set, every change fails with DEVICE_LOCKED naming this holder. */
  lockedBy?: string;
}

/** A factory-fresh fake state. */
export function freshState(): FakeState {
  return {
    hostname: 'example',
    serial: 'WM0001',
    secureBoot: false,
    allowUntrusted: false,
    media: [{ name: 'external', bus: 'any' }],
    packages: {},
    active: {},
    inactive: {},
    log: [],
    bootedAt: '2026-11-21T10:00:00.000Z',
    clock: 0,
  };
}

const DEFAULT_PORTS = { ftp: 21, tftp: 69, scp: 22, sftp: 22, http: 80, https: 443 } as const;

/** The fake device. Mutations are written back to `file` when one is given. */
export class FakeDevice implements Device {
  readonly paths: DevicePaths;
  /** Called on every install stream chunk (tests watch transfers). */
  onChunk: ((bytes: number) => void) | undefined;

  constructor(
    readonly state: FakeState,
    private readonly file?: string,
    root = '/nonexistent/fake-device',
  ) {
    this.paths = {
      root,
      keysDir: join(root, 'etc/wmopkg/keys'),
      revokedFile: join(root, 'etc/wmopkg/revoked'),
      knownHostsFile: join(root, 'etc/ssh/known_hosts'),
      caDir: join(root, 'etc/ssl/certs'),
      rootfs: join(root, 'rootfs'),
      logFile: join(root, 'var/log/packages.log'),
      usbStick: join(root, 'media/usb0'),
    };
  }

  /** Opens the fake kept in `dir/fake-device.json`, creating it fresh (merged with `seed`) on first use. */
  static open(dir: string, seed: Partial<FakeState> = {}): FakeDevice {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'fake-device.json');
    let state: FakeState;
    try {
      state = JSON.parse(readFileSync(file, 'utf8')) as FakeState;
    } catch {
      state = { ...freshState(), ...seed };
    }
    const device = new FakeDevice(state, file, dir);
    device.save();
    return device;
  }

  private save(): void {
    if (this.file === undefined) return;
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.state, null, 1));
    renameSync(`${this.file}.tmp`, this.file);
  }

  private now(): string {
    this.state.clock += 1;
    return new Date(Date.parse('2026-11-21T10:00:00Z') + this.state.clock * 1000).toISOString();
  }

  private logLine(text: string): void {
    const t = this.now().replace('T', ' ').slice(0, 19);
    this.state.log.push(`${t} ${text}`);
  }

  private lock(): void {
    if (this.state.lockedBy !== undefined) {
      throw new FakeDeviceError(
        'DEVICE_LOCKED',
        `device busy: a package operation by ${this.state.lockedBy} is in progress; try again when it is done`,
      );
    }
  }

  /** Whether the boot honours allow-untrusted: with secure boot only with an unlock token (as the real device). */
  private untrustedInForce(): boolean {
    return this.state.allowUntrusted && (!this.state.secureBoot || this.state.unlock !== undefined);
  }

  /** Why the boot will not activate `p` (the real device's words), or `undefined` when it will. */
  private refusal(p: Stored): string | undefined {
    if (p.verification === 'Signed' || this.untrustedInForce()) return undefined;
    const what =
      p.verification === 'Unsigned'
        ? 'unsigned'
        : `${p.reason?.includes('revoked') ? 'revoked' : 'untrusted'} key ${p.keyNumber ?? '?'}`;
    const why =
      this.state.allowUntrusted && this.state.secureBoot
        ? 'allow-untrusted needs an unlock token (secure boot)'
        : 'allow-untrusted is off';
    return `${what}, ${why}`;
  }

  async info(): Promise<DeviceInfo> {
    return {
      hostname: this.state.hostname,
      serial: this.state.serial,
      firmwareVersion: '1.0.0',
      architectures: ['arm64'],
      secureBoot: this.state.secureBoot,
      defaultPorts: DEFAULT_PORTS,
      maxPackageBytes: 2 * 1024 ** 3,
      bootedAt: this.state.bootedAt,
    };
  }

  /** State and reason as the real device gives them: the reason explains the activation. */
  private stateOf(p: Stored): { state: ActivationState; activeVersion?: string; reason?: string } {
    const active = this.state.active[p.name];
    if (active === p.version) return { state: 'active' };
    const inactive = this.state.inactive[p.name];
    if (inactive !== undefined) return { state: 'inactive', reason: inactive };
    const refused = this.refusal(p);
    const reason =
      refused === undefined ? 'takes effect at the next boot' : `will not be activated: ${refused}`;
    return active === undefined
      ? { state: 'pending', reason }
      : { state: 'pending', activeVersion: active, reason };
  }

  private summary(p: Stored): PackageSummary {
    const s = this.stateOf(p);
    const reason = s.reason;
    return {
      name: p.name,
      version: p.version,
      persistent: p.persistent,
      verification: p.verification,
      description: p.description,
      state: s.state,
      ...(s.activeVersion === undefined ? {} : { activeVersion: s.activeVersion }),
      ...(reason === undefined ? {} : { reason }),
    };
  }

  async list(): Promise<PackageSummary[]> {
    const out = Object.values(this.state.packages).map((p) => this.summary(p));
    for (const [name, version] of Object.entries(this.state.active)) {
      if (this.state.packages[name] !== undefined) continue;
      out.push({
        name,
        version,
        persistent: false,
        verification: 'Signed',
        description: '',
        state: 'removed',
        reason: 'removed; active until the next boot',
      });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async names(): Promise<string[]> {
    return Object.keys(this.state.packages).sort();
  }

  async details(name: string): Promise<PackageDetails> {
    const p = this.state.packages[name];
    if (p === undefined)
      throw new FakeDeviceError(
        'DEVICE_NOT_INSTALLED',
        `package ${name} is not installed (see package show)`,
      );
    return {
      ...this.summary(p),
      fields: p.fields,
      origin: p.origin,
      installedAt: p.installedAt,
      ...(p.keyNumber === undefined ? {} : { keyNumber: p.keyNumber }),
      size: p.size,
      // As the device: the data archive is counted when the installation is activated.
      ...(this.state.active[name] === p.version ? { fileCount: p.fileCount } : {}),
    };
  }

  async install(request: InstallRequest): Promise<InstallResult> {
    this.lock();
    const text = await readAll(request.stream, request.signal, this.onChunk);
    let pkg: FakePackage;
    try {
      pkg = JSON.parse(text.toString('utf8')) as FakePackage;
    } catch {
      throw new FakeDeviceError(
        'DEVICE_INVALID_PACKAGE',
        `${request.name}: not a .wmopkg package (bad magic)`,
      );
    }
    if (pkg.crash) throw new TypeError("Cannot read properties of undefined (reading 'version')");
    const verification = pkg.verification ?? 'Signed';
    if (verification === 'Invalid') {
      throw new FakeDeviceError(
        'DEVICE_INVALID_PACKAGE',
        `${request.name}: signature does not verify (${pkg.reason ?? 'tampered'}); nothing was installed`,
      );
    }
    const previous = this.state.packages[request.name];
    if (previous !== undefined && compareVersions(pkg.Version, previous.version) < 0) {
      if (!(await request.confirmDowngrade(previous.version, pkg.Version))) {
        throw new FakeDeviceError(
          'DEVICE_DOWNGRADE_DECLINED',
          `downgrade of ${request.name} not confirmed; nothing changed`,
        );
      }
    }
    const fields: Array<[string, string]> = [
      ['Package', pkg.Package],
      ['Version', pkg.Version],
      ['Architecture', pkg.Architecture ?? 'all'],
      ['Maintainer', pkg.Maintainer ?? 'Example Vendor <support@example.com>'],
      ['Description', pkg.Description],
    ];
    if (pkg.Depends !== undefined) fields.push(['Depends', pkg.Depends]);
    this.state.packages[request.name] = {
      name: request.name,
      version: pkg.Version,
      // Like the real store: a persistent package stays so until it is removed.
      persistent: request.persistent || previous?.persistent === true,
      verification,
      description: pkg.Description.split('\n')[0]!,
      fields,
      origin: request.origin,
      installedAt: this.now(),
      ...(pkg.keyNumber === undefined ? {} : { keyNumber: pkg.keyNumber }),
      ...(pkg.reason === undefined ? {} : { reason: pkg.reason }),
      size: text.length,
      fileCount: pkg.files ?? 3,
    };
    delete this.state.inactive[request.name];
    this.logLine(`install ${request.name} ${pkg.Version} ${verification}`);
    this.save();
    const willActivate = verification === 'Signed' || this.untrustedInForce();
    return {
      name: request.name,
      version: pkg.Version,
      ...(previous === undefined ? {} : { previousVersion: previous.version }),
      verification,
      ...(pkg.reason === undefined ? {} : { reason: pkg.reason }),
      ...(pkg.keyNumber === undefined ? {} : { keyNumber: pkg.keyNumber }),
      willActivate,
      persistent: this.state.packages[request.name]!.persistent,
    };
  }

  async remove(name: string): Promise<void> {
    this.lock();
    if (this.state.packages[name] === undefined) {
      throw new FakeDeviceError(
        'DEVICE_NOT_INSTALLED',
        `package ${name} is not installed (see package show)`,
      );
    }
    delete this.state.packages[name];
    delete this.state.inactive[name];
    this.logLine(`remove ${name}`);
    this.save();
  }

  async removeAll(): Promise<number> {
    this.lock();
    const n = Object.keys(this.state.packages).length;
    this.state.packages = {};
    this.state.inactive = {};
    this.logLine(`remove all (${n})`);
    this.save();
    return n;
  }

  async boot(): Promise<BootReport> {
    this.lock();
    const at = this.now();
    const lines: BootLine[] = [];
    const active: Record<string, string> = {};
    const inactive: Record<string, string> = {};
    for (const p of Object.values(this.state.packages).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const refused = this.refusal(p);
      const allowed = refused === undefined;
      const already = this.state.active[p.name] === p.version;
      if (allowed) active[p.name] = p.version;
      else inactive[p.name] = refused;
      lines.push({
        name: p.name,
        version: p.version,
        verification: p.verification,
        activated: allowed,
        reason: allowed ? (already ? 'already active' : 'activated') : inactive[p.name]!,
      });
    }
    const deactivated = Object.entries(this.state.active)
      .filter(([name]) => this.state.packages[name] === undefined)
      .map(([name, version]) => ({ name, version }));
    this.state.active = active;
    this.state.inactive = inactive;
    this.state.bootedAt = at;
    for (const l of lines) this.logLine(`boot ${l.name} ${l.version} ${l.verification}: ${l.reason}`);
    this.save();
    return { at, lines, deactivated };
  }

  async factoryReset(): Promise<BootReport> {
    this.lock();
    for (const [name, p] of Object.entries(this.state.packages))
      if (!p.persistent) delete this.state.packages[name];
    this.logLine('factory-reset');
    this.save();
    return this.boot();
  }

  async bootConfig(): Promise<BootConfig> {
    return {
      allowUntrusted: this.state.allowUntrusted,
      media: this.state.media,
      ...(this.state.unlock === undefined ? {} : { unlock: this.state.unlock }),
    };
  }

  async setAllowUntrusted(on: boolean): Promise<void> {
    this.lock();
    if (on && this.state.secureBoot && this.state.unlock === undefined) {
      throw new FakeDeviceError(
        'DEVICE_SECURE_BOOT',
        'secure boot: allow-untrusted needs an unlock token for this device (unlock media LABEL FILE)',
      );
    }
    this.state.allowUntrusted = on;
    this.save();
  }

  async setMediaLabel(label: MediaLabel): Promise<void> {
    this.lock();
    this.state.media = [...this.state.media.filter((l) => l.name !== label.name), label];
    this.save();
  }

  async removeMediaLabel(name: string): Promise<void> {
    this.lock();
    if (!this.state.media.some((l) => l.name === name)) {
      throw new FakeDeviceError('DEVICE_NO_SUCH_LABEL', `no media label ${name} (boot show lists them)`);
    }
    this.state.media = this.state.media.filter((l) => l.name !== name);
    this.save();
  }

  async installUnlockToken(
    stream: Readable,
  ): Promise<{ readonly serial: string; readonly keyNumber: string }> {
    this.lock();
    const token = JSON.parse((await readAll(stream, undefined, undefined)).toString('utf8')) as {
      serial: string;
      keyNumber: string;
    };
    if (token.serial !== this.state.serial) {
      throw new FakeDeviceError(
        'DEVICE_TOKEN_SERIAL',
        `the unlock token is for serial ${token.serial}, not ${this.state.serial}`,
      );
    }
    this.state.unlock = token;
    this.save();
    return token;
  }

  async eventLog(): Promise<string[]> {
    return [...this.state.log];
  }

  /** The fake runs its one firmware in slot A; slot B is empty. */
  async firmware(): Promise<FirmwareState> {
    const version = (await this.info()).firmwareVersion;
    return {
      active: 'A',
      slots: [
        { name: 'A', state: 'active', version, source: 'factory' },
        { name: 'B', state: 'empty' },
      ],
    };
  }

  /** The fake keeps no held packages: its backup is the persistent ones. */
  async backup(): Promise<BackupEntry[]> {
    return Object.values(this.state.packages)
      .filter((p) => p.persistent)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((p) => ({ name: p.name, version: p.version, description: p.description, state: 'installed' }));
  }

  /** The fake has one firmware only (the firmware lifecycle is tested on the real device). */
  async setFirmwareFallback(on: boolean): Promise<FirmwareChange | undefined> {
    this.lock();
    if (on) throw new FakeDeviceError('DEVICE_FIRMWARE', 'no fallback firmware: slot B is empty');
    return undefined;
  }
}

async function readAll(
  stream: Readable,
  signal: AbortSignal | undefined,
  onChunk: ((n: number) => void) | undefined,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const abort = (): void => {
      stream.destroy();
      reject(signal?.reason ?? new Error('aborted'));
    };
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });
    stream.on('data', (c: Buffer | string) => {
      chunks.push(Buffer.from(c));
      onChunk?.(c.length);
    });
    stream.on('error', (e) => {
      signal?.removeEventListener('abort', abort);
      reject(e);
    });
    stream.on('end', () => {
      signal?.removeEventListener('abort', abort);
      resolve(Buffer.concat(chunks));
    });
  });
}
