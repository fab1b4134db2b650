// The error class of the media layer: a stable code for the shell, a one-line message for the operator.
import { printable } from '../common/text.js';

/** Stable codes of `MediaError`; the shell maps them to exit status and never parses messages. */
export type MediaErrorCode =
  /** A `media LABEL …` line of the boot configuration is malformed. */
  | 'MEDIA_BAD_LABEL'
  /** No label of that name is configured. */
  | 'MEDIA_UNKNOWN_LABEL'
  /** No connected drive matches the label. */
  | 'MEDIA_NO_DEVICE'
  /** The matching drive lacks the partition the label names. */
  | 'MEDIA_NO_PARTITION'
  /** The matching partition is not mounted. */
  | 'MEDIA_NOT_MOUNTED'
  /** The path is empty, absolute or holds a NUL byte. */
  | 'MEDIA_BAD_PATH'
  /** The path leaves the mount point (`..`, a symlink out). */
  | 'MEDIA_PATH_ESCAPE'
  /** The path names nothing on the media. */
  | 'MEDIA_NOT_FOUND'
  /** The path names a directory, device node, fifo or socket. */
  | 'MEDIA_NOT_A_FILE'
  /** The file is larger than the size cap. */
  | 'MEDIA_TOO_LARGE'
  /** The file changed size while it was read. */
  | 'MEDIA_CHANGED'
  /** The drive list could not be read (lsblk failed). */
  | 'MEDIA_LIST_FAILED'
  /** Reading failed (permission, I/O error, media pulled out). */
  | 'MEDIA_READ_FAILED'
  /** The transfer was aborted (Ctrl-C). */
  | 'MEDIA_ABORTED';

/** Any failure of the media layer; `message` is one line, ready to print after `Error: `. */
export class MediaError extends Error {
  readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Builds a `MediaError` whose message starts with `media LABEL: `, as every per-label message does. */
export function mediaError(
  code: MediaErrorCode,
  label: string,
  what: string,
  options?: ErrorOptions,
): MediaError {
  return new MediaError(code, `media ${printable(label)}: ${what}`, options);
}
