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

/** Settings for a new session: paging only on a TTY, width from the TTY or 80, ASCII unless UTF-8. */
export function initialTerminal(
  tty: boolean,
  stream: { columns?: number; rows?: number } = process.stdout,
): TerminalSettings {
  return {
    length: tty ? Math.max(0, (stream.rows || DEFAULT_LENGTH) - 1) : 0,
    width: tty && stream.columns ? stream.columns : DEFAULT_WIDTH,
    ascii: !isUtf8Locale(),
  };
}
