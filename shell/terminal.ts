// What the terminal (or its absence) says about drawing: UTF-8 or ASCII, width, page length.
import type { TerminalSettings } from '../contexts/env.js';

/** Columns assumed when the terminal does not say (a serial console, a pipe). */
export const DEFAULT_WIDTH = 80;
/** Page length assumed on a TTY that does not report its rows. */
export const DEFAULT_LENGTH = 24;

/**
 * Columns of a session in automation mode: tables as wide as their content, help never wrapped. Large
 * but finite, so that arithmetic on it stays exact.
 */
export const UNBOUNDED_WIDTH = Number.MAX_SAFE_INTEGER;

/**
 * Whether a session starts in automation mode: `TERM=dumb` (a terminal that cannot be drawn on) or
 * `NO_COLOR` set to anything (https://no-color.org), as automation clients ask for plain output.
 */
export function automationFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.TERM === 'dumb' || env.NO_COLOR !== undefined;
}

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
  private auto = false;

  constructor(
    private readonly tty: boolean,
    private readonly window: WindowSize,
  ) {
    this.ascii = !isUtf8Locale();
  }

  get width(): number {
    if (this.fixedWidth !== undefined) return this.fixedWidth;
    if (this.auto) return UNBOUNDED_WIDTH;
    return this.tty && this.window.columns ? this.window.columns : DEFAULT_WIDTH;
  }

  get length(): number {
    if (this.fixedLength !== undefined) return this.fixedLength;
    return this.tty && !this.auto ? Math.max(0, (this.window.rows || DEFAULT_LENGTH) - 1) : 0;
  }

  get automation(): boolean {
    return this.auto;
  }

  setAutomation(on: boolean): void {
    this.auto = on;
    this.fixedWidth = undefined;
    this.fixedLength = undefined;
    this.ascii = on || !isUtf8Locale();
  }

  setWidth(columns: number | 'auto'): void {
    this.fixedWidth = columns === 'auto' ? undefined : columns;
  }

  setLength(lines: number | 'auto'): void {
    this.fixedLength = lines === 'auto' ? undefined : lines;
  }
}

/**
 * Settings for a new session: paging only on a TTY, width from the TTY or 80, ASCII unless UTF-8; in
 * automation mode from the start when `automation` (see `automationFromEnv`).
 */
export function initialTerminal(
  tty: boolean,
  window: WindowSize = process.stdout,
  automation = false,
): TerminalSettings {
  const terminal = new SessionTerminal(tty, window);
  if (automation) terminal.setAutomation(true);
  return terminal;
}
