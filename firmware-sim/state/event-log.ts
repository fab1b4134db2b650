// The package event log (`var/log/packages.log`): one line per event, appended and synced.
import { open, readFile, rename, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory } from '../../common/atomic.js';
import { oneLine } from '../../common/text.js';

/** The log is rotated to `packages.log.1` when it grows past this size. */
const LOG_ROTATE_BYTES = 1024 * 1024;

/** `2026-11-21 10:02:41` in the device's local time. */
export function logTime(date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

/** A count with its noun in the right number, as events state it: `1 package`, `3 packages`. */
export function quantity(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Longest event: text from a package or a script may hold anything, and is kept to one bounded line. */
const MAX_EVENT = 4096;

/**
 * Appends events, each on its own line with the time in front. The append is fsynced: a line that
 * was reported to the operator survives a power cut. A torn last line (a crash in the middle of the
 * write) is cut off by `repairLog` at the next start. Without the device lock, pass `rotate: false`:
 * an append (one write with O_APPEND) is safe beside another session's, a rotation is not.
 */
export async function appendEvents(
  file: string,
  events: readonly string[],
  date = new Date(),
  options: { rotate?: boolean } = {},
): Promise<void> {
  if (events.length === 0) return;
  const time = logTime(date);
  const text = events.map((event) => `${time} ${oneLine(event, MAX_EVENT)}\n`).join('');
  if (options.rotate !== false) await rotateIfLarge(file);
  const handle = await open(file, 'a', 0o644);
  try {
    await handle.write(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function rotateIfLarge(file: string): Promise<void> {
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  if (size < LOG_ROTATE_BYTES) return;
  await rename(file, `${file}.1`);
  await syncDirectory(dirname(file));
}

/** The log, oldest first (the rotated part first); a torn last line is left out. */
export async function readEvents(file: string): Promise<string[]> {
  const parts = await Promise.all([`${file}.1`, file].map((f) => readFile(f, 'utf8').catch(() => '')));
  const lines: string[] = [];
  for (const text of parts) {
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    if (complete !== '') lines.push(...complete.slice(0, -1).split('\n'));
  }
  return lines;
}

/** Cuts a torn last line left by a crash during an append. */
export async function repairLog(file: string): Promise<void> {
  let text: Buffer;
  try {
    text = await readFile(file);
  } catch {
    return;
  }
  if (text.length === 0 || text[text.length - 1] === 0x0a) return;
  await truncate(file, text.lastIndexOf(0x0a) + 1);
}
