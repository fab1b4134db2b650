// A streaming reader of Debian control text (`Packages`, `Release`): stanzas out, bounded memory.
import { isUtf8 } from 'node:buffer';
import { ControlFile, printable } from '../format/index.js';
import { FeedError } from './errors.js';

/** Limits that stop a hostile index early. */
export interface StanzaLimits {
  /** One line, in bytes (Debian's longest real lines are `Provides` of some -dev packages, ~100 KiB). */
  readonly maxLineBytes: number;
  /** One stanza, in bytes. */
  readonly maxStanzaBytes: number;
  /** The whole text, in bytes. */
  readonly maxTotalBytes: number;
}

/** Defaults: 256 KiB a line, 1 MiB a stanza, 64 MiB in all (a 10,000-package index is about 10 MiB). */
export const DEFAULT_STANZA_LIMITS: StanzaLimits = {
  maxLineBytes: 256 * 1024,
  maxStanzaBytes: 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
};

/**
 * One paragraph as read: its text, and where each field starts and ends in it. Values are cut
 * out only when asked for, so that an index of 10,000 stanzas costs little more than its text.
 */
export class Stanza {
  private built: ControlFile | undefined;

  constructor(
    /** The stanza's text, without the blank line that ends it. */
    readonly text: string,
    /** The line it starts on (for messages). */
    readonly line: number,
    /** Field names as written. */
    private readonly names: readonly string[],
    /** The same in lower case, for lookups. */
    private readonly keys: readonly string[],
    /** Per field: offset of the value's first character after `:`, of its first line's end, of its end. */
    private readonly spans: readonly number[],
  ) {}

  /** The value of a field, whatever its case (first line trimmed, continuation lines as given). */
  get(name: string): string | undefined {
    const i = this.keys.indexOf(lowerCase(name));
    return i < 0 ? undefined : this.value(i);
  }

  /** Every field, in order, as a control file. */
  get control(): ControlFile {
    this.built ??= new ControlFile(this.names.map((name, i) => [name, this.value(i)] as const));
    return this.built;
  }

  private value(i: number): string {
    const [start, firstEnd, end] = [this.spans[3 * i]!, this.spans[3 * i + 1]!, this.spans[3 * i + 2]!];
    return this.text.slice(start, firstEnd).trim() + this.text.slice(firstEnd, end);
  }
}

/** Field names in lower case, each computed once: a 10,000-stanza index asks for the same dozen names. */
const LOWER = new Map<string, string>();

function lowerCase(name: string): string {
  let lower = LOWER.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (LOWER.size < 256) LOWER.set(name, lower);
  }
  return lower;
}

const FIELD_NAME = /^[A-Za-z0-9][!-9;-~]*$/;
const BAD_CHARACTER_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const NEWLINE = 0x0a;

/**
 * Splits control text pushed in chunks into stanzas. Strict like dpkg: UTF-8, LF line ends, no
 * control characters but tab, `Field: value` lines with continuation lines starting with a blank,
 * no field twice in a stanza; any violation is a `FEED_BAD_INDEX` naming the line, an oversized
 * line or stanza a `FEED_TOO_LARGE`. Only the current line and stanza are held besides the
 * stanzas returned, and each line is looked at once.
 */
export class StanzaReader {
  private readonly limits: StanzaLimits;
  private carry: Buffer = Buffer.alloc(0);
  private total = 0;
  /** Line number of the last line handled. */
  private lineNumber = 0;
  /** Text of the stanza being read that came in earlier chunks (complete lines, joined by LF). */
  private pending = '';
  /** Where the stanza being read starts in the current chunk's text (-1: none yet). */
  private start = -1;
  private text = '';
  /** Where the last line taken into the stanza ends in the current chunk's text. */
  private lastEnd = 0;
  private pendingLine = 0;
  private names: string[] = [];
  private spans: number[] = [];
  private keys: string[] = [];

  constructor(
    /** How messages name the text: `Packages`, `Release`. */
    private readonly what: string,
    limits: Partial<StanzaLimits> = {},
  ) {
    this.limits = { ...DEFAULT_STANZA_LIMITS, ...limits };
  }

  /** Pushes the next chunk; returns the stanzas it completed. */
  push(chunk: Uint8Array): Stanza[] {
    this.total += chunk.length;
    if (this.total > this.limits.maxTotalBytes) {
      throw new FeedError('FEED_TOO_LARGE', `${this.what}: larger than ${this.limits.maxTotalBytes} bytes`);
    }
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const data = this.carry.length === 0 ? view : Buffer.concat([this.carry, view]);
    const last = data.lastIndexOf(NEWLINE);
    const out: Stanza[] = [];
    if (last >= 0) this.lines(data.subarray(0, last), out);
    // A copy: the caller may reuse its chunk, and the rest must not pin a large buffer.
    this.carry = Buffer.from(data.subarray(last + 1));
    if (this.carry.length > this.limits.maxLineBytes) this.lineTooLong(this.lineNumber + 1);
    return out;
  }

