// Failures by class (docs/automation.md): every layer's code has one, which the error line names and the exit status carries.
import type { CliErrorCode } from '../contexts/errors.js';
import { errorLine, isLayerError } from '../contexts/errors.js';
import type { DeviceErrorCode, FormatErrorCode } from '../firmware-sim/index.js';
import type { MediaErrorCode } from '../media/index.js';
import type { TransportErrorCode } from '../transports/index.js';

/**
 * What kind of failure a command had, in words a program matches: the last word of the error line
 * (`Error: … [not-found]`) and, through `EXIT_STATUS`, the exit status of `edgesh -c`/`ssh host CMD`.
 */
export type ErrorClass =
  | 'failed'
  | 'usage'
  | 'unknown-command'
  | 'not-found'
  | 'not-confirmed'
  | 'refused'
  | 'transfer'
  | 'locked'
  | 'storage'
  | 'internal'
  | 'interrupted';

/** The exit status of each class (1 for any other failure, 70 as sysexits' EX_SOFTWARE for a bug). */
export const EXIT_STATUS: Readonly<Record<ErrorClass, number>> = {
  failed: 1,
  usage: 2,
  'unknown-command': 3,
  'not-found': 4,
  'not-confirmed': 5,
  refused: 6,
  transfer: 7,
  locked: 8,
  storage: 9,
  internal: 70,
  interrupted: 130,
};

/** Every code of every layer. */
type LayerCode = CliErrorCode | DeviceErrorCode | FormatErrorCode | TransportErrorCode | MediaErrorCode;

/**
 * The class of each code. Typed over every layer's union, so that a code added to a layer does not
 * compile until its class is chosen here.
 */
