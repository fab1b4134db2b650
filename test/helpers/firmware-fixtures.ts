// Firmware, hotfix and removal packages for tests, and a look at the slots of a device from outside.
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataEntry, SecretKey } from '../../firmware-sim/format/index.js';
import { removalPackageSpec, writePackage } from '../../firmware-sim/format/index.js';
import { buildPackage, dir, file } from './package-fixtures.js';

/** What a test firmware holds besides its version. */
export interface TestFirmware {
  readonly sign?: SecretKey;
  readonly architecture?: string;
  readonly depends?: string;
  readonly postinst?: string;
  readonly data?: readonly DataEntry[];
  /** The device's name for it (default `firmware-VERSION`). */
  readonly fileName?: string;
}

/** The firmware's own files: os-release names the version, so a test sees which firmware runs. */
export function firmwareFiles(version: string): DataEntry[] {
  return [
    dir('./etc/'),
    file('./etc/os-release', `VERSION="${version}"\n`),
    file('./etc/motd', `Welcome. Firmware ${version}.\n`),
    file('./etc/issue', `Example Networks firmware ${version}\n`),
    dir('./usr/'),
    dir('./usr/lib/'),
    file(`./usr/lib/firmware-${version}`, `${version}\n`),
  ];
}

/** A firmware package for `version` (arm64, `Tags: firmware`), written as `DIR/firmware-VERSION.wmopkg`. */
export function buildFirmware(root: string, version: string, spec: TestFirmware = {}): Promise<string> {
  return buildPackage(
    root,
    {
      name: 'firmware',
      version,
      architecture: spec.architecture ?? 'arm64',
      ...(spec.depends === undefined ? {} : { depends: spec.depends }),
      fields: [['Tags', 'firmware']],
      description: `Test firmware ${version}`,
      data: spec.data ?? firmwareFiles(version),
      ...(spec.postinst === undefined ? {} : { scripts: { postinst: spec.postinst } }),
      ...(spec.sign ? { sign: spec.sign } : {}),
    },
    spec.fileName ?? `firmware-${version}.wmopkg`,
  );
}

/** A hotfix for firmware `firmware` (`Tags: hotfix`, `Depends: firmware (= firmware)`). */
export function buildHotfix(root: string, name: string, firmware: string, sign: SecretKey): Promise<string> {
  return buildPackage(root, {
    name,
    version: `${firmware}-1`,
    depends: `firmware (= ${firmware})`,
    fields: [['Tags', 'hotfix']],
    data: [dir('./etc/'), dir('./etc/hotfix.d/'), file(`./etc/hotfix.d/${name}`, `${name}\n`)],
    sign,
  });
}

/** A removal package for `target` as `wmopkg removal` makes it; returns its path. */
export async function buildRemoval(
  root: string,
  target: string,
  backup: boolean,
  sign: SecretKey | undefined,
): Promise<string> {
  const spec = removalPackageSpec(target, {
    backup,
    mtime: 1_700_000_000,
    maintainer: 'Tests <t@example.com>',
  });
  const path = join(root, `${target}-remove${backup ? '-backup' : ''}.wmopkg`);
  await writePackage({ ...spec, ...(sign ? { sign } : {}) }, path);
  return path;
}

/** Which slot `firmware/current` names, and the firmware version device.json says runs. */
export async function runningFirmware(
  deviceDir: string,
): Promise<{ slot: string; version: string; link: string }> {
  const json = JSON.parse(await readFile(join(deviceDir, 'device.json'), 'utf8')) as {
    firmwareSlot?: string;
    firmwareVersion: string;
  };
  return {
    // Absent in a device.json of an earlier version: the device reads it as A.
    slot: json.firmwareSlot ?? 'A',
    version: json.firmwareVersion,
    link: await readlink(join(deviceDir, 'firmware/current')),
  };
}

/** The version the running root file system's os-release names (the factory one names it too). */
export async function rootfsVersion(deviceDir: string): Promise<string> {
  const text = await readFile(join(deviceDir, 'rootfs/etc/os-release'), 'utf8');
  return /VERSION="([^"]*)"/.exec(text)?.[1] ?? '?';
}
