// The services module behind EDGESH_SERVICES in tests: a fake device, mock servers and a fake USB stick.
import { readFileSync } from 'node:fs';
import type { Services } from '../../contexts/env.js';
import type { ServiceOptions } from '../../shell/services.js';
import { formatHostPort } from '../../transports/address.js';
import { createMockOpenRemote, type MockFile, type MockServer } from '../../transports/mock.js';
import { FakeDevice, type FakeState, freshState } from './fake-device.js';
import {
  describeLabel,
  type FakeDrive,
  fakeMediaResolver,
  formatMediaLabel,
  parseMediaLabelArgs,
} from './fake-media.js';
import { fakePackage } from './fake-package.js';

/**
 * A file on a scenario's server (JSON): its text; or `slow`: one chunk, then nothing until the transfer
 * is aborted; or `delayMs`: all of `data`, after a pause (a slow command that finishes).
 */
export type ScenarioFile =
  | string
  | { readonly slow: true; readonly first: string }
  | { readonly delayMs: number; readonly data: string };

/** A server of a scenario, served by the mock transport (transports/mock.ts) with the real guard and policy. */
export interface ScenarioServer {
  /** Protocols it answers; others are refused. */
  readonly protos: MockServer['protos'];
  /** Files by path. */
  readonly files: Readonly<Record<string, ScenarioFile>>;
  /** Password every login needs (not tftp's). */
  readonly password?: string;
  /** Its SSH host key is not in known_hosts: scp/sftp ask `confirmHostKey`. */
  readonly unknownHostKey?: boolean;
}

/** What a test may add on top of the default scenario (`EDGESH_FAKE_SCENARIO=file.json`). */
export interface Scenario {
  readonly state?: Partial<FakeState>;
  readonly servers?: Readonly<Record<string, ScenarioServer>>;
  readonly drives?: readonly FakeDrive[];
}

/** The host key an unknown scenario server shows. */
const UNKNOWN_HOST_KEY = {
  algorithm: 'ssh-ed25519',
  fingerprint: 'SHA256:Xb0VGYt2cbdQkdOfy4vVvJ1XRlNjVuq4o5ziEnw0Zng',
} as const;

/** What a `slow` file announces: far more than it sends, so the transfer is seen to hang. */
const SLOW_ANNOUNCED = 10 * 1024 * 1024;

function toMockFile(file: ScenarioFile): MockFile {
  if (typeof file === 'string') return Buffer.from(file);
  if ('slow' in file) {
    const data = Buffer.from(file.first);
    return { data, stallAfter: data.length, announce: SLOW_ANNOUNCED };
  }
  return { data: Buffer.from(file.data), delayMs: file.delayMs };
}

function toMockServer(server: ScenarioServer): MockServer {
  return {
    protos: server.protos,
    files: Object.fromEntries(Object.entries(server.files).map(([path, f]) => [path, toMockFile(f)])),
    ...(server.password === undefined ? {} : { password: server.password }),
    ...(server.unknownHostKey ? { unknownHostKey: UNKNOWN_HOST_KEY } : {}),
  };
}

const PKGNAME = fakePackage({
  Package: 'pkgname',
  Version: '5.26.0-rev0',
  Description: 'Example',
  keyNumber: '5e8c1a3b9d0f2e47',
});

