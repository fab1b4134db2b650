// The EDGESH_SERVICES module of the end-to-end tests: the real device and media layer, and a mock
// server standing in for the manual's unroutable addresses (192.0.2.1), set up by EDGESH_E2E_CONFIG.
import { readFileSync } from 'node:fs';
import type { Services } from '../../contexts/env.js';
import { openDevice } from '../../firmware-sim/index.js';
import {
  createMediaResolver,
  describeLabel,
  formatMediaLabel,
  parseMediaLabelArgs,
} from '../../media/index.js';
import type { ServiceOptions } from '../../shell/services.js';
import { formatHostPort } from '../../transports/index.js';
import { createMockOpenRemote, type MockFile, type MockOptions } from '../../transports/mock.js';
import type { ProtoName } from '../../transports/types.js';

/** What the mock server holds: files by the path the `install` line names, each a local file. */
export interface E2EConfig {
  readonly files: Readonly<Record<string, string>>;
  /** Files the server sends the first `after` bytes of, then nothing more (a transfer that hangs). */
  readonly stalled?: Readonly<Record<string, { readonly file: string; readonly after: number }>>;
  readonly password?: string;
  readonly down?: readonly ProtoName[];
  /** How long a session waits for the device lock (default: the device's). */
  readonly lockWaitMs?: number;
}

/** The EDGESH_SERVICES entry point. */
export async function createServices(options: ServiceOptions): Promise<Services> {
  const file = process.env.EDGESH_E2E_CONFIG;
  const config: E2EConfig = file ? JSON.parse(readFileSync(file, 'utf8')) : { files: {} };
  const device = await openDevice(options.deviceDir, {
    session: { user: options.user, id: options.sessionId },
    ...(config.lockWaitMs === undefined ? {} : { lockWaitMs: config.lockWaitMs }),
  });
  const stalled = Object.entries(config.stalled ?? {}).map(([path, s]): [string, MockFile] => [
    path,
    { data: readFileSync(s.file), stallAfter: s.after },
  ]);
  const mock: MockOptions = {
    files: Object.fromEntries([
      ...Object.entries(config.files).map(([path, local]): [string, MockFile] => [path, { file: local }]),
      ...stalled,
    ]),
    ...(config.password === undefined ? {} : { password: config.password }),
    ...(config.down === undefined ? {} : { down: config.down }),
  };
  const openRemote = createMockOpenRemote(mock);
  // No real drives: the simulated stick only, whatever is plugged into the test machine.
  const resolver = createMediaResolver({ usbStick: device.paths.usbStick, lister: async () => [] });
  return {
    device,
    transports: async () => ({ openRemote, formatHostPort: (host, port) => formatHostPort(host, port) }),
    media: async () => ({ resolver, parseMediaLabelArgs, describeLabel, formatMediaLabel }),
    close: async () => {},
  };
}
