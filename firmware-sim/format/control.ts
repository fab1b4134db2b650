// Debian control files (`./control`): strict parsing, required fields, unknown fields kept in order.
import { isPackageName, PACKAGE_NAME_RULE } from '../../common/package-name.js';
import { shown } from '../../common/text.js';
import { FormatError } from './errors.js';
import { parseVersion } from './version.js';

/** The fields every package must have, in the order `wmopkg build` checks them. */
export const REQUIRED_FIELDS = ['Package', 'Version', 'Architecture', 'Maintainer', 'Description'] as const;

/** Longest value of one field (a hostile package may carry megabyte lines). */
export const MAX_FIELD_BYTES = 64 * 1024;

const ARCHITECTURE = /^[a-z0-9][a-z0-9_-]*$/;
const FIELD_NAME = /^[A-Za-z0-9][!-9;-~]*$/;

/** A parsed control paragraph. Field names keep their spelling; lookups ignore case. */
export class ControlFile {
  /** Every field in file order, values without the leading space, continuation lines joined by `\n`. */
  readonly fields: ReadonlyArray<readonly [string, string]>;
  private readonly index: ReadonlyMap<string, string>;

  constructor(fields: ReadonlyArray<readonly [string, string]>) {
    this.fields = fields;
    this.index = new Map(fields.map(([name, value]) => [name.toLowerCase(), value]));
  }

  /** The value of a field, whatever its case, or `undefined`. */
  get(name: string): string | undefined {
    return this.index.get(name.toLowerCase());
  }

  /** The value of a required field; throws if missing (call `validateControl` first). */
  require(name: (typeof REQUIRED_FIELDS)[number]): string {
    const value = this.get(name);
    if (value === undefined) throw new FormatError('WMOPKG_BAD_CONTROL', `control: missing field ${name}`);
    return value;
  }

  get package(): string {
    return this.require('Package');
  }
  get version(): string {
    return this.require('Version');
  }
  get architecture(): string {
    return this.require('Architecture');
  }
  /** First line of `Description`. */
  get summary(): string {
    return (this.get('Description') ?? '').split('\n', 1)[0] ?? '';
  }

  /** The paragraph as control-file text, ending with a newline. */
  toString(): string {
    return formatControl(this.fields);
  }
}

/**
 * Parses one control paragraph. Strict: UTF-8, LF line ends, no control characters but tab, no
 * duplicate fields, no second paragraph, values up to `MAX_FIELD_BYTES`. Does not check required
 * fields: see `validateControl`.
 */
export function parseControl(input: Uint8Array | string): ControlFile {
  const text = typeof input === 'string' ? input : decodeUtf8(input, 'control');
  const bad = (line: number, why: string): never => {
    throw new FormatError('WMOPKG_BAD_CONTROL', `control: line ${line}: ${why}`);
  };
  const fields: Array<[string, string]> = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let ended = false;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const number = n + 1;
    const control = /[\u0000-\u0008\u000a-\u001f\u007f]/.exec(line);
    if (control) {
      bad(number, control[0] === '\r' ? 'carriage return (use LF line ends)' : 'control character');
    }
    if (line.trim() === '') {
      if (fields.length > 0) ended = true;
      continue;
    }
    if (ended) bad(number, 'a second paragraph (one package per control file)');
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = fields.at(-1);
      if (!last) bad(number, 'continuation line before any field');
      last![1] = `${last![1]}\n${line}`;
      checkSize(last!, number, bad);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) bad(number, `expected "Field: value", got "${shown(line)}"`);
    const name = line.slice(0, colon);
    if (!FIELD_NAME.test(name)) bad(number, `bad field name "${shown(name)}"`);
    const key = name.toLowerCase();
    if (seen.has(key)) bad(number, `duplicate field ${name}`);
    seen.add(key);
    const field: [string, string] = [name, line.slice(colon + 1).trim()];
    checkSize(field, number, bad);
    fields.push(field);
  }
  if (fields.length === 0) throw new FormatError('WMOPKG_BAD_CONTROL', 'control: empty');
  return new ControlFile(fields);
}

function checkSize(field: [string, string], line: number, bad: (line: number, why: string) => never): void {
  if (Buffer.byteLength(field[1]) > MAX_FIELD_BYTES)
    bad(line, `field ${field[0]} longer than ${MAX_FIELD_BYTES} bytes`);
}

/** Checks the required fields and their syntax; throws `WMOPKG_BAD_CONTROL` naming the first problem. */
export function validateControl(control: ControlFile): void {
  for (const name of REQUIRED_FIELDS) {
    const value = control.get(name);
    if (value === undefined || value.trim() === '') {
      throw new FormatError('WMOPKG_BAD_CONTROL', `control: missing required field ${name}`);
    }
  }
  const name = control.package;
  if (!isPackageName(name)) {
    throw new FormatError(
      'WMOPKG_BAD_CONTROL',
      `control: bad Package "${shown(name)}": use ${PACKAGE_NAME_RULE}`,
    );
  }
  try {
    parseVersion(control.version);
  } catch (error) {
    throw new FormatError('WMOPKG_BAD_CONTROL', `control: ${(error as Error).message}`);
  }
  if (!ARCHITECTURE.test(control.architecture)) {
    throw new FormatError('WMOPKG_BAD_CONTROL', `control: bad Architecture "${shown(control.architecture)}"`);
  }
}

/** Formats fields as a control paragraph. */
export function formatControl(fields: ReadonlyArray<readonly [string, string]>): string {
  return fields.map(([name, value]) => `${name}: ${value}\n`).join('');
}

/** Decodes strict UTF-8; throws `WMOPKG_BAD_CONTROL` (or the given code) naming what was read. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new FormatError('WMOPKG_BAD_CONTROL', `${what}: not valid UTF-8`);
  }
}
