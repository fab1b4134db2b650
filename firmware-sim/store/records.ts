// What the device writes about packages: the store record of an install and the record of an activation.
import { readFile } from 'node:fs/promises';
import { randomBytes } from '../../common/lazy-crypto.js';
import { isPackageName } from '../../common/package-name.js';
import { VERIFICATIONS, type Verification } from '../../common/vocabulary.js';
import type { PackageOrigin } from '../api.js';
import { DeviceError } from '../errors.js';

/** One member of the stored package, as hashed at installation. */
export interface MemberDigest {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}

/** `cfg/packages/NAME/record.json`: one installation of a package. */
export interface StoreRecord {
  readonly format: 1;
  /** Name on the device (the file name without `.wmopkg`). */
  readonly name: string;
  /** Tells installations apart (a reinstall of the same version is a new one). */
  readonly installId: string;
  /** The package file, in the package's directory. */
  readonly file: string;
  readonly version: string;
  readonly architecture: string;
  readonly description: string;
  /** Every control field, in file order. */
  readonly fields: ReadonlyArray<readonly [string, string]>;
  readonly persistent: boolean;
  readonly origin: PackageOrigin;
  readonly installedAt: string;
  readonly size: number;
  /** Member digests at installation: a later change of the stored file is tampering. */
  readonly members: readonly MemberDigest[];
  readonly verification: Verification;
  readonly reason: string;
  readonly keyNumber?: string;
  /** Written by earlier versions, which inflated the data archive at installation. */
  readonly fileCount?: number;
  /** The feed it came from (absent: installed from a file, an address or a media). */
  readonly feed?: string;
  /** Installed only as a dependency of other packages (`autoremove` may take it). */
  readonly auto?: boolean;
  /**
   * Installed by a plan with other packages: the boot activates the plan's packages together. `needs`
   * names the packages of the same plan it depends on.
   */
  readonly plan?: { readonly id: string; readonly needs: readonly string[] };
}

/** `var/lib/wmopkg/active/NAME.json`: what an activated package put into `rootfs/`. */
export interface ActiveRecord {
  readonly format: 1;
  readonly name: string;
  readonly installId: string;
  readonly version: string;
  readonly verification: Verification;
  readonly keyNumber?: string;
  readonly activatedAt: string;
  /** Everything but directories, relative to `rootfs/`, in archive order. */
  readonly files: readonly string[];
  /**
   * Regular files and links of the data archive; absent in earlier records, and directories
   * counted too in records written before the count left them out.
   */
  readonly fileCount?: number;
  /** Directories the package created (they did not exist before), parents first. */
  readonly dirs: readonly string[];
  /** Files the package overwrote; the originals wait in `backup/NAME/`. */
  readonly diverted: readonly string[];
  /** Scripts needed to take the package out again, base64 (the package file may be gone by then). */
  readonly scripts: { readonly prerm?: string; readonly postrm?: string };
  /** The store record it came from, so that `details` still works once the package is removed. */
  readonly record: StoreRecord;
}

/** A new installation id: time-ordered, unique. */
export function newInstallId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Formats a record as JSON text: one top-level field per line, so that an operator can read it. */
export function formatRecord(record: StoreRecord | ActiveRecord): string {
  const lines = Object.entries(record).map(
    ([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`,
  );
  return `{\n${lines.join(',\n')}\n}\n`;
}

function check(path: string, ok: boolean, what: string): void {
  if (!ok) throw new DeviceError('DEVICE_CORRUPT_STATE', `${path}: ${what}`);
}

function parseJson(text: string, path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DeviceError('DEVICE_CORRUPT_STATE', `${path}: ${(error as Error).message}`);
  }
  check(path, typeof value === 'object' && value !== null && !Array.isArray(value), 'expected a JSON object');
  return value as Record<string, unknown>;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
/** An optional count: absent, or a non-negative integer. */
const isCount = (v: unknown): boolean => v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0);

/** Parses a store record, checking every field the device relies on. */
export function parseStoreRecord(text: string, path: string): StoreRecord {
  const o = parseJson(text, path);
  check(path, o.format === 1, 'unknown record format');
  for (const key of [
    'name',
    'installId',
    'file',
    'version',
    'architecture',
    'description',
    'installedAt',
    'reason',
  ]) {
    check(path, isString(o[key]), `"${key}" must be a string`);
  }
  check(path, isPackageName(o.name as string), 'bad package name');
  check(path, /^[A-Za-z0-9_.-]+\.wmopkg$/.test(o.file as string), 'bad package file name');
  check(path, typeof o.persistent === 'boolean', '"persistent" must be true or false');
  check(path, (VERIFICATIONS as readonly unknown[]).includes(o.verification), 'bad "verification"');
  check(path, Number.isSafeInteger(o.size) && isCount(o.fileCount), 'bad sizes');
  check(path, o.keyNumber === undefined || isString(o.keyNumber), 'bad "keyNumber"');
  check(path, o.feed === undefined || isString(o.feed), 'bad "feed"');
  check(path, o.auto === undefined || typeof o.auto === 'boolean', '"auto" must be true or false');
  const plan = o.plan as Record<string, unknown> | undefined;
  check(
    path,
    plan === undefined ||
      (typeof plan === 'object' && plan !== null && isString(plan.id) && isStringList(plan.needs)),
    'bad "plan"',
  );
  check(
    path,
    Array.isArray(o.fields) && o.fields.every((f) => isStringList(f) && f.length === 2),
    'bad "fields"',
  );
  check(
    path,
    Array.isArray(o.members) &&
      o.members.every(
        (m: Record<string, unknown>) =>
          isString(m.name) && isString(m.sha256) && Number.isSafeInteger(m.size),
      ),
    'bad "members"',
  );
  const origin = o.origin as Record<string, unknown> | undefined;
  check(
    path,
    typeof origin === 'object' &&
      origin !== null &&
      ((origin.kind === 'remote' &&
        isString(origin.proto) &&
        isString(origin.host) &&
        Number.isInteger(origin.port)) ||
        (origin.kind === 'media' && isString(origin.label))) &&
      isString(origin.path),
    'bad "origin"',
  );
  return o as unknown as StoreRecord;
}

/** Parses an activation record. */
export function parseActiveRecord(text: string, path: string): ActiveRecord {
  const o = parseJson(text, path);
  check(path, o.format === 1, 'unknown record format');
  for (const key of ['name', 'installId', 'version', 'activatedAt'])
    check(path, isString(o[key]), `"${key}" must be a string`);
  check(path, isPackageName(o.name as string), 'bad package name');
  check(path, (VERIFICATIONS as readonly unknown[]).includes(o.verification), 'bad "verification"');
  for (const key of ['files', 'dirs', 'diverted'])
    check(path, isStringList(o[key]), `"${key}" must be a list of paths`);
  check(path, isCount(o.fileCount), 'bad "fileCount"');
  const scripts = o.scripts as Record<string, unknown> | undefined;
  check(
    path,
    typeof scripts === 'object' &&
      scripts !== null &&
      [scripts.prerm, scripts.postrm].every((s) => s === undefined || isString(s)),
    'bad "scripts"',
  );
  parseStoreRecord(JSON.stringify(o.record), `${path} (record)`);
  return o as unknown as ActiveRecord;
}

/** Reads and parses an activation record. */
export async function readActiveRecord(path: string): Promise<ActiveRecord> {
  return parseActiveRecord(await readFile(path, 'utf8'), path);
}
