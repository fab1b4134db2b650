// The firmware lifecycle's samples on the stick: the next firmware, a hotfix for this one, removal packages.
import { join } from 'node:path';
import {
  type DataEntry,
  type PackageSpec,
  parseVersion,
  removalPackageSpec,
  type SecretKey,
  writePackage,
} from '../format/index.js';
import { baseFirmwareFiles } from './base-firmware.js';

/** What the firmware samples are made for. */
export interface FirmwareSampleOptions {
  readonly vendorKey: SecretKey;
  readonly hostname: string;
  /** The firmware the device runs: the hotfix is made for it, the firmware package is the next one. */
  readonly firmwareVersion: string;
  readonly architecture: string;
  readonly mtime: number;
}

const MAINTAINER = 'Example Networks Firmware Team <firmware@example.com>';

/** The next minor release: `5.26.0` → `5.27.0` (a version without a numeric minor part gets `.1`). */
export function nextFirmwareVersion(version: string): string {
  const { upstream } = parseVersion(version);
  const parts = upstream.split('.');
  if (parts.length >= 2 && /^[0-9]+$/.test(parts[1]!)) {
    return [parts[0], String(Number(parts[1]) + 1), ...parts.slice(2).map(() => '0')].join('.');
  }
  return `${upstream}.1`;
}

/** File names of the firmware samples for a device running `firmwareVersion`. */
export function firmwareSampleNames(firmwareVersion: string): {
  firmware: string;
  hotfix: string;
  removal: string;
  removalBackup: string;
} {
  return {
    firmware: `firmware-${nextFirmwareVersion(firmwareVersion)}.wmopkg`,
    hotfix: 'fix-1.wmopkg',
    removal: 'hello-remove.wmopkg',
    removalBackup: 'mgmt-agent-remove-backup.wmopkg',
  };
}

const dir = (name: string): DataEntry => ({ name, type: 'directory', mode: 0o755 });
const file = (name: string, content: string, mode = 0o644): DataEntry => ({
  name,
  type: 'file',
  mode,
  content,
});

/** Writes the firmware samples into `outDir`; returns the paths written. */
export async function createFirmwareSamples(
  outDir: string,
  options: FirmwareSampleOptions,
): Promise<string[]> {
  const names = firmwareSampleNames(options.firmwareVersion);
  const next = nextFirmwareVersion(options.firmwareVersion);
  const written: string[] = [];
  const write = async (name: string, spec: Omit<PackageSpec, 'mtime' | 'sign'>) => {
    const path = join(outDir, name);
    await writePackage({ ...spec, mtime: options.mtime, sign: options.vendorKey }, path);
    written.push(path);
  };
  const base = baseFirmwareFiles(options.hostname, next);
  await write(names.firmware, {
    control: [
      ['Package', 'firmware'],
      ['Version', next],
      ['Architecture', options.architecture],
      ['Maintainer', MAINTAINER],
      ['Section', 'firmware'],
      ['Priority', 'required'],
      ['Tags', 'firmware'],
      ['Depends', `firmware (>= ${options.firmwareVersion})`],
      [
        'Description',
        `Example Networks firmware ${next}\n The whole firmware of the device. Installed like any package, it is written\n into the other firmware slot at the next reboot and switched to; the firmware\n that runs now stays in its slot as the fallback.`,
      ],
    ],
    controlMembers: [
      {
        name: 'postinst',
        content: `#!/bin/sh\necho "firmware ${next}: configured in the new slot (was $2)"\n`,
        mode: 0o755,
      },
    ],
    data: [
      dir('./etc/'),
      ...Object.entries(base).map(([path, content]) => file(`./${path}`, content)),
      dir('./usr/'),
      dir('./usr/share/'),
      dir('./usr/share/doc/'),
      dir('./usr/share/doc/firmware/'),
      file('./usr/share/doc/firmware/NEWS', `Firmware ${next}\n- the fix of fix-1 is part of this release\n`),
    ],
  });
  await write(names.hotfix, {
    control: [
      ['Package', 'fix-1'],
      ['Version', `${options.firmwareVersion}-1`],
      ['Architecture', 'all'],
      ['Maintainer', MAINTAINER],
      ['Section', 'firmware'],
      ['Tags', 'hotfix'],
      ['Depends', `firmware (= ${options.firmwareVersion})`],
      [
        'Description',
        `Hotfix 1 for firmware ${options.firmwareVersion}\n Bound to firmware ${options.firmwareVersion}: removed when the firmware changes.`,
      ],
    ],
    data: [
      dir('./etc/'),
      dir('./etc/hotfix.d/'),
      file('./etc/hotfix.d/fix-1', `fix-1 for firmware ${options.firmwareVersion}\n`),
    ],
  });
  for (const [target, backup] of [
    ['hello', false],
    ['mgmt-agent', true],
  ] as const) {
    await write(
      backup ? names.removalBackup : names.removal,
      removalPackageSpec(target, { backup, mtime: options.mtime, maintainer: MAINTAINER }),
    );
  }
  return written;
}
