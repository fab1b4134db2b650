// Typed errors of the .wmopkg format: a stable code for programs, one line for operators.

/** Stable codes of format errors; tests and the shell match on these, never on message text. */
export type FormatErrorCode =
  | 'WMOPKG_BAD_MAGIC'
  | 'WMOPKG_BAD_HEADER'
  | 'WMOPKG_TRUNCATED'
  | 'WMOPKG_TRAILING_DATA'
  | 'WMOPKG_BAD_MEMBER'
  | 'WMOPKG_MEMBER_ORDER'
  | 'WMOPKG_DUPLICATE_MEMBER'
  | 'WMOPKG_MISSING_MEMBER'
  | 'WMOPKG_EMPTY_MEMBER'
  | 'WMOPKG_UNSUPPORTED_COMPRESSION'
  | 'WMOPKG_BAD_VERSION_MEMBER'
  | 'WMOPKG_CORRUPT'
  | 'WMOPKG_TOO_LARGE'
  | 'WMOPKG_BAD_CONTROL'
  | 'WMOPKG_BAD_MANIFEST'
  | 'WMOPKG_BAD_KEY'
  | 'WMOPKG_BAD_SIGNATURE'
  | 'WMOPKG_BAD_PASSPHRASE'
  | 'WMOPKG_BAD_VERSION'
  | 'WMOPKG_BAD_DEPENDS'
  | 'WMOPKG_BUILD';

/** Where in a package file an error was found. */
export interface FormatErrorPlace {
  /** Archive member, e.g. `control.tar.gz`. */
  readonly member?: string;
  /** Byte offset in the package file. */
  readonly offset?: number;
}

/** Any violation of the .wmopkg format, or a bad key, signature or control file. */
export class FormatError extends Error {
  override readonly name: string;
  readonly code: FormatErrorCode;
  readonly member: string | undefined;
  readonly offset: number | undefined;

  constructor(code: FormatErrorCode, message: string, place: FormatErrorPlace = {}) {
    super(formatPlace(message, place));
    this.name = new.target.name;
    this.code = code;
    this.member = place.member;
    this.offset = place.offset;
  }
}

function formatPlace(message: string, place: FormatErrorPlace): string {
  const where = [
    place.member === undefined ? undefined : `member ${place.member}`,
    place.offset === undefined ? undefined : `offset ${place.offset}`,
  ].filter((part) => part !== undefined);
  return where.length === 0 ? message : `${message} (${where.join(', ')})`;
}
