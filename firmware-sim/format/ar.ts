// A push parser for the `ar` container: splits the byte stream into members without copying content.
import { FormatError } from './errors.js';

/** The global header of an ar archive. */
export const AR_MAGIC = Buffer.from('!<arch>\n', 'latin1');
const HEADER_LEN = 60;
const FMAG = '`\n';
/** ar's size field is 10 decimal digits: up to 9,999,999,999 bytes, beyond 32 bits. */
const SIZE = /^[0-9]{1,10} *$/;

/** A member header as read from the archive. */
export interface ArHeader {
  readonly name: string;
  readonly size: number;
  /** Offset of the header in the archive. */
  readonly offset: number;
  /** Offset of the first content byte. */
  readonly dataOffset: number;
}

/** Receives the members of an archive in order; may return promises for backpressure. */
export interface ArHandler {
  begin(header: ArHeader): void | Promise<void>;
  data(chunk: Buffer): void | Promise<void>;
  end(header: ArHeader): void | Promise<void>;
  /** Whether no further member is allowed: any byte more is trailing data. */
  complete(): boolean;
  /** Whether the archive may end here: a header that does not parse is then trailing data. */
  satisfied(): boolean;
}

/**
 * Parses an ar archive pushed in chunks. Strict like dpkg: the magic, a valid header for every member
 * (name, decimal size, the two-byte terminator), the `\n` padding after an odd-sized member, and no
 * bytes after the last member.
 */
export class ArParser {
  private offset = 0;
  private state: 'magic' | 'header' | 'data' | 'pad' = 'magic';
  private pending: Buffer = Buffer.alloc(0);
  private current: ArHeader | undefined;
  private remaining = 0;

  constructor(private readonly handler: ArHandler) {}

  /** Bytes consumed so far. */
  get position(): number {
    return this.offset;
  }

  async write(chunk: Buffer): Promise<void> {
    let rest = chunk;
    while (rest.length > 0) {
      switch (this.state) {
        case 'magic':
        case 'header': {
          const need = (this.state === 'magic' ? AR_MAGIC.length : HEADER_LEN) - this.pending.length;
          const take = rest.subarray(0, need);
          rest = rest.subarray(take.length);
          // A copy: the caller may reuse the chunk's memory once `write` returns.
          this.pending = Buffer.concat([this.pending, take]);
          if (this.state === 'header' && this.handler.complete()) this.trailing();
          if (take.length < need) return;
          const block = this.pending;
          this.pending = Buffer.alloc(0);
          if (this.state === 'magic') {
            if (!block.equals(AR_MAGIC)) {
              throw new FormatError('WMOPKG_BAD_MAGIC', 'not a .wmopkg package: bad archive magic', {
                offset: 0,
              });
            }
            this.offset += block.length;
            this.state = 'header';
          } else {
            await this.header(block);
          }
          break;
        }
        case 'data': {
          const take = rest.length > this.remaining ? rest.subarray(0, this.remaining) : rest;
          rest = rest.subarray(take.length);
          this.remaining -= take.length;
          this.offset += take.length;
          await this.handler.data(take);
          if (this.remaining === 0) await this.endMember();
          break;
        }
        case 'pad': {
          if (rest[0] !== 0x0a) {
            throw new FormatError('WMOPKG_BAD_HEADER', 'bad padding byte after an odd-sized member', {
              member: this.current!.name,
              offset: this.offset,
            });
          }
          rest = rest.subarray(1);
          this.offset += 1;
          this.state = 'header';
          break;
        }
      }
    }
  }

  /** Checks that the archive ended on a member boundary. */
  end(): void {
    if (this.state === 'magic') {
      throw new FormatError(
        this.pending.length === 0 ? 'WMOPKG_TRUNCATED' : 'WMOPKG_BAD_MAGIC',
        this.pending.length === 0 ? 'empty file' : 'not a .wmopkg package: truncated archive magic',
        { offset: 0 },
      );
    }
    if (this.state === 'header' && this.pending.length > 0) {
      if (this.handler.satisfied()) this.trailing();
      throw new FormatError('WMOPKG_TRUNCATED', 'truncated in a member header', { offset: this.offset });
    }
    if (this.state === 'data' || this.state === 'pad') {
      const header = this.current!;
      const got = this.offset - header.dataOffset;
      throw new FormatError(
        'WMOPKG_TRUNCATED',
        this.state === 'pad'
          ? 'truncated: missing the padding byte'
          : `truncated: member announces ${header.size} bytes, file ends after ${got}`,
        { member: header.name, offset: this.offset },
      );
    }
  }

  private trailing(): never {
    throw new FormatError('WMOPKG_TRAILING_DATA', 'trailing data after the last member', {
      offset: this.offset,
    });
  }

  private async header(block: Buffer): Promise<void> {
    const offset = this.offset;
    const text = block.toString('latin1');
    const bad = (why: string): never => {
      if (this.handler.satisfied()) this.trailing();
      throw new FormatError('WMOPKG_BAD_HEADER', `bad member header: ${why}`, { offset });
    };
    if (text.slice(58, 60) !== FMAG) bad('missing terminator');
    const rawName = text.slice(0, 16).trimEnd();
    // GNU ar ends names with '/'; BSD long names (`#1/…`) and the symbol table are not used by packages.
    const name = rawName.endsWith('/') ? rawName.slice(0, -1) : rawName;
    if (!/^[A-Za-z0-9_.+-]+$/.test(name)) bad(`bad member name "${rawName.replace(/[^ -~]/g, '?')}"`);
    const sizeField = text.slice(48, 58);
    if (!SIZE.test(sizeField)) bad(`bad size field "${sizeField.replace(/[^ -~]/g, '?').trim()}"`);
    const size = Number.parseInt(sizeField, 10);
    this.offset += HEADER_LEN;
    this.current = { name, size, offset, dataOffset: this.offset };
    this.remaining = size;
    this.state = 'data';
    await this.handler.begin(this.current);
    if (size === 0) await this.endMember();
  }

  private async endMember(): Promise<void> {
    const header = this.current!;
    this.state = header.size % 2 === 1 ? 'pad' : 'header';
    await this.handler.end(header);
  }
}

/** Formats one member header (dpkg-deb's layout: mtime, uid 0, gid 0, mode 100644). */
export function arHeader(name: string, size: number, mtime: number): Buffer {
  const field = (value: string, width: number): string => {
    if (value.length > width) throw new RangeError(`ar field "${value}" wider than ${width}`);
    return value.padEnd(width, ' ');
  };
  const text =
    field(name, 16) +
    field(String(mtime), 12) +
    field('0', 6) +
    field('0', 6) +
    field('100644', 8) +
    field(String(size), 10) +
    FMAG;
  return Buffer.from(text, 'latin1');
}