  /** Ends the input; returns the last stanza, if any. */
  end(): Stanza[] {
    const out: Stanza[] = [];
    if (this.carry.length > 0) {
      // A last line without its LF is accepted, as dpkg does.
      const rest = this.carry;
      this.carry = Buffer.alloc(0);
      this.lines(rest, out);
    }
    this.finish(out);
    return out;
  }

  private lineTooLong(line: number): never {
    throw new FeedError(
      'FEED_TOO_LARGE',
      `${this.what} line ${line}: line longer than ${this.limits.maxLineBytes} bytes`,
    );
  }

  /** Handles complete lines: `region` holds them without the LF after the last one. */
  private lines(region: Buffer, out: Stanza[]): void {
    if (!isUtf8(region)) {
      throw new FeedError('FEED_BAD_INDEX', `${this.what} near line ${this.lineNumber + 1}: not valid UTF-8`);
    }
    const text = region.toString('utf8');
    const bad = BAD_CHARACTER_IN_TEXT.exec(text);
    if (bad) {
      const line = this.lineNumber + 1 + countLines(text, bad.index);
      throw new FeedError(
        'FEED_BAD_INDEX',
        `${this.what} line ${line}: ${bad[0] === '\r' ? 'carriage return (use LF line ends)' : 'control character'}`,
      );
    }
    this.text = text;
    this.start = -1;
    let position = 0;
    for (;;) {
      const newline = text.indexOf('\n', position);
      const end = newline < 0 ? text.length : newline;
      this.line(text, position, end, out);
      if (newline < 0) break;
      position = newline + 1;
    }
    // The stanza goes on in the next chunk: keep its part of this one.
    if (this.start >= 0) this.pending = this.joined(this.lastEnd);
    this.start = -1;
    this.text = '';
  }

  /** The stanza's text so far, up to `end` in the current chunk's text. */
  private joined(end: number): string {
    if (this.start < 0) return this.pending;
    const here = this.text.slice(this.start, end);
    return this.pending.length === 0 ? here : `${this.pending}\n${here}`;
  }

  /** Where an offset of the current chunk's text is in the stanza's text. */
  private offsetOf(index: number): number {
    return this.pending.length === 0 ? index - this.start : this.pending.length + 1 + (index - this.start);
  }

  private line(text: string, start: number, end: number, out: Stanza[]): void {
    const number = ++this.lineNumber;
    const bad = (why: string): never => {
      throw new FeedError('FEED_BAD_INDEX', `${this.what} line ${number}: ${why}`);
    };
    const length = end - start;
    if (
      length > this.limits.maxLineBytes &&
      Buffer.byteLength(text.slice(start, end)) > this.limits.maxLineBytes
    ) {
      this.lineTooLong(number);
    }
    const first = text.charCodeAt(start);
    const continuation = first === 0x20 || first === 0x09;
    if (length === 0 || (continuation && text.slice(start, end).trim() === '')) {
      this.finish(out);
      return;
    }
    if (continuation) {
      if (this.names.length === 0) bad('continuation line before any field');
      this.grow(start, end);
      this.spans[this.spans.length - 1] = this.offsetOf(end);
      return;
    }
    const colon = text.indexOf(':', start);
    if (colon < 0 || colon >= end || colon === start) {
      bad(`expected "Field: value", got "${printable(text.slice(start, end))}"`);
    }
    const name = text.slice(start, colon);
    if (!FIELD_NAME.test(name)) bad(`bad field name "${printable(name)}"`);
    const key = name.toLowerCase();
    if (this.keys.includes(key)) bad(`field ${name} given twice in one stanza`);
    this.keys.push(key);
    if (this.names.length === 0) this.pendingLine = number;
    this.grow(start, end);
    this.names.push(name);
    this.spans.push(this.offsetOf(colon + 1), this.offsetOf(end), this.offsetOf(end));
  }

  /** Takes the line from `start` to `end` into the stanza, within its size limit. */
  private grow(start: number, end: number): void {
    if (this.start < 0) this.start = start;
    this.lastEnd = end;
    const size = this.offsetOf(end);
    if (
      size > this.limits.maxStanzaBytes &&
      Buffer.byteLength(this.joined(end)) > this.limits.maxStanzaBytes
    ) {
      const text = this.joined(end);
      const package_ = this.keys.indexOf('package');
      const name =
        package_ < 0
          ? undefined
          : text.slice(this.spans[3 * package_]!, this.spans[3 * package_ + 1]!).trim();
      throw new FeedError(
        'FEED_TOO_LARGE',
        `${this.what} line ${this.pendingLine}: stanza${name === undefined ? '' : ` of ${printable(name)}`} larger than ${this.limits.maxStanzaBytes} bytes`,
      );
    }
  }

  private finish(out: Stanza[]): void {
    if (this.names.length > 0) {
      out.push(new Stanza(this.joined(this.lastEnd), this.pendingLine, this.names, this.keys, this.spans));
    }
    this.pending = '';
    this.start = -1;
    this.names = [];
    this.spans = [];
    this.keys = [];
  }
}

function countLines(text: string, until: number): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < until; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
