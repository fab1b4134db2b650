// The output side of the terminal: command lines through `--More--`, and one status line (progress) redrawn in place.

/** What the pager writes to and reads from: the terminal. */
export interface PagerIo {
  write(text: string): void;
  /** The next key typed (space, Enter, q, Ctrl-C …). */
  readKey(): Promise<string>;
}

/**
 * Pages command output on a TTY: after `length()` lines it shows `--More--` and waits for a key:
 * space = next page, Enter = next line, anything else stops the output (Ctrl-C also interrupts the
 * command). Lines written meanwhile wait, in order. It also owns the one status line under the
 * output (a progress bar, what is being tried), cleared before anything else is written.
 */
export class Pager {
  private shown = 0;
  private queue: string[] = [];
  private paging: Promise<void> | undefined;
  private quit = false;
  private statusText = '';

  constructor(
    private readonly io: PagerIo,
    /** Lines per page now (0: no paging); read at every line, so `terminal length` applies at once. */
    private readonly length: () => number,
    /** Ctrl-C at `--More--`: interrupt the running command. */
    private readonly interrupt: () => void,
  ) {}

  /** A command starts: count its lines from here, and show them again after a `q`. */
  begin(): void {
    this.shown = 0;
    this.quit = false;
  }

  /** Writes one line of command output, or queues it while `--More--` waits. */
  line(text: string): void {
    if (this.quit) return;
    if (this.paging !== undefined) {
      this.queue.push(text);
      return;
    }
    this.clearStatus();
    this.io.write(`${text}\n`);
    this.shown++;
    const length = this.length();
    if (length > 0 && this.shown >= length) this.paging = this.more();
  }

  /** Resolves once every line written so far is on the screen and the status line is gone. */
  async settle(): Promise<void> {
    while (this.paging !== undefined) await this.paging;
    this.clearStatus();
  }

  /** Whether `--More--` is waiting for a key (no status line is drawn meanwhile). */
  get waiting(): boolean {
    return this.paging !== undefined;
  }

  /** Draws `text` as the status line, replacing the one before; not while `--More--` waits. */
  status(text: string): void {
    if (this.paging !== undefined) return;
    this.statusText = text;
    this.io.write(`\r${text}\x1b[K`);
  }

  /** Erases the status line, if one is drawn. */
  clearStatus(): void {
    if (this.statusText === '') return;
    this.io.write('\r\x1b[K');
    this.statusText = '';
  }

  private async more(): Promise<void> {
    this.io.write('--More--');
    const key = await this.io.readKey();
    this.io.write('\r\x1b[K');
    if (key === ' ') this.shown = 0;
    else if (key === '\r' || key === '\n') this.shown = this.length() - 1;
    else {
      this.quit = true;
      if (key === '\x03') this.interrupt();
    }
    this.paging = undefined;
    const waiting = this.queue;
    this.queue = [];
    for (const line of waiting) this.line(line);
  }
}
