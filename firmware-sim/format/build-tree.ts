// `wmopkg build`: turns a directory (CONTROL/ or DEBIAN/ plus the data tree) into a package spec.
import type { Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseControl, validateControl } from './control.js';
import { FormatError } from './errors.js';
import { checkKindFields, type PackageKind } from './kinds.js';
import type { ControlMember, DataEntry, PackageSpec } from './writer.js';

/** Owner override of `-o`/`-g`: a numeric id, or `root`. */
export interface Owner {
  readonly id: number;
  readonly name: string;
}

/** Options of `wmopkg build`. */
export interface BuildTreeOptions {
  readonly owner?: Owner;
  readonly group?: Owner;
  /** `SOURCE_DATE_EPOCH`: every mtime is set to it (reproducible builds). */
  readonly sourceDateEpoch?: number;
}

/** A spec ready for `writePackage`, and the warnings to show (files owned by uid > 99, …). */
export interface BuildTree {
  readonly spec: PackageSpec;
  /** What the control file says the package is (`Tags:`). */
  readonly kind: PackageKind;
  readonly warnings: readonly string[];
}

const SCRIPTS = ['preinst', 'postinst', 'prerm', 'postrm'];

/** Resolves `-o`/`-g` values: a number, or a name from the build host's passwd/group file. */
export async function resolveOwner(value: string, kind: 'user' | 'group'): Promise<Owner> {
  if (/^[0-9]+$/.test(value)) return { id: Number(value), name: '' };
  if (value === 'root') return { id: 0, name: 'root' };
  const file = await readFile(kind === 'user' ? '/etc/passwd' : '/etc/group', 'utf8').catch(() => '');
  const line = file.split('\n').find((l) => l.split(':')[0] === value);
  if (!line) throw new FormatError('WMOPKG_BUILD', `unknown ${kind} "${value}" (use a number or root)`);
  return { id: Number(line.split(':')[2]), name: value };
}

/**
 * Reads a build directory with the sanity checks of ipkg-build: one of CONTROL/ or DEBIAN/ with a
 * valid control file (required fields, package name characters), maintainer scripts executable,
 * every conffile present in the data tree; data entries sorted by path, hard links detected, special
 * files refused. A firmware, hotfix or removal package (`Tags:`) must also have the fields of its
 * kind (format/kinds.ts); a firmware needs files, a removal package has none.
 */
export async function readBuildTree(dir: string, options: BuildTreeOptions = {}): Promise<BuildTree> {
  const fail = (why: string): never => {
    throw new FormatError('WMOPKG_BUILD', why);
  };
  const rootStat = await lstat(dir).catch(() => undefined);
  if (!rootStat?.isDirectory()) fail(`${dir}: not a directory`);
  const candidates = [];
  for (const name of ['CONTROL', 'DEBIAN']) {
    if ((await lstat(join(dir, name)).catch(() => undefined))?.isDirectory()) candidates.push(name);
  }
  if (candidates.length === 0) fail(`${dir}: no CONTROL/ or DEBIAN/ directory`);
  if (candidates.length > 1) fail(`${dir}: both CONTROL/ and DEBIAN/ exist; keep one`);
  const controlDir = candidates[0]!;
  const controlText = await readFile(join(dir, controlDir, 'control')).catch(() =>
    fail(`${controlDir}/control: missing`),
  );
  const control = parseControl(controlText);
  validateControl(control);
  const kind = checkKindFields(control);

  const controlMembers: ControlMember[] = [];
  for (const name of (await readdir(join(dir, controlDir))).sort()) {
    if (name === 'control') continue;
    const path = join(dir, controlDir, name);
    const stat = await lstat(path);
    if (!stat.isFile()) fail(`${controlDir}/${name}: not a regular file`);
    if (SCRIPTS.includes(name) && (stat.mode & 0o111) === 0) {
      fail(`${controlDir}/${name} is not executable (chmod +x it)`);
    }
    controlMembers.push({ name, content: await readFile(path), mode: stat.mode & 0o7777 });
  }

  const warnings: string[] = [];
  const data = await walkData(dir, controlDir, options, warnings);
  const conffiles = controlMembers.find((m) => m.name === 'conffiles');
  if (conffiles) {
    const files = new Set(data.filter((e) => e.type === 'file').map((e) => e.name.replace(/^\.\//, '/')));
    for (const line of Buffer.from(conffiles.content).toString('utf8').split('\n')) {
      const path = line.trim();
      if (path === '') continue;
      if (!files.has(path)) fail(`conffile ${path} is not a regular file in the package`);
    }
  }
  const files = data.filter((e) => e.type !== 'directory').length;
  if (kind === 'firmware' && files === 0)
    fail("a firmware package needs the firmware's files; the tree has none");
  if (kind === 'removal' && files > 0) {
    fail('a removal package carries no files (make one with wmopkg removal PKGNAME --sign KEY.sec)');
  }
  if (kind === 'firmware' && controlMembers.some((m) => m.name === 'prerm' || m.name === 'postrm')) {
    warnings.push('a firmware is never removed: its prerm and postrm are never run');
  }
  const mtime = options.sourceDateEpoch ?? Math.floor(Date.now() / 1000);
  return { spec: { control, controlMembers, data, mtime }, kind, warnings };
}

/** The data tree, depth first in sorted order, as tar entries relative to `./`. */
async function walkData(root: string, controlDir: string, options: BuildTreeOptions, warnings: string[]) {
  const entries: DataEntry[] = [];
  const links = new Map<string, string>();
  const visit = async (relative: string): Promise<void> => {
    const names = (await readdir(join(root, relative))).sort();
    for (const name of names) {
      if (relative === '' && name === controlDir) continue;
      const path = relative === '' ? name : `${relative}/${name}`;
      const stat = await lstat(join(root, path));
      const base = entryBase(`./${path}`, stat, options, warnings);
      if (stat.isDirectory()) {
        entries.push({ ...base, name: `./${path}/`, type: 'directory' });
        await visit(path);
      } else if (stat.isSymbolicLink()) {
        entries.push({ ...base, type: 'symlink', linkname: await readlink(join(root, path)) });
      } else if (stat.isFile()) {
        const inode = `${stat.dev}:${stat.ino}`;
        const first = stat.nlink > 1 ? links.get(inode) : undefined;
        if (first !== undefined) {
          entries.push({ ...base, type: 'link', linkname: first });
        } else {
          if (stat.nlink > 1) links.set(inode, `./${path}`);
          entries.push({ ...base, type: 'file', source: join(root, path), size: stat.size });
        }
      } else {
        throw new FormatError(
          'WMOPKG_BUILD',
          `./${path}: device nodes, FIFOs and sockets cannot be packaged`,
        );
      }
    }
  };
  await visit('');
  return entries;
}

function entryBase(name: string, stat: Stats, options: BuildTreeOptions, warnings: string[]) {
  if (options.owner === undefined && stat.uid > 99) {
    warnings.push(`${name} is owned by uid ${stat.uid}; use -o root -g root for system files`);
  }
  return {
    name,
    mode: stat.mode & 0o7777,
    uid: options.owner?.id ?? stat.uid,
    gid: options.group?.id ?? stat.gid,
    uname: options.owner?.name ?? '',
    gname: options.group?.name ?? '',
    mtime: options.sourceDateEpoch ?? Math.floor(stat.mtimeMs / 1000),
  };
}
