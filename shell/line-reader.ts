// Reads stdin line by line for script mode: commands and prompt answers come from the same queue, in order.
import type { Readable } from 'node:stream';
import { CliError } from '../contexts/errors.js';

/**
 * The longest line script mode reads, in characters: a longer one is skipped as it streams past
 * (memory stays flat whatever its size) and reported as an error of its own.
 */
export const MAX_LINE = 65_536;

/** Stands in the queue for a line that was longer than MAX_LINE. */
const TOO_LONG = Symbol('line too long');

/** A stdin that may be a TTY (`ssh -t host 'package install …'`). */
export type Input = Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };

/**
 * A line reader that never drops a line: chunks are split as they come, lines wait in a queue
 * until asked for, also while a slow command runs (vorpal's UI loses them, see LIBRARIES.md).
 * On a TTY, `secret` reads one line in raw mode without echo.
 */
export class LineReader {
  private buffer = '';
  /** The line being read is longer than MAX_LINE: the rest of it is dropped up to its line end. */
  private skipping = false;
  private readonly queue: Array<string | typeof TOO_LONG> = [];
  private waiting: ((line: string | typeof TOO_LONG | undefined) => void) | undefined;
  private secret: { text: string; resolve: (line: string | undefined) => void } | undefined;
  private ended = false;
  private started = false;

  constructor(private readonly input: Input) {}

  /**
   * The next line without its line end; `undefined` at end of input. A line longer than MAX_LINE
   * rejects with `CLI_LINE_TOO_LONG`; the line after it is read by the next call.
   */
  async next(): Promise<string | undefined> {
    this.start();
    let line = this.queue.shift();
    if (line === undefined && !this.ended) {
      this.input.resume();
      line = await new Promise<string | typeof TOO_LONG | undefined>((resolve) => {
        this.waiting = resolve;
      });
    }
    if (line === TOO_LONG) {
      throw new CliError('CLI_LINE_TOO_LONG', `line longer than ${MAX_LINE} characters; skipped`);
    }
    return line;
  }

  /** Characters held for the line being read (at most MAX_LINE, whatever comes in). */
  get buffered(): number {
    return this.buffer.length;
  }

  /** The next line, typed without echo when stdin is a TTY; from a pipe simply the next line. */
  nextSecret(): Promise<string | undefined> {
    if (this.input.isTTY !== true || this.queue.length > 0) return this.next();
    this.start();
    if (this.ended) return Promise.resolve(undefined);
    this.input.setRawMode?.(true);
    this.input.resume();
    return new Promise((resolve) => {
      this.secret = { text: '', resolve };
    });
  }

  /**
   * Text received before this reader began (typed ahead on a terminal), read before what the input
   * gives next.
   */
  seed(text: string): void {
    if (text !== '') this.onData(text);
  }

  /**
   * Stops reading and hands the input back to whoever reads it next (the line editor): only this
   * reader's own listeners are removed, and the input stays open.
   */
  release(): void {
    if (!this.started) return;
    this.input.removeListener('data', this.dataListener);
    this.input.removeListener('end', this.finish);
    this.input.removeListener('error', this.finish);
    this.input.pause();
  }

  /** Stops reading (lets the process end). */
  close(): void {
    if (!this.started) return;
    this.input.removeAllListeners('data');
    this.input.pause();
    if (this.input.isTTY !== true) this.input.destroy();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.input.setEncoding('utf8');
    this.input.on('data', this.dataListener);
    this.input.on('end', this.finish);
    this.input.on('error', this.finish);
  }

  private readonly dataListener = (chunk: string): void => this.onData(chunk);

  private readonly finish = (): void => {
    if (this.ended) return;
    if (this.buffer !== '' || this.skipping) this.take('');
    this.ended = true;
    this.endSecret(undefined);
    const w = this.waiting;
    this.waiting = undefined;
    w?.(undefined);
  };

  private onData(chunk: string): void {
    let rest = chunk;
    while (this.secret !== undefined && rest !== '') {
      const c = rest[0]!;
      rest = rest.slice(1);
      if (c === '\r' || c === '\n') this.endSecret(this.secret.text);
      else if (c === '\x03' || c === '\x04') this.endSecret(undefined);
      else if (c === '\x7f' || c === '\b') this.secret.text = this.secret.text.slice(0, -1);
      else if (this.secret.text.length < MAX_LINE) this.secret.text += c;
    }
    // Only the new text is searched for line ends, and no more than MAX_LINE characters are kept.
    let from = 0;
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n', from)) {
      this.take(rest.slice(from, nl));
      from = nl + 1;
    }
    if (from < rest.length) this.append(rest.slice(from));
    // Hold the stream while nobody waits, so that lines stay in the pipe until they are asked for.
    if (this.waiting === undefined && this.secret === undefined) this.input.pause();
  }

  private endSecret(value: string | undefined): void {
    const s = this.secret;
    if (s === undefined) return;
    this.secret = undefined;
    this.input.setRawMode?.(false);
    s.resolve(value);
  }

  /** Text of the line being read, before its line end. */
  private append(text: string): void {
    if (this.skipping) return;
    if (this.buffer.length + text.length > MAX_LINE + 1) {
      this.buffer = '';
      this.skipping = true;
    } else {
      this.buffer += text;
    }
  }

  /** The end of a line: `text` is what came before the line end in the last chunk. */
  private take(text: string): void {
    this.append(text);
    const line = this.buffer.replace(/\r$/, '');
    const tooLong = this.skipping || line.length > MAX_LINE;
    this.buffer = '';
    this.skipping = false;
    this.push(tooLong ? TOO_LONG : line);
  }

  private push(line: string | typeof TOO_LONG): void {
    const w = this.waiting;
    if (w !== undefined) {
      this.waiting = undefined;
      w(line);
    } else {
      this.queue.push(line);
    }
  }
}