const CLASS_OF: { readonly [C in LayerCode]: ErrorClass } = {
  // The line is not a valid use of a command, or of edgesh itself.
  CLI_AMBIGUOUS: 'usage',
  CLI_INCOMPLETE: 'usage',
  CLI_INVALID_VALUE: 'usage',
  CLI_UNEXPECTED: 'usage',
  CLI_SYNTAX: 'usage',
  CLI_USAGE: 'usage',
  CLI_LINE_TOO_LONG: 'usage',
  DEVICE_BAD_NAME: 'usage',
  DEVICE_BAD_LABEL: 'usage',
  DEVICE_BAD_TRUST: 'usage',
  DEVICE_BAD_FEED: 'usage',
  DEVICE_BAD_REQUEST: 'usage',
  MEDIA_BAD_LABEL: 'usage',
  MEDIA_BAD_PATH: 'usage',
  MEDIA_PATH_ESCAPE: 'usage',
  TRANSPORT_BAD_SOURCE: 'usage',
  CLI_UNKNOWN_COMMAND: 'unknown-command',
  // What the command names does not exist on the device.
  CLI_NOT_FOUND: 'not-found',
  DEVICE_NOT_INSTALLED: 'not-found',
  MEDIA_UNKNOWN_LABEL: 'not-found',
  DEVICE_UNKNOWN_LABEL: 'not-found',
  DEVICE_NOT_TRUSTED: 'not-found',
  DEVICE_NO_FEED: 'not-found',
  DEVICE_NOT_AVAILABLE: 'not-found',
  // Nothing was changed: the question was answered no, or not asked.
  CLI_NOT_CONFIRMED: 'not-confirmed',
  // Script mode asks nothing: the line must carry confirm (or the shell -y).
  CLI_NEEDS_YES: 'not-confirmed',
  DEVICE_DOWNGRADE_REFUSED: 'not-confirmed',
  // The device refused the package or token.
  DEVICE_BAD_PACKAGE: 'refused',
  DEVICE_INVALID_PACKAGE: 'refused',
  DEVICE_UNSAFE_PACKAGE: 'refused',
  DEVICE_ARCHITECTURE: 'refused',
  DEVICE_DEPENDS: 'refused',
  DEVICE_VERSION_MISMATCH: 'refused',
  DEVICE_TOO_LARGE: 'refused',
  DEVICE_SECURE_BOOT: 'refused',
  DEVICE_UNTRUSTED: 'refused',
  DEVICE_FIRMWARE: 'refused',
  DEVICE_BAD_TOKEN: 'refused',
  // No plan satisfies the feeds, or a download differs from its signed index.
  DEVICE_UNRESOLVABLE: 'refused',
  DEVICE_DOWNLOAD_MISMATCH: 'refused',
  TRANSPORT_TOO_LARGE: 'refused',
  MEDIA_TOO_LARGE: 'refused',
  WMOPKG_BAD_MAGIC: 'refused',
  WMOPKG_BAD_HEADER: 'refused',
  WMOPKG_TRUNCATED: 'refused',
  WMOPKG_TRAILING_DATA: 'refused',
  WMOPKG_BAD_MEMBER: 'refused',
  WMOPKG_MEMBER_ORDER: 'refused',
  WMOPKG_DUPLICATE_MEMBER: 'refused',
  WMOPKG_MISSING_MEMBER: 'refused',
  WMOPKG_EMPTY_MEMBER: 'refused',
  WMOPKG_UNSUPPORTED_COMPRESSION: 'refused',
  WMOPKG_BAD_VERSION_MEMBER: 'refused',
  WMOPKG_CORRUPT: 'refused',
  WMOPKG_TOO_LARGE: 'refused',
  WMOPKG_BAD_CONTROL: 'refused',
  WMOPKG_BAD_MANIFEST: 'refused',
  WMOPKG_BAD_KEY: 'refused',
  WMOPKG_BAD_SIGNATURE: 'refused',
  WMOPKG_BAD_PASSPHRASE: 'refused',
  WMOPKG_BAD_VERSION: 'refused',
  WMOPKG_BAD_DEPENDS: 'refused',
  WMOPKG_BUILD: 'refused',
  // The file could not be fetched.
  TRANSPORT_UNSUPPORTED: 'transfer',
  TRANSPORT_CONNECT: 'transfer',
  TRANSPORT_CONNECT_TIMEOUT: 'transfer',
  TRANSPORT_STALLED: 'transfer',
  TRANSPORT_AUTH: 'transfer',
  TRANSPORT_NOT_FOUND: 'transfer',
  TRANSPORT_ACCESS_DENIED: 'transfer',
  TRANSPORT_SIZE_MISMATCH: 'transfer',
  TRANSPORT_TRUNCATED: 'transfer',
  TRANSPORT_HOST_KEY_UNKNOWN: 'transfer',
  TRANSPORT_HOST_KEY_CHANGED: 'transfer',
  TRANSPORT_TLS: 'transfer',
  // A feed could not be updated (unreachable, badly signed, expired): the run changed nothing.
  DEVICE_UPDATER_FEED: 'transfer',
  TRANSPORT_REDIRECT: 'transfer',
  TRANSPORT_HTTP_STATUS: 'transfer',
  TRANSPORT_PROTOCOL: 'transfer',
  TRANSPORT_ALL_FAILED: 'transfer',
  MEDIA_NO_DEVICE: 'transfer',
  MEDIA_NO_PARTITION: 'transfer',
  MEDIA_NOT_MOUNTED: 'transfer',
  MEDIA_NOT_FOUND: 'transfer',
  MEDIA_NOT_A_FILE: 'transfer',
  MEDIA_CHANGED: 'transfer',
  MEDIA_LIST_FAILED: 'transfer',
  MEDIA_READ_FAILED: 'transfer',
  // Another session holds the device: try again.
  DEVICE_LOCKED: 'locked',
  // The device's storage.
  DEVICE_NO_SPACE: 'storage',
  DEVICE_STAGE_LIMIT: 'storage',
  DEVICE_READ_ONLY: 'storage',
  DEVICE_IO: 'storage',
  DEVICE_CORRUPT_STATE: 'storage',
  DEVICE_NOT_A_DEVICE: 'storage',
  // Stopped by Ctrl-C or a signal.
  CLI_ABORTED: 'interrupted',
  DEVICE_ABORTED: 'interrupted',
  TRANSPORT_ABORTED: 'interrupted',
  MEDIA_ABORTED: 'interrupted',
  // The installed package changed while its question was answered: nothing was installed, try again.
  DEVICE_CHANGED: 'failed',
  // Some feeds were updated, others not (each named above the error).
  CLI_PARTIAL: 'failed',
};

/** The class of a failure: its code's, `internal` for anything that is not an error of a layer (a bug). */
export function classOf(error: unknown): ErrorClass {
  if (!isLayerError(error)) return 'internal';
  return (CLASS_OF as Readonly<Record<string, ErrorClass>>)[error.code] ?? 'failed';
}

/** The exit status of a failure (`EXIT_STATUS` of its class). */
export function exitStatusOf(error: unknown): number {
  return EXIT_STATUS[classOf(error)];
}

/** The one line printed for a failure: `Error: MESSAGE [CLASS]` (no line end). */
export function failureLine(error: unknown): string {
  return `${errorLine(error)} [${classOf(error)}]`;
}
