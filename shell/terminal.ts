// What the terminal (or its absence) says about drawing: UTF-8 or ASCII, width, page length.
import type { TerminalSettings } from '../contexts/env.js';

/** Columns assumed when the terminal does not say (a serial console, a pipe). */
export const DEFAULT_WIDTH = 80;
/** Page length assumed on a TTY that does not report its rows. */
export const DEFAULT_LENGTH = 24;

/** Whether the locale is UTF-8 (`LC_ALL`, else `LC_CTYPE`, else `LANG`, as setlocale reads them). */
export function isUtf8Locale(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return /utf-?8/i.test(value);
}

/** The size a terminal reports; Node keeps `process.stdout`'s up to date as the window is resized. */
export interface WindowSize {
  readonly columns?: number;
  readonly rows?: number;
}

/**
 * The settings of one session. Width and length follow the terminal (read when a command draws, so
 * a resized window is followed) until `terminal width N` or `terminal length N` fixes them, and
 * again after `terminal … auto`.
 */
class SessionTerminal implements TerminalSettings {
  ascii: boolean;
  private fixedWidth: number | undefined;
  private fixedLength: number | undefined;

  constructor(
    private readonly tty: boolean,
    private readonly window: WindowSize,
  ) {
    this.ascii = !isUtf8Locale();
  }

  get width(): number {
    return this.fixedWidth ?? (this.tty && this.window.columns ? this.window.columns : DEFAULT_WIDTH);
  }

  get length(): number {
    return this.fixedLength ?? (this.tty ? Math.max(0, (this.window.rows || DEFAULT_LENGTH) - 1) : 0);
  }

  setWidth(columns: number | 'auto'): void {
    this.fixedWidth = columns === 'auto' ? undefined : columns;
  }

  setLength(lines: number | 'auto'): void {
    this.fixedLength = lines === 'auto' ? undefined : lines;
  }
}

/** Settings for a new session: paging only on a TTY, width from the TTY or 80, ASCII unless UTF-8. */
export function initialTerminal(tty: boolean, window: WindowSize = process.stdout): TerminalSettings {
  return new SessionTerminal(tty, window);
}
