// Reads stdin line by line for script mode: commands and prompt answers come from the same queue, in order.
import type { Readable } from 'node:stream';

/** A stdin that may be a TTY (`ssh -t host 'package install …'`). */
export type Input = Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };

/**
 * A line reader that never drops a line: chunks are split as they come, lines wait in a queue
 * until asked for, also while a slow command runs (vorpal's UI loses them, see LIBRARIES.md).
 * On a TTY, `secret` reads one line in raw mode without echo.
 */
export class LineReader {
  private buffer = '';
  private readonly queue: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private secret: { text: string; resolve: (line: string | undefined) => void } | undefined;
  private ended = false;
  private started = false;

  constructor(private readonly input: Input) {}

  /** The next line without its line end; `undefined` at end of input. */
  next(): Promise<string | undefined> {
    this.start();
    const line = this.queue.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(undefined);
    this.input.resume();
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
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
    this.input.on('data', (chunk: string) => this.onData(chunk));
    const finish = (): void => {
      if (this.ended) return;
      if (this.buffer !== '') this.push(this.buffer.replace(/\r$/, ''));
      this.buffer = '';
      this.ended = true;
      this.endSecret(undefined);
      const w = this.waiting;
      this.waiting = undefined;
      w?.(undefined);
    };
    this.input.on('end', finish);
    this.input.on('error', finish);
  }

  private onData(chunk: string): void {
    let rest = chunk;
    while (this.secret !== undefined && rest !== '') {
      const c = rest[0]!;
      rest = rest.slice(1);
      if (c === '\r' || c === '\n') this.endSecret(this.secret.text);
      else if (c === '\x03' || c === '\x04') this.endSecret(undefined);
      else if (c === '\x7f' || c === '\b') this.secret.text = this.secret.text.slice(0, -1);
      else this.secret.text += c;
    }
    this.buffer += rest;
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      this.push(this.buffer.slice(0, nl).replace(/\r$/, ''));
      this.buffer = this.buffer.slice(nl + 1);
      nl = this.buffer.indexOf('\n');
    }
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

  private push(line: string): void {
    const w = this.waiting;
    if (w !== undefined) {
      this.waiting = undefined;
      w(line);
    } else {
      this.queue.push(line);
    }
  }
}
