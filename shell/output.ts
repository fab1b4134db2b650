// Command output on its way out: the `|` filters in order, then the front-end's sink (pager on a TTY).
import type { Output } from '../contexts/env.js';
import { terminalText } from '../contexts/errors.js';
import type { LineFilter } from '../contexts/grammar.js';

/** Where filtered lines and warnings end up. */
export interface OutputSink {
  line(text: string): void;
  warn(text: string): void;
}

/**
 * Characters of output filtered between two turns of the event loop. A command prints in a loop
 * that never waits (`show log`); its lines are filtered in slices of this size, so that a signal
 * (Ctrl-C, SIGTERM, a hang-up) is handled between two slices, within milliseconds, however much
 * there is to filter.
 */
const SLICE_CHARS = 64 * 1024;

/**
 * Runs each line through the filters; `end` flushes what filters hold back (`count`). Control
 * characters in what a command prints (text from the device or a server) are escaped on the way.
 * Without filters a line goes straight to the sink. With filters, lines wait in a queue that is
 * filtered a slice at a time; once `signal` is aborted, what waits is dropped.
 */
export class FilteredOutput implements Output {
  private ended = false;
  private readonly queue: string[] = [];
  private next = 0;
  private draining: Promise<void> | undefined;

  constructor(
    private readonly filters: readonly LineFilter[],
    private readonly sink: OutputSink,
    private readonly signal?: AbortSignal,
  ) {}

  line(text = ''): void {
    if (this.ended) return;
    for (const l of text.split('\n')) {
      if (this.filters.length === 0) this.sink.line(terminalText(l));
      else this.queue.push(l);
    }
    if (this.next < this.queue.length) this.draining ??= this.drain();
  }

  warn(text: string): void {
    this.sink.warn(`Warning: ${terminalText(text.replace(/\s*\n\s*/g, ' '))}`);
  }

  /** Resolves once every line given so far has been filtered and passed on (before a question). */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  /**
   * Filters what is left, then flushes every filter, in order; later lines are dropped. Rejects
   * with the abort's reason when `signal` was aborted before everything was passed on.
   */
  async end(): Promise<void> {
    if (this.ended) return;
    await this.flush();
    this.ended = true;
    if (this.signal?.aborted) throw this.signal.reason;
    for (let i = 0; i < this.filters.length; i++) {
      for (const l of this.filters[i]!.end()) this.pass(l, i + 1);
    }
  }

  private async drain(): Promise<void> {
    // Not a line before `draining` is set: the lines of the running turn are filtered together.
    await null;
    try {
      let chars = 0;
      while (this.next < this.queue.length) {
        if (this.signal?.aborted) break;
        const text = this.queue[this.next]!;
        this.queue[this.next++] = '';
        this.pass(terminalText(text), 0);
        chars += text.length + 1;
        if (chars >= SLICE_CHARS) {
          chars = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      this.queue.length = 0;
      this.next = 0;
      this.draining = undefined;
    }
  }

  private pass(text: string, from: number): void {
    if (from === this.filters.length) {
      this.sink.line(text);
      return;
    }
    for (const l of this.filters[from]!.line(text)) this.pass(l, from + 1);
  }
}

/**
 * The output of a command whose document is printed (`| json`): what it prints besides (the plan
 * before a question, say) goes to stderr as it is, so that stdout holds the document alone; its
 * warnings go to stderr as always.
 */
export function asideOutput(sink: OutputSink, main: Output): Output {
  return {
    line: (text = '') => {
      for (const l of text.split('\n')) sink.warn(terminalText(l));
    },
    warn: (text) => main.warn(text),
  };
}
