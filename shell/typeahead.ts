// Keys typed on the terminal go where they are meant for: the open line editor, the pager, or the next prompt.

/**
 * Sits between the terminal and everything that reads it on the TTY front-end.
 *
 * Inquirer (under vorpal) gives each prompt its own readline and closes it after the first line, and
 * a closed readline leaves the terminal in cooked mode: keys typed while a command runs were echoed
 * into its output by the terminal (`^C╒ Boot…`), and the rest of a pasted block was lost. Here:
 * - while a line editor is open (`open`), it gets the text up to the first line end; the rest waits;
 * - while a command runs (`hold`), the terminal stays in raw mode without echo, and what is typed
 *   waits for the next line editor (it then shows on its line); Ctrl-C calls `interrupt` at once
 *   and drops what was typed ahead, as a terminal flushes its input on an interrupt;
 * - the pager asks for one key (`key`).
 */
export class Typeahead {
  private held = '';
  private mode: 'line' | 'hold' | 'key' = 'hold';
  private onKey: ((key: string) => void) | undefined;
  private readonly emit: (event: string | symbol, ...args: unknown[]) => boolean;
  private closed = false;

  constructor(
    private readonly stdin: NodeJS.ReadStream,
    /** Ctrl-C typed while no line editor is open. */
    private readonly interrupt: () => void,
  ) {
    this.emit = stdin.emit.bind(stdin) as typeof this.emit;
    stdin.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
      if (event !== 'data' || this.closed) return this.emit(event, ...args);
      const chunk = args[0];
      this.take(
        typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk),
      );
      return true;
    }) as typeof stdin.emit;
  }

  /** A line editor has just opened: it gets what was typed ahead, up to the first line end. */
  open(): void {
    this.mode = 'line';
    setImmediate(() => {
      if (this.mode === 'line' && this.held !== '') {
        const text = this.held;
        this.held = '';
        this.pass(text);
      }
    });
  }

  /** The line editor has its line: from now on keys wait (raw, no echo) until the next one opens. */
  hold(): void {
    this.mode = 'hold';
    if (this.closed) return;
    this.stdin.setRawMode(true);
    this.stdin.resume();
  }

  /** The next key, for the pager (one typed ahead first). */
  key(): Promise<string> {
    this.hold();
    return new Promise((resolve) => {
      if (this.held !== '') {
        const key = this.held[0]!;
        this.held = this.held.slice(1);
        resolve(key);
        return;
      }
      this.mode = 'key';
      this.onKey = resolve;
    });
  }

  /**
   * Automation mode takes the terminal (shell/plain-tty.ts): keys pass through untouched until
   * `attach`. Returns what was typed ahead meanwhile, for the plain reader to read first.
   */
  detach(): string {
    const held = this.held;
    this.held = '';
    this.mode = 'hold';
    this.closed = true;
    return held;
  }

  /** The line editor takes the terminal back from automation mode. */
  attach(): void {
    this.closed = false;
    this.hold();
  }

  /** The session is over: the terminal goes back to cooked mode. */
  close(): void {
    this.closed = true;
    this.stdin.setRawMode(false);
    this.stdin.pause();
  }

  private take(text: string): void {
    if (this.mode === 'line') {
      if (this.held !== '') this.held += text;
      else this.pass(text);
      return;
    }
    if (this.mode === 'key') {
      const onKey = this.onKey!;
      this.onKey = undefined;
      this.mode = 'hold';
      this.held += text.slice(1);
      onKey(text[0] ?? '');
      return;
    }
    const ctrlC = text.lastIndexOf('\x03');
    if (ctrlC < 0) {
      this.held += text;
      return;
    }
    this.held = text.slice(ctrlC + 1);
    this.interrupt();
  }

  /** Hands the line editor the text up to and including the first line end; keeps the rest. */
  private pass(text: string): void {
    const m = /\r\n|\r|\n/.exec(text);
    const cut = m === null ? text.length : m.index + m[0].length;
    this.held = text.slice(cut);
    if (cut > 0) this.emit('data', Buffer.from(text.slice(0, cut)));
  }
}