/** Mock servers of the manual's examples (TEST-NET addresses: nothing is ever sent anywhere). */
export const DEFAULT_SERVERS: Readonly<Record<string, ScenarioServer>> = {
  '192.0.2.1': {
    protos: ['ftp', 'tftp', 'http'],
    files: {
      'pkgname.wmopkg': PKGNAME,
      'hello.wmopkg': fakePackage({
        Package: 'hello',
        Version: '1.0.0',
        Description: 'Hello world\n Prints a greeting.\n .\n Configured in /etc/hello.conf.',
      }),
      'unsigned.wmopkg': fakePackage({
        Package: 'unsigned',
        Version: '0.1',
        Description: 'A package without signature',
        verification: 'Unsigned',
        reason: 'no signature (package has no _manifest)',
      }),
      'untrusted.wmopkg': fakePackage({
        Package: 'untrusted',
        Version: '0.2',
        Description: 'Signed by an unknown key',
        verification: 'Untrusted',
        reason: 'signed by unknown key 0123456789abcdef',
        keyNumber: '0123456789abcdef',
      }),
      'revoked.wmopkg': fakePackage({
        Package: 'revoked',
        Version: '0.3',
        Description: 'Signed by a revoked key',
        verification: 'Untrusted',
        reason: 'signed by revoked key 5e8c1a3b9d0f2e47',
        keyNumber: '5e8c1a3b9d0f2e47',
      }),
      'tampered.wmopkg': fakePackage({
        Package: 'tampered',
        Version: '1.0',
        Description: 'Modified after signing',
        verification: 'Invalid',
        reason: 'digest of data.tar.gz does not match',
      }),
      'v1/pkgname.wmopkg': fakePackage({ Package: 'pkgname', Version: '1.0', Description: 'Example' }),
      'v2/pkgname.wmopkg': fakePackage({ Package: 'pkgname', Version: '2.0', Description: 'Example' }),
      'slow.wmopkg': { slow: true, first: '{"Package":' },
      'delayed.wmopkg': {
        delayMs: 300,
        data: fakePackage({ Package: 'delayed', Version: '1.0', Description: 'Comes after a pause' }),
      },
      'garbage.wmopkg': 'not a package',
      'crash.wmopkg': fakePackage({ Package: 'crash', Version: '1', Description: 'x', crash: true }),
    },
  },
  '192.0.2.2': { protos: ['tftp'], files: { 'pkgname.wmopkg': PKGNAME } },
  '192.0.2.3': {
    protos: ['scp', 'sftp', 'ftp'],
    password: 'secret',
    unknownHostKey: true,
    files: { 'pkgname.wmopkg': PKGNAME, 'token.lic': '{"serial":"WM0001","keyNumber":"5e8c1a3b9d0f2e47"}' },
  },
  '2001:db8::1': { protos: ['ftp'], files: { 'pkgname.wmopkg': PKGNAME } },
};

/** The simulated USB stick: answers to `external` and `my-usb`. */
export const DEFAULT_DRIVES: readonly FakeDrive[] = [
  {
    device: '/dev/sdb1',
    mountpoint: '/media/usb0',
    labels: ['external', 'my-usb'],
    files: {
      'path/on/media/pkgname.wmopkg': PKGNAME,
      'relative/path/pkgname.wmopkg': PKGNAME,
      'hello.wmopkg': fakePackage({ Package: 'hello', Version: '1.0.0', Description: 'Hello world' }),
      'token.lic': '{"serial":"WM0001","keyNumber":"5e8c1a3b9d0f2e47"}',
    },
  },
];

/** Builds fake services over a device kept in `deviceDir`, or held in memory only when there is none. */
export function fakeServices(
  deviceDir: string | undefined,
  scenario: Scenario = {},
): Services & { device: FakeDevice } {
  const device =
    deviceDir === undefined
      ? new FakeDevice({ ...freshState(), ...scenario.state })
      : FakeDevice.open(deviceDir, scenario.state ?? {});
  const servers = { ...DEFAULT_SERVERS, ...scenario.servers };
  const openRemote = createMockOpenRemote({
    servers: Object.fromEntries(
      Object.entries(servers).map(([host, server]) => [host, toMockServer(server)]),
    ),
  });
  const resolver = fakeMediaResolver(scenario.drives ?? DEFAULT_DRIVES);
  return {
    device,
    transports: async () => ({ openRemote, formatHostPort }),
    media: async () => ({ resolver, parseMediaLabelArgs, describeLabel, formatMediaLabel }),
    close: async () => {},
  };
}

/** The EDGESH_SERVICES entry point. */
export function createServices(options: ServiceOptions): Services {
  const file = process.env.EDGESH_FAKE_SCENARIO;
  const scenario = file ? (JSON.parse(readFileSync(file, 'utf8')) as Scenario) : {};
  return fakeServices(options.deviceDir, scenario);
}
