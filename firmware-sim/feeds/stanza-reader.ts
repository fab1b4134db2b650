// A streaming reader of Debian control text (`Packages`, `Release`): stanzas out, bounded memory.
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

/** One paragraph: its fields as given, and the line it starts on (for messages). */
export interface Stanza {
  readonly control: ControlFile;
  readonly line: number;
}

const FIELD_NAME = /^[A-Za-z0-9][!-9;-~]*$/;
const BAD_CHARACTER = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const NEWLINE = 0x0a;

/**
 * Splits control text pushed in chunks into stanzas. Strict like dpkg: UTF-8, LF line ends, no
 * control characters but tab, `Field: value` lines with continuation lines starting with a blank,
 * no field twice in a stanza; any violation is a `FEED_BAD_INDEX` naming the line, an oversized
 * line or stanza a `FEED_TOO_LARGE`. Only the current line and stanza are held in memory.
 */
export class StanzaReader {
  private readonly limits: StanzaLimits;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private carry: Buffer = Buffer.alloc(0);
  private total = 0;
  private lineNumber = 0;
  private fields: Array<[string, string]> = [];
  private seen = new Set<string>();
  private stanzaBytes = 0;
  private stanzaLine = 0;

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
    const data = this.carry.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.carry, chunk]);
    const last = data.lastIndexOf(NEWLINE);
    if (last < 0) {
      this.carry = Buffer.from(data);
      this.checkCarry();
      return [];
    }
    const out: Stanza[] = [];
    this.lines(data.subarray(0, last), out);
    // A copy: the caller may reuse its chunk, and the rest must not pin a large buffer.
    this.carry = Buffer.from(data.subarray(last + 1));
    this.checkCarry();
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
    this.finishStanza(out);
    return out;
  }

  private checkCarry(): void {
    if (this.carry.length > this.limits.maxLineBytes) {
      throw new FeedError(
        'FEED_TOO_LARGE',
        `${this.what} line ${this.lineNumber + 1}: line longer than ${this.limits.maxLineBytes} bytes`,
      );
    }
  }

  /** Handles complete lines (`region` holds them without the last LF). */
  private lines(region: Buffer, out: Stanza[]): void {
    let text: string;
    try {
      text = this.decoder.decode(region);
    } catch {
      throw new FeedError('FEED_BAD_INDEX', `${this.what} near line ${this.lineNumber + 1}: not valid UTF-8`);
    }
    for (const line of text.split('\n')) this.line(line, out);
  }

  private line(line: string, out: Stanza[]): void {
    const number = ++this.lineNumber;
    const bad = (why: string): never => {
      throw new FeedError('FEED_BAD_INDEX', `${this.what} line ${number}: ${why}`);
    };
    if (line.length > this.limits.maxLineBytes && Buffer.byteLength(line) > this.limits.maxLineBytes) {
      throw new FeedError(
        'FEED_TOO_LARGE',
        `${this.what} line ${number}: line longer than ${this.limits.maxLineBytes} bytes`,
      );
    }
    const control = BAD_CHARACTER.exec(line);
    if (control) bad(control[0] === '\r' ? 'carriage return (use LF line ends)' : 'control character');
    if (line.trim() === '') {
      this.finishStanza(out);
      return;
    }
    this.stanzaBytes += line.length + 1;
    if (this.stanzaBytes > this.limits.maxStanzaBytes) {
      const name = this.fields.find(([field]) => field.toLowerCase() === 'package')?.[1];
      throw new FeedError(
        'FEED_TOO_LARGE',
        `${this.what} line ${this.stanzaLine}: stanza${name === undefined ? '' : ` of ${printable(name)}`} larger than ${this.limits.maxStanzaBytes} bytes`,
      );
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = this.fields.at(-1);
      if (!last) bad('continuation line before any field');
      last![1] = `${last![1]}\n${line}`;
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) bad(`expected "Field: value", got "${printable(line)}"`);
    const name = line.slice(0, colon);
    if (!FIELD_NAME.test(name)) bad(`bad field name "${printable(name)}"`);
    const key = name.toLowerCase();
    if (this.seen.has(key)) bad(`field ${name} given twice in one stanza`);
    if (this.fields.length === 0) this.stanzaLine = number;
    this.seen.add(key);
    this.fields.push([name, line.slice(colon + 1).trim()]);
  }

  private finishStanza(out: Stanza[]): void {
    if (this.fields.length > 0) out.push({ control: new ControlFile(this.fields), line: this.stanzaLine });
    this.fields = [];
    this.seen = new Set();
    this.stanzaBytes = 0;
  }
}
