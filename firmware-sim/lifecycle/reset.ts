// Taking packages out in bulk, journaled so that recovery completes an interrupted one: remove all, factory reset.
import { quantity } from '../state/event-log.js';
import { faultPoint } from '../state/fault.js';
import type { Layout } from '../state/layout.js';
import { heldPackages, restoreHeld } from '../store/backup.js';
import { loadRecords, storeNames } from '../store/packages.js';
import { clearJournal, removePackages, resetRuntime, writeJournal } from './recovery.js';

/** Appends lines to the event log. */
type Log = (events: readonly string[]) => Promise<void>;

/** Removes every installed package (the caller holds the lock); returns how many. */
export async function removeAllPackages(layout: Layout, log: Log): Promise<number> {
  const names = await storeNames(layout);
  if (names.length === 0) return 0;
  await writeJournal(layout, { op: 'remove-all', names });
  faultPoint('remove-all:journal');
  await removePackages(layout, names);
  await clearJournal(layout);
  await log([
    `remove all: ${quantity(names.length, 'package')} (${names.join(', ')}) (takes effect at the next boot)`,
  ]);
  return names.length;
}

/**
 * The factory reset up to its boot (the caller holds the lock and boots next): the packages that are not
 * persistent go, the packages the backup holds come back, known hosts and session state are cleared.
 */
export async function resetPackages(layout: Layout, log: Log): Promise<void> {
  const { records, damaged } = await loadRecords(layout);
  const all = [...records.values()];
  const gone = all.filter((r) => !r.persistent).map((r) => r.name);
  const kept = all.filter((r) => r.persistent).map((r) => r.name);
  // The backup comes back whole: packages a removal package took out without --backup too.
  const restore = [...(await heldPackages(layout)).keys()].sort();
  await writeJournal(layout, { op: 'factory-reset', names: gone, restore });
  faultPoint('factory-reset:journal');
  await removePackages(layout, gone);
  faultPoint('factory-reset:removed');
  for (const name of restore) await restoreHeld(layout, name);
  const feeds = await resetRuntime(layout);
  await clearJournal(layout);
  // Whether a package with a damaged record was persistent cannot be known: it stays, named.
  const unknown = [...damaged.keys()];
  await log([
    `---- factory reset: ${quantity(gone.length, 'package')} removed${gone.length ? ` (${gone.join(', ')})` : ''}, ${kept.length} persistent kept${kept.length ? ` (${kept.join(', ')})` : ''}${restore.length ? `, ${restore.length} restored from the backup (${restore.join(', ')})` : ''}${unknown.length ? `, ${unknown.length} with a damaged record kept (${unknown.join(', ')}; remove them by name)` : ''}; known hosts and session state cleared ----`,
  ]);
  if (feeds.length > 0) await log([`factory reset: feeds dropped (not persistent): ${feeds.join(', ')}`]);
  faultPoint('factory-reset:before-boot');
}
