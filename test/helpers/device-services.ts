// The EDGESH_SERVICES module of the shell's tests: the real device, the real media layer and the real
// transport policy and guard; only the lowest layer is faked: the network (transports/mock.ts serving
// the world's files) and the drive list. EDGESH_E2E_CONFIG names the world (test/helpers/world.ts).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Services } from '../../contexts/env.js';
import { type Device, type LocalDevice, layoutOf, openDevice } from '../../firmware-sim/index.js';
import {
  createMediaResolver,
  describeLabel,
  formatMediaLabel,
  parseMediaLabelArgs,
} from '../../media/index.js';
import type { ServiceOptions } from '../../shell/services.js';
import { formatHostPort } from '../../transports/index.js';
import {
  createMockOpenRemote,
  type MockFile,
  type MockOptions,
  type MockServer,
} from '../../transports/mock.js';
import type { Provisioning, ServedFile, WorldConfig } from './world.js';

export type { WorldConfig } from './world.js';

function served(file: ServedFile): MockFile {
  if (typeof file === 'string') return { file };
  const data = readFileSync(file.file);
  return {
    data,
    ...(file.stallAfter === undefined ? {} : { stallAfter: file.stallAfter }),
    ...(file.announce === undefined ? {} : { announce: file.announce }),
    ...(file.delayMs === undefined ? {} : { delayMs: file.delayMs }),
  };
}

/** The mock network of a world: its servers by host, or one server at every host. */
function network(config: WorldConfig): MockOptions | { servers: Record<string, MockServer> } {
  const stalled = Object.entries(config.stalled ?? {}).map(([path, s]): [string, MockFile] => [
    path,
    { data: readFileSync(s.file), stallAfter: s.after },
  ]);
  const everywhere: MockOptions = {
    files: Object.fromEntries([
      ...Object.entries(config.files ?? {}).map(([path, local]): [string, MockFile] => [
        path,
        { file: local },
      ]),
      ...stalled,
    ]),
    ...(config.password === undefined ? {} : { password: config.password }),
    ...(config.down === undefined ? {} : { down: config.down }),
  };
  if (config.servers === undefined) return everywhere;
  const servers = Object.fromEntries(
    Object.entries(config.servers).map(([host, s]): [string, MockServer] => [
      host,
      {
        protos: s.protos,
        files: Object.fromEntries(Object.entries(s.files).map(([path, f]) => [path, served(f)])),
        ...(s.password === undefined ? {} : { password: s.password }),
        ...(s.unknownHostKey === undefined ? {} : { unknownHostKey: s.unknownHostKey }),
      },
    ]),
  );
  return { servers };
}

/**
 * Provisions a device as a vendor or an administrator would before its first command: serial, secure
 * boot, extra keys and revocations, boot/config, a lock held by another session.
 */
export function provision(dir: string, p: Provisioning): void {
  const layout = layoutOf(dir);
  const json = JSON.parse(readFileSync(layout.deviceFile, 'utf8')) as Record<string, unknown>;
  if (p.serial !== undefined) json.serial = p.serial;
  if (p.secureBoot !== undefined) json.secureBoot = p.secureBoot;
  writeFileSync(layout.deviceFile, `${JSON.stringify(json, null, 2)}\n`);
  for (const [i, key] of (p.trust?.keys ?? []).entries())
    writeFileSync(join(layout.keysDir, `extra-${i}.pub`), key);
  if (p.trust?.revoked !== undefined) writeFileSync(layout.revokedFile, `${p.trust.revoked.join('\n')}\n`);
  if (p.allowUntrusted) writeFileSync(layout.bootConfigFile, 'allow-untrusted\nmedia external any\n');
  if (p.knownHosts !== undefined) writeFileSync(layout.knownHostsFile, `${p.knownHosts.join('\n')}\n`);
  if (p.lockedBy !== undefined) {
    // pid 1 runs as long as the system does: the lock is held, by a session the message names.
    const holder = { ...p.lockedBy, pid: 1, host: hostname(), nonce: 'provisioned' };
    mkdirSync(dirname(layout.lockFile), { recursive: true });
    writeFileSync(layout.lockFile, `${JSON.stringify(holder)}\n`);
  }
}

/**
 * A device whose install of the named packages runs into a bug: the real device otherwise. A fake
 * only for what the real device cannot be made to do; its other failures are the device's own.
 */
function withBugs(device: LocalDevice, bugs: readonly string[]): Device {
  if (bugs.length === 0) return device;
  return new Proxy(device, {
    get(target, key, receiver) {
      if (key !== 'install') {
        const value = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (request: Parameters<Device['install']>[0]) => {
        if (bugs.includes(request.name))
          throw new TypeError("Cannot read properties of undefined (reading 'version')");
        return target.install(request);
      };
    },
  });
}

/** The EDGESH_SERVICES entry point. */
export async function createServices(options: ServiceOptions): Promise<Services> {
  const file = process.env.EDGESH_E2E_CONFIG;
  const config: WorldConfig = file ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const fresh = !existsSync(join(options.deviceDir, 'device.json'));
  const open = () =>
    openDevice(options.deviceDir, {
      session: { user: options.user, id: options.sessionId },
      ...(config.vendorDir === undefined ? {} : { vendorDir: config.vendorDir }),
      ...(config.lockWaitMs === undefined ? {} : { lockWaitMs: config.lockWaitMs }),
    });
  let device = await open();
  if (fresh && config.provision !== undefined) {
    provision(options.deviceDir, config.provision);
    device = await open();
  }
  const openRemote = createMockOpenRemote(network(config));
  const drives = config.drives ?? [];
  const resolver = createMediaResolver({ usbStick: device.paths.usbStick, lister: async () => drives });
  return {
    device: withBugs(device, config.bugs ?? []),
    transports: async () => ({ openRemote, formatHostPort: (host, port) => formatHostPort(host, port) }),
    media: async () => ({ resolver, parseMediaLabelArgs, describeLabel, formatMediaLabel }),
    close: async () => {},
  };
}
