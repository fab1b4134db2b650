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
 * Runs each line through the filters; `end` flushes what filters hold back (`count`). Control
 * characters in what a command prints (text from the device or a server) are escaped on the way.
 */
export class FilteredOutput implements Output {
  private ended = false;

  constructor(
    private readonly filters: readonly LineFilter[],
    private readonly sink: OutputSink,
  ) {}

  line(text = ''): void {
    if (this.ended) return;
    for (const l of text.split('\n')) this.pass(terminalText(l), 0);
  }

  warn(text: string): void {
    this.sink.warn(`Warning: ${terminalText(text.replace(/\s*\n\s*/g, ' '))}`);
  }

  /** Flushes every filter, in order; later lines are dropped. */
  end(): void {
    if (this.ended) return;
    for (let i = 0; i < this.filters.length; i++) {
      for (const l of this.filters[i]!.end()) this.pass(l, i + 1);
    }
    this.ended = true;
  }

  private pass(text: string, from: number): void {
    if (from === this.filters.length) {
      this.sink.line(text);
      return;
    }
    for (const l of this.filters[from]!.line(text)) this.pass(l, from + 1);
  }
}
