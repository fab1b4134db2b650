// Confinement: a path typed by the operator becomes a regular file inside the mount point, or an error.
import { realpath, stat } from 'node:fs/promises';
import { posix, sep } from 'node:path';
import { printable } from '../common/text.js';
import { MediaError, mediaError } from './errors.js';

/** A confined file: both paths have every symlink resolved. */
export interface ConfinedPath {
  /** The mount point with symlinks resolved. */
  readonly root: string;
  /** The file, inside `root`. */
  readonly path: string;
}

/** Whether `path` lies strictly below `root` (both absolute and free of symlinks). */
export function isInside(root: string, path: string): boolean {
  const prefix = root.endsWith(sep) ? root : root + sep;
  return path.startsWith(prefix) && path.length > prefix.length;
}

/**
 * Resolves `relPath` below `mountpoint`: refuses an empty or absolute path and a NUL byte
 * (`MEDIA_BAD_PATH`), a `..` that climbs out or a symlink whose target lies outside
 * (`MEDIA_PATH_ESCAPE`), a missing file (`MEDIA_NOT_FOUND`), anything but a regular file
 * (`MEDIA_NOT_A_FILE`). `a/../b` is read as `b`, as an operator means it.
 */
export async function confine(label: string, mountpoint: string, relPath: string): Promise<ConfinedPath> {
  const shown = printable(relPath);
  if (relPath === '') throw mediaError('MEDIA_BAD_PATH', label, 'no file given');
  if (relPath.includes('\0')) throw mediaError('MEDIA_BAD_PATH', label, `bad path: ${shown}`);
  if (posix.isAbsolute(relPath)) {
    throw mediaError('MEDIA_BAD_PATH', label, `path must be relative to the media root: ${shown}`);
  }
  const normal = posix.normalize(relPath);
  if (normal === '..' || normal.startsWith('../')) {
    throw mediaError('MEDIA_PATH_ESCAPE', label, `path escapes the media: ${shown}`);
  }
  let root: string;
  try {
    root = await realpath(mountpoint);
  } catch (error) {
    throw mediaError('MEDIA_NOT_MOUNTED', label, `mount point ${printable(mountpoint)} is not accessible`, {
      cause: error,
    });
  }
  let path: string;
  try {
    path = await realpath(posix.join(root, normal));
  } catch (error) {
    throw fileError(label, shown, error);
  }
  if (path === root) throw mediaError('MEDIA_NOT_A_FILE', label, `not a regular file: ${shown}`);
  if (!isInside(root, path)) throw mediaError('MEDIA_PATH_ESCAPE', label, `path escapes the media: ${shown}`);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw fileError(label, shown, error);
  }
  if (!info.isFile()) throw mediaError('MEDIA_NOT_A_FILE', label, `not a regular file: ${shown}`);
  return { root, path };
}

/** Maps a file system error on `shown` to a `MediaError` an operator understands. */
export function fileError(label: string, shown: string, error: unknown): MediaError {
  if (error instanceof MediaError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return mediaError('MEDIA_NOT_FOUND', label, `no such file: ${shown}`, { cause: error });
    case 'ELOOP':
      return mediaError('MEDIA_PATH_ESCAPE', label, `too many symbolic links: ${shown}`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return mediaError('MEDIA_READ_FAILED', label, `permission denied: ${shown}`, { cause: error });
    case 'EIO':
      return mediaError('MEDIA_READ_FAILED', label, `i/o error reading ${shown}: check the media`, {
        cause: error,
      });
    default: {
      const why = error instanceof Error ? error.message : String(error);
      return mediaError('MEDIA_READ_FAILED', label, `cannot read ${shown}: ${printable(why)}`, {
        cause: error,
      });
    }
  }
}
