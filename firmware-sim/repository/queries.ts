// What the query commands read: feeds and their state, names for TAB, available packages, relations both ways.
import type { DependencyView, DependentView, DependsView, FeedPackageInfo, FeedStatus } from '../api.js';
import type { DeviceFile } from '../config/device-file.js';
import { readFeeds } from '../config/feeds.js';
import { DeviceError } from '../errors.js';
import {
  type FeedEntry,
  formatGroup,
  offers,
  parseRelationField,
  type RelationField,
  whatDepends,
} from '../feeds/index.js';
import { compareVersions } from '../format/index.js';
import type { Layout } from '../state/layout.js';
import { loadCatalog, packageInfo } from './catalog.js';
import { loadInstalled, withFirmware } from './installed.js';
import { type KeptState, keptNames, readKept } from './kept.js';

/** `show feeds`: each configured feed with the state of its kept index. */
export async function feedStatuses(layout: Layout): Promise<FeedStatus[]> {
  const { feeds } = await readFeeds(layout.feedsFile);
  const now = Date.now();
  return Promise.all(
    feeds.map(async (feed): Promise<FeedStatus> => {
      const kept = await readKept(layout, feed.name, feed.url).catch(
        (error: Error): KeptState => ({
          format: 1 as const,
          url: feed.url,
          failure: { at: new Date().toISOString(), code: 'DEVICE_CORRUPT_STATE', message: error.message },
        }),
      );
      const index = kept?.index;
      const fresh = index?.freshness;
      return {
        ...feed,
        ...(index === undefined
          ? {}
          : {
              updatedAt: index.updatedAt,
              packages: index.packages,
              skipped: index.skipped.length,
              freshness: index.freshness,
              keyNumber: index.keyNumber,
              expired: fresh?.state === 'protected' && Date.parse(fresh.validUntil) < now,
            }),
        ...(kept?.failure === undefined ? {} : { failure: kept.failure }),
      };
    }),
  );
}

/** Package names of every kept index, sorted, each once: one small file per feed. */
export async function feedNames(layout: Layout): Promise<string[]> {
  const { feeds } = await readFeeds(layout.feedsFile);
  const names = new Set<string>();
  for (const feed of feeds) {
    const kept = await readKept(layout, feed.name, feed.url).catch(() => undefined);
    for (const name of await keptNames(layout, feed.name, kept)) names.add(name);
  }
  return [...names].sort();
}

/** The newest version of each feed package, optionally only the named ones or those whose name or description holds `text`. */
export async function availablePackages(
  layout: Layout,
  query: { readonly names?: readonly string[]; readonly text?: string } = {},
): Promise<FeedPackageInfo[]> {
  const text = query.text?.toLowerCase();
  const { universe } = await loadCatalog(layout);
  const out: FeedPackageInfo[] = [];
  const names = query.names ?? [...universe.names()];
  for (const name of names) {
    const newest = newestOf(universe.versionsOf(name));
    if (newest === undefined) continue;
    if (text !== undefined) {
      const description = (newest.package.control.get('Description') ?? '').toLowerCase();
      if (!name.includes(text) && !description.includes(text)) continue;
    }
    out.push(packageInfo(newest));
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Every version of a feed package, newest first, each with every field of its stanza. */
export async function availableDetails(
  layout: Layout,
  name: string,
): Promise<Array<FeedPackageInfo & { readonly fields: ReadonlyArray<readonly [string, string]> }>> {
  const { universe } = await loadCatalog(layout);
  const versions = [...universe.versionsOf(name)].sort((a, b) =>
    compareVersions(b.package.version, a.package.version),
  );
  if (versions.length === 0) throw notAvailable(name);
  return versions.map((entry) => ({ ...packageInfo(entry), fields: entry.package.control.fields }));
}

const RELATION_FIELDS: readonly RelationField[] = [
  'Pre-Depends',
  'Depends',
  'Recommends',
  'Conflicts',
  'Breaks',
  'Provides',
  'Replaces',
];

/** `show depends`: the installed package, else the newest in the feeds, and what meets each of its relations. */
export async function dependsOf(layout: Layout, device: DeviceFile, name: string): Promise<DependsView> {
  const installed = await loadInstalled(layout);
  const present = withFirmware(installed.packages, device.firmwareVersion);
  const record = installed.records.get(name);
  let catalog: Awaited<ReturnType<typeof loadCatalog>> | undefined;
  const universe = async () => {
    catalog ??= await loadCatalog(layout);
    return catalog.universe;
  };
  let fields: ReadonlyArray<readonly [string, string]>;
  let version: string;
  if (record !== undefined) {
    fields = record.fields;
    version = record.version;
  } else {
    const newest = newestOf((await universe()).versionsOf(name));
    if (newest === undefined) throw notAvailable(name);
    fields = newest.package.control.fields;
    version = newest.package.version;
  }
  const relations: DependencyView[] = [];
  for (const field of RELATION_FIELDS) {
    const value = fields.find(([k]) => k.toLowerCase() === field.toLowerCase())?.[1];
    if (value === undefined) continue;
    for (const group of parseRelationField(field, value)) {
      const meets = present.filter((p) => p.name !== name && group.some((dep) => offers(p, dep)));
      const available: string[] = [];
      if (
        meets.length === 0 &&
        field !== 'Provides' &&
        field !== 'Conflicts' &&
        field !== 'Breaks' &&
        field !== 'Replaces'
      ) {
        const u = await universe();
        for (const dep of group) {
          const found = newestOf(
            [...u.versionsOf(dep.name), ...u.providersOf(dep.name)].filter((e) => offers(e.package, dep)),
          );
          if (found !== undefined) available.push(`${found.package.name} ${found.package.version}`);
        }
      }
      relations.push({
        field,
        group: formatGroup(group),
        installed: meets.map((p) =>
          p.name === 'firmware' ? `firmware ${p.version} (the device)` : `${p.name} ${p.version}`,
        ),
        available,
      });
    }
  }
  return { name, version, source: record !== undefined ? 'installed' : 'feed', relations };
}

/** `show whatdepends`: installed packages that depend on `name`, and through which of their groups. */
export async function dependentsOf(
  layout: Layout,
  name: string,
  options: { readonly recursive?: boolean } = {},
): Promise<DependentView[]> {
  const installed = await loadInstalled(layout);
  if (!installed.records.has(name)) {
    throw new DeviceError('DEVICE_NOT_INSTALLED', `package ${name} is not installed (see show)`);
  }
  const found = whatDepends(installed.packages, name, options.recursive ? { recursive: true } : {});
  const targets = installed.packages.filter((p) => p.name === name || found.some((f) => f.name === p.name));
  return found.map((pkg) => {
    const group = pkg.depends.find((g) =>
      g.some((dep) => targets.some((t) => t.name !== pkg.name && offers(t, dep))),
    );
    return { name: pkg.name, version: pkg.version, through: group === undefined ? '' : formatGroup(group) };
  });
}

function newestOf(entries: readonly FeedEntry[]): FeedEntry | undefined {
  let best: FeedEntry | undefined;
  for (const e of entries)
    if (best === undefined || compareVersions(e.package.version, best.package.version) > 0) best = e;
  return best;
}

function notAvailable(name: string): DeviceError {
  return new DeviceError(
    'DEVICE_NOT_AVAILABLE',
    `no package named ${name} in the feeds (search finds packages)`,
  );
}
