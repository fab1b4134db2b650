// The sample packages of the simulated USB stick.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import { DEVICE_DEFAULTS } from '../config/device-file.js';
import { makeUnlockToken } from '../config/unlock.js';
import {
  type DataEntry,
  generateKeyPair,
  type PackageSpec,
  type SecretKey,
  writePackage,
} from '../format/index.js';

import { createFirmwareSamples } from './samples-firmware.js';

export { SAMPLES } from './sample-list.js';

/** Options of `createSamplePackages`. */
export interface SampleOptions {
  /** Signs the signed samples and the unlock token. */
  readonly vendorKey: SecretKey;
  /** Serial the unlock token names. */
  readonly serial: string;
  /** Signs `thirdparty.wmopkg` (a key the device does not trust); a fresh one by default. */
  readonly thirdPartyKey?: SecretKey;
  /** Seconds since the epoch for every archive entry (reproducible samples). */
  readonly mtime?: number;
  /** The device's host name, firmware and architecture: the firmware samples are made for them. */
  readonly hostname?: string;
  readonly firmwareVersion?: string;
  readonly architecture?: string;
}

const MAINTAINER = 'Example Networks Firmware Team <firmware@example.com>';

function control(fields: Record<string, string>): ReadonlyArray<readonly [string, string]> {
  return Object.entries(fields);
}

const dir = (name: string): DataEntry => ({ name, type: 'directory', mode: 0o755 });
const file = (name: string, content: string, mode = 0o644): DataEntry => ({
  name,
  type: 'file',
  mode,
  content,
});

/**
 * Writes the sample packages and the unlock token into `outDir` (the USB stick, or a lab server's
 * directory). Returns the paths written.
 */
export async function createSamplePackages(outDir: string, options: SampleOptions): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const mtime = options.mtime ?? Math.floor(Date.now() / 1000);
  const out = (name: string) => join(outDir, name);
  const written: string[] = [];
  const sample = async (name: string, spec: Omit<PackageSpec, 'mtime'>) => {
    await writePackage({ ...spec, mtime }, out(name));
    written.push(out(name));
  };

  await sample('hello.wmopkg', {
    control: control({
      Package: 'hello',
      Version: '1.2.0',
      Architecture: 'all',
      Maintainer: MAINTAINER,
      Section: 'utils',
      Priority: 'optional',
      Depends: 'firmware (>= 5.20)',
      Description:
        'Greets the operator\n A tiny example package: /usr/bin/hello prints the greeting configured\n in /etc/hello.conf.',
    }),
    controlMembers: [{ name: 'conffiles', content: '/etc/hello.conf\n' }],
    data: [
      dir('./'),
      dir('./etc/'),
      file('./etc/hello.conf', 'GREETING="Hello from a signed package"\n'),
      dir('./usr/'),
      dir('./usr/bin/'),
      file(
        './usr/bin/hello',
        '#!/bin/sh\n# Prints the greeting configured in etc/hello.conf of the same root.\n. "$(dirname "$0")/../../etc/hello.conf"\necho "$GREETING"\n',
        0o755,
      ),
    ],
    sign: options.vendorKey,
  });

  await sample('netdiag.wmopkg', {
    control: control({
      Package: 'netdiag',
      Version: '0.9.1-1',
      Architecture: 'all',
      Maintainer: 'Field Support <support@example.org>',
      Section: 'net',
      Priority: 'optional',
      Depends: 'firmware (>= 5.0)',
      Description:
        'Network diagnostics helper (unsigned field build)\n Collects interface counters for a support case.',
    }),
    data: [
      dir('./usr/'),
      dir('./usr/bin/'),
      file('./usr/bin/netdiag', '#!/bin/sh\necho "netdiag: collecting interface counters"\n', 0o755),
    ],
  });

  await sample('mgmt-agent.wmopkg', {
    control: control({
      Package: 'mgmt-agent',
      Version: '2.4.1',
      Architecture: 'all',
      Maintainer: MAINTAINER,
      Section: 'admin',
      Priority: 'important',
      Depends: 'firmware (>= 5.24)',
      Description:
        'Management agent for central provisioning\n Keeps the device reachable by the management system. Install it\n persistent so that it survives a factory reset.',
    }),
    controlMembers: [{ name: 'conffiles', content: '/etc/mgmt-agent.conf\n' }],
    data: [
      dir('./etc/'),
      file('./etc/mgmt-agent.conf', 'server = mgmt.example.com\nport = 4443\n'),
      dir('./usr/'),
      dir('./usr/sbin/'),
      file(
        './usr/sbin/mgmt-agent',
        '#!/bin/sh\necho "mgmt-agent: would connect to the management server"\n',
        0o755,
      ),
    ],
    sign: options.vendorKey,
  });

  const log = (text: string) => `#!/bin/sh\necho "${text} ($PKG_NAME $PKG_VERSION, args: $*)"\n`;
  await sample('motd.wmopkg', {
    control: control({
      Package: 'motd',
      Version: '1.0.0-rev1',
      Architecture: 'all',
      Maintainer: MAINTAINER,
      Section: 'misc',
      Priority: 'optional',
      Depends: 'firmware (>= 5.20)',
      Description:
        'Site login banner\n Replaces /etc/motd of the firmware; removing the package brings the\n original back.',
    }),
    controlMembers: [
      { name: 'preinst', content: log('preinst: about to replace /etc/motd') },
      { name: 'postinst', content: log('postinst: site banner in place') },
      { name: 'prerm', content: log('prerm: site banner going') },
      { name: 'postrm', content: log('postrm: firmware banner restored') },
    ],
    data: [
      dir('./etc/'),
      file('./etc/motd', 'Authorized access only. This device is managed by Example Networks.\n'),
    ],
    sign: options.vendorKey,
  });

  await sample('thirdparty.wmopkg', {
    control: control({
      Package: 'thirdparty',
      Version: '3.1.0',
      Architecture: 'all',
      Maintainer: 'Other Vendor <packages@example.net>',
      Section: 'misc',
      Priority: 'optional',
      Description:
        'Third-party monitoring plugin\n Signed by its own vendor, whose key this device does not trust.',
    }),
    data: [
      dir('./usr/'),
      dir('./usr/lib/'),
      file('./usr/lib/thirdparty-plugin.sh', '#!/bin/sh\nexit 0\n', 0o755),
    ],
    sign: options.thirdPartyKey ?? generateKeyPair('third party').secretKey,
  });

  written.push(
    ...(await createFirmwareSamples(outDir, {
      vendorKey: options.vendorKey,
      hostname: options.hostname ?? DEVICE_DEFAULTS.hostname,
      firmwareVersion: options.firmwareVersion ?? DEVICE_DEFAULTS.firmwareVersion,
      architecture: options.architecture ?? DEVICE_DEFAULTS.architectures[0],
      mtime,
    })),
  );
  await writeFileAtomic(out('token.lic'), makeUnlockToken(options.vendorKey, options.serial));
  written.push(out('token.lic'));
  return written;
}
