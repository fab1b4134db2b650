// The progress bar of a transfer on a TTY (bytes, rate, ETA); script mode never draws one.

import { formatBytes as bytes } from '../common/bytes.js';
import type { TransferProgress } from '../transports/types.js';

/** One line of progress, at most `width` columns: `name  [#####-----]  45%  12.0 MiB  5.1 MiB/s  ETA 0:03`. */
export function progressLine(label: string, p: TransferProgress, width: number, ascii: boolean): string {
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.bytes / seconds : 0;
  const stats = [bytes(p.bytes), `${bytes(Math.round(rate))}/s`];
  let bar = '';
  if (p.total !== undefined && p.total > 0) {
    const ratio = Math.min(1, p.bytes / p.total);
    const eta = rate > 0 ? Math.max(0, (p.total - p.bytes) / rate) : undefined;
    stats.unshift(`${Math.floor(ratio * 100)}%`.padStart(4));
    if (eta !== undefined) stats.push(`ETA ${clock(eta)}`);
    const room = width - label.length - stats.join('  ').length - 8;
    if (room >= 10) {
      const cells = Math.min(room, 30);
      const full = Math.round(ratio * cells);
      bar = ascii
        ? `[${'#'.repeat(full)}${'-'.repeat(cells - full)}]`
        : `${'█'.repeat(full)}${'░'.repeat(cells - full)}`;
    }
  }
  const line = [label, bar, ...stats].filter((s) => s !== '').join('  ');
  return line.length > width - 1 ? line.slice(0, width - 1) : line;
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
