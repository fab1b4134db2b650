// Where the rest of the device calls the updater: the hooks of install, remove, factory reset, locking and recovery.
// Light on purpose (node:fs only, the rest loaded when needed): device.ts imports it on every start.
import { access, rm } from 'node:fs/promises';
import type { Layout } from '../state/layout.js';
import { updaterPaths } from './paths.js';

/**
 * Every change under the device lock calls this first: whatever changed (a package, a request, a
 * setting, a feed, the firmware), the next `edgesh-updater` must do a full run.
 */
export async function invalidateFastPath(layout: Layout): Promise<void> {
  await rm(updaterPaths(layout).currentFile, { force: true });
}

/** Whether a crash left updater work behind (two lookups). */
export async function updaterInterrupted(layout: Layout): Promise<boolean> {
  const up = updaterPaths(layout);
  const exists = (path: string) =>
    access(path).then(
      () => true,
      () => false,
    );
  return (await exists(up.journalFile)) || (await exists(up.stagedDir));
}

/** After a crash (the caller holds the lock): finishes a committed plan, drops an uncommitted one. */
export async function recoverUpdater(layout: Layout): Promise<string[]> {
  if (!(await updaterInterrupted(layout))) return [];
  const { recoverApply } = await import('./apply.js');
  return recoverApply(layout, updaterPaths(layout));
}

/** `package install NAME` from a feed: the package becomes a request (the caller holds the lock). */
export async function recordInstalledByName(layout: Layout, name: string): Promise<void> {
  const { recordRequest } = await import('./requests.js');
  await recordRequest(updaterPaths(layout).requestsFile, name);
}

/**
 * `package remove NAME`: its recorded request goes (the caller holds the lock). Returns a line for the
 * event log when an explicit request about it stays, which the next run acts on.
 */
export async function forgetRemoved(layout: Layout, name: string): Promise<string | undefined> {
  const { dropRecordedRequest, formatRequestLine } = await import('./requests.js');
  const left = await dropRecordedRequest(updaterPaths(layout).requestsFile, name);
  return left === undefined
    ? undefined
    : `updater: the request "${formatRequestLine(left)}" stays; the next run acts on it (updater no ${left.kind} ${name} drops it)`;
}

/**
 * Factory reset (the caller holds the lock): the requests go but those recorded for packages that
 * stay (persistent ones), the settings go back to their defaults, approvals and the last run are
 * forgotten. The kept feed indexes stay (their freshness memory protects against a rollback).
 */
export async function resetUpdater(layout: Layout, kept: readonly string[]): Promise<void> {
  const up = updaterPaths(layout);
  const { readRequests, writeRequests } = await import('./requests.js');
  const stored = await readRequests(up.requestsFile).catch(() => []);
  const left = stored.filter((r) => r.source === 'package' && kept.includes(r.name));
  if (left.length > 0) await writeRequests(up.requestsFile, left);
  else await rm(up.requestsFile, { force: true });
  for (const file of [up.settingsFile, up.stateFile, up.currentFile, up.journalFile])
    await rm(file, { force: true });
  await rm(up.stagedDir, { recursive: true, force: true });
}
