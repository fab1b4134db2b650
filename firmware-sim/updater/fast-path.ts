// `var/lib/updater/current`: what `edgesh-updater` (bin/edgesh-updater, a POSIX shell script) checks before it starts node.
//
// A run that found nothing to do (or a plan waiting for approval) writes it: when no file of the
// device's configuration changed since, the time is before `until`, and a conditional request for the
// file that tells each feed's changes (probes.ts) answers 304, the next run would find the same, and the
// script ends there (status 0, or 2 for a waiting plan) with one line in the event log.
// That is the steady state of a fleet: one conditional request and no node start per device and run.
// Every change under the device lock deletes the file (device.ts), so the next run is a full one.
import { rm } from 'node:fs/promises';
import { writeFileAtomic } from '../../common/atomic.js';
import type { UpdaterPaths } from './paths.js';

/** A conditional request the script makes for one feed. */
export interface FeedProbe {
  readonly feed: string;
  /** The http(s) URL of the file whose change means the feed changed. */
  readonly url: string;
  readonly etag?: string;
  readonly lastModified?: string;
}

/** The first line, which the script checks. */
const CURRENT_MAGIC = 'edgesh-updater-current 1';

const ETAG = /^(?:W\/)?"[\x21\x23-\x7e]*"$/;
const HTTP_DATE = /^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$/;
const URL_TEXT = /^https?:\/\/[\x21-\x7e]+$/;

/**
 * The file's text, or `undefined` when a feed cannot be asked conditionally from a shell script
 * (no validator, or one a header could not carry as it is).
 */
export function formatCurrent(
  probes: readonly FeedProbe[],
  until: number | undefined,
  result: { readonly kind: 'nothing-to-do' | 'waiting'; readonly planId: string },
): string | undefined {
  if (!/^[0-9a-f]{12}$/.test(result.planId)) return undefined;
  const lines = [
    CURRENT_MAGIC,
    `until ${until === undefined ? 0 : Math.floor(until / 1000)}`,
    `result ${result.kind} ${result.planId}`,
  ];
  for (const probe of probes) {
    const etag = probe.etag !== undefined && ETAG.test(probe.etag) ? probe.etag : undefined;
    const date =
      probe.lastModified !== undefined && HTTP_DATE.test(probe.lastModified) ? probe.lastModified : undefined;
    if (!URL_TEXT.test(probe.url) || (etag === undefined && date === undefined)) return undefined;
    lines.push(`probe ${probe.url} ${etag ?? '-'} ${date ?? '-'}`);
  }
  return probes.length === 0 ? undefined : `${lines.join('\n')}\n`;
}

/** Writes the file (or removes it when the feeds cannot be probed). */
export async function writeCurrent(
  up: UpdaterPaths,
  probes: readonly FeedProbe[] | undefined,
  until: number | undefined,
  result: { readonly kind: 'nothing-to-do' | 'waiting'; readonly planId: string },
): Promise<void> {
  const text = probes === undefined ? undefined : formatCurrent(probes, until, result);
  if (text === undefined) await clearCurrent(up);
  else await writeFileAtomic(up.currentFile, text);
}

/** Removes the file: the next `edgesh-updater` does a full run. */
async function clearCurrent(up: UpdaterPaths): Promise<void> {
  await rm(up.currentFile, { force: true });
}
