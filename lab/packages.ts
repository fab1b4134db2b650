// Packages for the lab, the tests and the benches: built by code with the format writer, installed as from a stick.
import { createReadStream } from 'node:fs';
import { basename, join } from 'node:path';
import type { InstallResult, PackageOrigin } from '../firmware-sim/api.js';
import {
  type ControlMember,
  type DataEntry,
  type SecretKey,
  type WriteLayout,
  writePackage,
} from '../firmware-sim/format/index.js';
import type { LocalDevice } from '../firmware-sim/index.js';

/** What a test package holds; everything has a sensible default. */
export interface TestPackage {
  readonly name: string;
  readonly version?: string;
  readonly architecture?: string;
  readonly depends?: string;
  /** More control fields (`Recommends`, `Conflicts`, `Provides`, …), before `Description`. */
  readonly fields?: ReadonlyArray<readonly [string, string]>;
  readonly description?: string;
  readonly data?: readonly DataEntry[];
  readonly scripts?: Partial<Record<'preinst' | 'postinst' | 'prerm' | 'postrm', string>>;
  readonly controlMembers?: readonly ControlMember[];
  /** Signs with this key; `undefined` leaves the package unsigned. */
  readonly sign?: SecretKey;
  readonly layout?: WriteLayout;
  readonly gzipLevel?: number;
}

/** A file entry. */
export const file = (name: string, content: string | Uint8Array, mode = 0o644): DataEntry => ({
  name,
  type: 'file',
  mode,
  content,
});

/** A directory entry. */
export const dir = (name: string, mode = 0o755): DataEntry => ({ name, type: 'directory', mode });

/** Writes `spec` as `DIR/NAME.wmopkg` (or `fileName`) and returns the path. */
export async function buildPackage(
  dir: string,
  spec: TestPackage,
  fileName = `${spec.name}.wmopkg`,
): Promise<string> {
  const path = join(dir, fileName);
  const fields: Array<[string, string]> = [
    ['Package', spec.name],
    ['Version', spec.version ?? '1.0.0'],
    ['Architecture', spec.architecture ?? 'all'],
    ['Maintainer', 'Test Suite <tests@example.com>'],
  ];
  if (spec.depends !== undefined) fields.push(['Depends', spec.depends]);
  for (const [name, value] of spec.fields ?? []) fields.push([name, value]);
  fields.push(['Description', spec.description ?? `Test package ${spec.name}`]);
  const scripts = Object.entries(spec.scripts ?? {}).map(([name, content]) => ({ name, content: content! }));
  await writePackage(
    {
      control: fields,
      controlMembers: [...scripts, ...(spec.controlMembers ?? [])],
      data: spec.data ?? [
        file(`./usr/share/${spec.name}/README`, `${spec.name} ${spec.version ?? '1.0.0'}\n`),
      ],
      mtime: 1_700_000_000,
      ...(spec.sign ? { sign: spec.sign } : {}),
      ...(spec.layout ? { layout: spec.layout } : {}),
      ...(spec.gzipLevel ? { gzipLevel: spec.gzipLevel } : {}),
    },
    path,
  );
  return path;
}

/** A media origin for a file. */
export function mediaOrigin(path: string): PackageOrigin {
  return { kind: 'media', label: 'external', path: basename(path) };
}

/** Installs a package file as if from the USB stick; the name defaults to the file name. */
export function installFile(
  device: LocalDevice,
  path: string,
  options: {
    name?: string;
    persistent?: boolean;
    confirmDowngrade?: (from: string, to: string, subject?: 'firmware') => Promise<boolean>;
  } = {},
): Promise<InstallResult> {
  return device.install({
    name: options.name ?? basename(path).replace(/\.wmopkg$/, ''),
    persistent: options.persistent ?? false,
    origin: mediaOrigin(path),
    stream: createReadStream(path),
    confirmDowngrade: options.confirmDowngrade ?? (async () => false),
  });
}
