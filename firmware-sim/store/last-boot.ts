// What the device knows about its running state: the last boot and the activation records.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BootReport } from '../api.js';
import { shownPath } from '../errors.js';
import type { Layout } from '../state/layout.js';
import { type ActiveRecord, parseActiveRecord } from './records.js';

/** `var/lib/wmopkg/boot.json`: the last report, and which installation each line was about. */
export interface LastBoot {
  readonly report: BootReport;
  readonly installIds: Readonly<Record<string, string>>;
  /**
   * Whether that boot activated untrusted packages (`allow-untrusted` in force): a change since then
   * is a reboot pending. Absent in files of earlier versions.
   */
  readonly allowUntrusted?: boolean;
}

/** Reads the last boot, if the device ever booted. */
export async function readLastBoot(layout: Layout): Promise<LastBoot | undefined> {
  try {
    return JSON.parse(await readFile(layout.lastBootFile, 'utf8')) as LastBoot;
  } catch {
    return undefined;
  }
}

/** Active records by name; one that does not parse stops the boot (it says which file). */
export async function loadActive(layout: Layout): Promise<Map<string, ActiveRecord>> {
  const names = (await readdir(layout.activeDir).catch(() => [] as string[])).filter(
    (name) => name.endsWith('.json') && !name.startsWith('.'),
  );
  const records = await Promise.all(
    names.map(async (name) => {
      const path = join(layout.activeDir, name);
      return parseActiveRecord(await readFile(path, 'utf8'), shownPath(path, layout.root));
    }),
  );
  return new Map(records.map((record) => [record.name, record]));
}
