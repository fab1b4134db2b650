// Typed errors of the simulated device: a stable code for programs, one line for operators.
import { isAbsolute, relative } from 'node:path';
import { oneLine } from '../common/text.js';

/** Stable codes of device errors; the shell and tests match on these, never on message text. */
export type DeviceErrorCode =
  /** Another session holds the device lock longer than the wait allows. */
  | 'DEVICE_LOCKED'
  /** A package name that cannot name a package on the device. */
  | 'DEVICE_BAD_NAME'
  | 'DEVICE_NOT_INSTALLED'
  /** The package is structurally broken (not a .wmopkg, truncated, corrupt, bad control file). */
  | 'DEVICE_BAD_PACKAGE'
  /** Verification says `Invalid`: broken signature, tampered member, manifest of another package. */
  | 'DEVICE_INVALID_PACKAGE'
  /** The data archive breaks the unpacking rules (SPEC §4.4). */
  | 'DEVICE_UNSAFE_PACKAGE'
  /**
   * Unpacking at boot stopped at a bound of the device, not of the package: it took longer than
   * `limits.stageSeconds`, or would have left less than `limits.reserveBytes` free.
   */
  | 'DEVICE_STAGE_LIMIT'
  | 'DEVICE_ARCHITECTURE'
  | 'DEVICE_DEPENDS'
  /** An older version and the caller did not confirm the downgrade. */
  | 'DEVICE_DOWNGRADE_REFUSED'
  /** The file holds another version than the request names (`install … version V`). */
  | 'DEVICE_VERSION_MISMATCH'
  | 'DEVICE_TOO_LARGE'
  | 'DEVICE_ABORTED'
  /** The device storage is full (ENOSPC, EDQUOT). */
  | 'DEVICE_NO_SPACE'
  /** The device storage is mounted read-only (EROFS). */
  | 'DEVICE_READ_ONLY'
  /** `allow-untrusted`, or a firmware downgrade, refused by the secure-boot anchor. */
  | 'DEVICE_SECURE_BOOT'
  /**
   * A package may not act here whatever the boot configuration: a firmware not signed by the vendor
   * key, a removal package that is not trusted.
   */
  | 'DEVICE_UNTRUSTED'
  /** A firmware change refused: another one is pending, no fallback firmware, a persistent firmware. */
  | 'DEVICE_FIRMWARE'
  | 'DEVICE_BAD_TOKEN'
  /** A media label that breaks the label rule. */
  | 'DEVICE_BAD_LABEL'
  /** No media label of that name is configured. */
  | 'DEVICE_UNKNOWN_LABEL'
  /** A key or certificate given to a trust store is not one, or is there already. */
  | 'DEVICE_BAD_TRUST'
  /** No such key, known host or certificate in the trust stores. */
  | 'DEVICE_NOT_TRUSTED'
  /** A file of the state directory does not parse. */
  | 'DEVICE_CORRUPT_STATE'
  /** The directory given is not a device and cannot become one (not empty, a file, an empty name). */
  | 'DEVICE_NOT_A_DEVICE'
  /** The installed package changed while the caller was answering a question; nothing was installed. */
  | 'DEVICE_CHANGED'
  /** A feed's name or URL breaks the rules (a password in the URL, an unknown scheme). */
  | 'DEVICE_BAD_FEED'
  /** No feed of that name is configured. */
  | 'DEVICE_NO_FEED'
  /** No feed offers a package of that name (or nothing provides it). */
  | 'DEVICE_NOT_AVAILABLE'
  /** The resolver finds no plan (the message names the chain that fails), or two requests clash. */
  | 'DEVICE_UNRESOLVABLE'
  /** A downloaded package differs from its feed index (size or SHA-256): not installed. */
  | 'DEVICE_DOWNLOAD_MISMATCH'
  /** A feed failed to update (unreachable, a bad signature, expired): the updater run changes nothing. */
  | 'DEVICE_UPDATER_FEED'
  /** An updater request, delay or plan id that breaks the rules (a priority over 100, a bad version). */
  | 'DEVICE_BAD_REQUEST'
  /** Any other failure of the storage. */
  | 'DEVICE_IO';

/** Any failure of a device operation. The message is one line, says what happened and what to do. */
export class DeviceError extends Error {
  override readonly name: string;
  readonly code: DeviceErrorCode;

  constructor(code: DeviceErrorCode, message: string, options?: { cause?: unknown }) {
    super(oneLine(message), options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Turns a failure into a one-line `DeviceError`: a full disk (`DEVICE_NO_SPACE`), a read-only one
 * (`DEVICE_READ_ONLY`), any other file-system failure (`DEVICE_IO`, naming the path relative to the
 * device directory `root` when it lies inside it). Anything that is already a `DeviceError` passes
 * unchanged.
 */
export function deviceErrorOf(error: unknown, doing: string, root?: string): DeviceError {
  if (error instanceof DeviceError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new DeviceError('DEVICE_NO_SPACE', `${doing}: no space left on the device storage`, {
      cause: error,
    });
  }
  const path = (error as NodeJS.ErrnoException | undefined)?.path;
  // The device directory itself is named by `doing` already.
  const where =
    typeof path === 'string' && (root === undefined || relative(root, path) !== '')
      ? shownPath(path, root)
      : undefined;
  if (code === 'EROFS') {
    return new DeviceError(
      'DEVICE_READ_ONLY',
      `${doing}: the device storage is read-only${where === undefined ? '' : ` (${where})`}`,
      { cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  if (isFsError(error)) {
    // `EACCES: permission denied, open '/abs/path'` → `permission denied`, with the path in front.
    const what = /^E[A-Z0-9]+: ([^,]+)/.exec(message)?.[1] ?? message;
    return new DeviceError('DEVICE_IO', `${doing}: ${where === undefined ? '' : `${where}: `}${what}`, {
      cause: error,
    });
  }
  return new DeviceError('DEVICE_IO', `${doing}: ${message}`, { cause: error });
}

/**
 * A path as a message shows it: relative to the device directory when inside it, else as it is. A
 * temporary file (`.tmp-device.lock.lock.4242.9f3a`) is shown as the file it was going to be.
 */
export function shownPath(path: string, root: string | undefined): string {
  path = path.replace(/\/\.tmp-([^/]+)\.[a-z-]+\.[0-9]+\.[0-9a-f]+$/, '/$1');
  if (root === undefined) return path;
  const rel = relative(root, path);
  if (rel === '') return '.';
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** Whether an error comes from the file system (an `E…` errno code). */
export function isFsError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}
