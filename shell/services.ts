// The one place where the shell meets the real layers: builds the services bag for a session.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MediaTools, Services, TransportTools } from '../contexts/env.js';
import { importFile } from './import-file.js';

/** Who opens the device, and where. */
export interface ServiceOptions {
  /** The device state directory (`--device`, default `./.device`). */
  readonly deviceDir: string;
  /** The CLI user and this session's id: the device names them when it holds its lock. */
  readonly user: string;
  readonly sessionId: string;
}

/** What a module named by `EDGESH_SERVICES` exports (test hook). */
export interface ServicesModule {
  createServices(options: ServiceOptions): Promise<Services> | Services;
}

/**
 * Opens the device and returns the services bag. Transports (and with them ssh2, undici) and
 * the media layer (drivelist) are imported on first use only, so the prompt does not wait for them.
 *
 * Test hook: when `EDGESH_SERVICES` names a JavaScript module, its `createServices` is used
 * instead (the golden transcripts and terminal tests run the real binary on a fake device).
 */
export async function loadServices(options: ServiceOptions): Promise<Services> {
  const hook = process.env.EDGESH_SERVICES;
  if (hook !== undefined && hook !== '') {
    const mod = (await importFile(pathToFileURL(resolve(hook)).href)) as ServicesModule;
    return mod.createServices(options);
  }
  const { openDevice } = await import('../firmware-sim/index.js');
  const device = await openDevice(options.deviceDir, {
    session: { user: options.user, id: options.sessionId },
  });
  let transports: Promise<TransportTools> | undefined;
  let media: Promise<MediaTools> | undefined;
  return {
    device,
    transports: () => {
      transports ??= import('../transports/index.js').then((m) => ({
        openRemote: m.openRemote,
        formatHostPort: m.formatHostPort,
      }));
      return transports;
    },
    media: () => {
      media ??= import('../media/index.js').then((m) => ({
        resolver: m.createMediaResolver({ usbStick: device.paths.usbStick }),
        parseMediaLabelArgs: m.parseMediaLabelArgs,
        describeLabel: m.describeLabel,
        formatMediaLabel: m.formatMediaLabel,
      }));
      return media;
    },
    close: async () => {},
  };
}

/**
 * The host name in `DIR/device.json` (a path of the device's interface, SPEC §4.1), read without
 * opening the store, so that the first prompt does not wait for it; `undefined` when the file is
 * not there yet (a new device) or says nothing usable.
 */
export async function peekHostname(deviceDir: string): Promise<string | undefined> {
  if (process.env.EDGESH_SERVICES) return undefined;
  try {
    const json = JSON.parse(await readFile(join(deviceDir, 'device.json'), 'utf8')) as { hostname?: unknown };
    const name = json.hostname;
    return typeof name === 'string' && /^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `deviceDir` holds no device yet, so that opening it creates one (SPEC §2, first start);
 * asked before the device is opened. Always false with the `EDGESH_SERVICES` test hook.
 */
export function isNewDevice(deviceDir: string): boolean {
  if (process.env.EDGESH_SERVICES) return false;
  return !existsSync(join(deviceDir, 'device.json'));
}
