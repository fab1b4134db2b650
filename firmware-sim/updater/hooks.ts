// Where the rest of the device calls the updater: the request hook, factory reset, and every change under the lock.
// Light on purpose (node:fs only, the rest loaded when needed): device.ts imports it on every start.
import { rm } from 'node:fs/promises';
import type { RequestRecord } from '../api.js';
import type { Layout } from '../state/layout.js';
import { updaterPaths } from './paths.js';

/**
 * Every change under the device lock calls this first: whatever changed (a package, a request, a
 * setting, a feed, the firmware), the next `edgesh-updater` must do a full run.
 */
export async function invalidateFastPath(layout: Layout): Promise<void> {
  await rm(updaterPaths(layout).currentFile, { force: true });
}

/**
 * The request hook (feeds-api.ts `onRequests`), called under the lock when the operator's `package
 * install NAME` or `package remove NAME` is committed: an install becomes a recorded request (as
 * Turris records `opkg install`), a removal drops it. Returns lines for the event log: a removed
 * package that an explicit request still asks for is installed again by the next run, and the log
 * says so.
 */
export async function recordRequests(layout: Layout, records: readonly RequestRecord[]): Promise<string[]> {
  const { dropRecordedRequest, formatRequestLine, recordRequest } = await import('./requests.js');
  const file = updaterPaths(layout).requestsFile;
  const events: string[] = [];
  for (const record of records) {
    if (record.kind === 'install') {
      if (await recordRequest(file, record.name))
        events.push(`updater: recorded request install ${record.name}`);
      continue;
    }
    const left = await dropRecordedRequest(file, record.name);
    if (left !== undefined) {
      events.push(
        `updater: the request "${formatRequestLine(left)}" stays; the next run acts on it (updater no ${left.kind} ${record.name} drops it)`,
      );
    }
  }
  return events;
}

/**
 * Factory reset (the caller holds the lock): the requests go but those recorded for packages that
 * stay (persistent ones), the settings go back to their defaults, approvals and the last run are
 * forgotten.
 */
export async function resetUpdater(layout: Layout, kept: readonly string[]): Promise<void> {
  const up = updaterPaths(layout);
  const { readRequests, writeRequests } = await import('./requests.js');
  const stored = await readRequests(up.requestsFile).catch(() => []);
  const left = stored.filter((r) => r.source === 'package' && kept.includes(r.name));
  if (left.length > 0) await writeRequests(up.requestsFile, left);
  else await rm(up.requestsFile, { force: true });
  for (const file of [up.settingsFile, up.stateFile, up.currentFile, up.probesFile])
    await rm(file, { force: true });
}
