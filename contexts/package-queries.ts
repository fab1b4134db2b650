// The query commands of the package context: search, show available|upgradable|depends|whatdepends|files.
import type { DependsView } from '../firmware-sim/api.js';
import { type FeedPackageDoc, feedPackageDoc, type PlanStepDoc, planStepsDoc } from './feed-docs.js';
import { anyPackage, feedPackage, searchText } from './feed-param-types.js';
import { type ArgsOf, arg, type Command, type CommandEnv, command, flag, options } from './grammar.js';
import { installedPackage } from './param-types.js';
import { renderFields, renderTable, toAscii } from './table.js';

const searchParams = [arg('text', searchText)] as const;
const availableParams = [arg('name', feedPackage, { optional: true })] as const;
const dependsParams = [arg('name', anyPackage)] as const;
const whatDependsParams = [
  arg('name', installedPackage),
  options(flag('recursive', 'Also what depends on those, and so on (opkg whatdepends -A)')),
] as const;
const filesParams = [arg('name', installedPackage)] as const;

/** `search TEXT | json`. */
type SearchDoc = { readonly text: string; readonly packages: readonly FeedPackageDoc[] };
/** `show available | json`. */
type AvailableDoc = { readonly packages: readonly FeedPackageDoc[] };
/** `show available PKGNAME | json`: every version the feeds offer, newest first, with its stanza. */
type AvailableVersionsDoc = {
  readonly name: string;
  /** The version installed, `null` when it is not. */
  readonly installed_version: string | null;
  readonly versions: ReadonlyArray<
    FeedPackageDoc & { readonly fields: { readonly [field: string]: string } }
  >;
};
/** `show upgradable | json`: the steps `upgrade` would take, and the versions it would hold back. */
type UpgradableDoc = {
  readonly steps: readonly PlanStepDoc[];
  readonly held: ReadonlyArray<{ readonly name: string; readonly version: string; readonly reason: string }>;
  readonly warnings: readonly string[];
};
/** `show depends PKGNAME | json`. */
type DependsDoc = {
  readonly name: string;
  readonly version: string;
  /** `installed`, or `feed` (the newest version of the feeds, when it is not installed). */
  readonly source: 'installed' | 'feed';
  readonly relations: ReadonlyArray<{
    readonly field: string;
    readonly group: string;
    readonly installed: readonly string[];
    readonly available: readonly string[];
  }>;
};
/** `show whatdepends PKGNAME [recursive] | json`. */
type WhatDependsDoc = {
  readonly name: string;
  readonly recursive: boolean;
  readonly dependents: ReadonlyArray<{
    readonly name: string;
    readonly version: string;
    readonly through: string;
  }>;
};
/** `show files PKGNAME | json`: absolute paths, in archive order. */
type FilesDoc = { readonly name: string; readonly files: readonly string[] };

/** A table of feed packages: newest version of each, the feed, the first line of its description. */
function packageTable(title: string, list: readonly FeedPackageDoc[], env: CommandEnv): string[] {
  const rows = list.map((p) => [p.name, p.version, p.feed, p.description]);
  return renderTable(
    { title, columns: ['NAME', 'VERSION', 'FEED', 'DESCRIPTION'], rows },
    env.session.terminal,
  );
}

async function search(args: ArgsOf<typeof searchParams>, env: CommandEnv): Promise<SearchDoc> {
  const found = await env.services.device.availablePackages({ text: args.text });
  return { text: args.text, packages: found.map(feedPackageDoc) };
}

function searchResultText(doc: SearchDoc, env: CommandEnv): void {
  if (doc.packages.length === 0) {
    env.out.line(`No package of the feeds has "${doc.text}" in its name or description.`);
    return;
  }
  for (const line of packageTable('Search', doc.packages, env)) env.out.line(line);
}

/** A control field value for display: continuation lines lose their leading blank, ` .` is an empty line. */
function controlValue(value: string): string {
  return value
    .split('\n')
    .map((line, i) => (i === 0 ? line : line.replace(/^ /, '').replace(/^\.$/, '')))
    .join('\n');
}

async function showAvailable(
  args: ArgsOf<typeof availableParams>,
  env: CommandEnv,
): Promise<AvailableDoc | AvailableVersionsDoc> {
  const device = env.services.device;
  if (args.name === undefined) return { packages: (await device.availablePackages()).map(feedPackageDoc) };
  const versions = await device.availableDetails(args.name);
  const installed = (await device.names()).includes(args.name) ? await device.details(args.name) : undefined;
  return {
    name: args.name,
    installed_version: installed === undefined ? null : installed.version,
    versions: versions.map((v) => ({
      ...feedPackageDoc(v),
      fields: Object.fromEntries(v.fields.map(([k, value]) => [k, controlValue(value)])),
    })),
  };
}

function availableText(doc: AvailableDoc | AvailableVersionsDoc, env: CommandEnv): void {
  if (!('versions' in doc)) {
    if (doc.packages.length === 0) {
      env.out.line('The feeds offer no packages (show feeds; update fetches their indexes).');
      return;
    }
    for (const line of packageTable('Available', doc.packages, env)) env.out.line(line);
    return;
  }
  const installed = doc.installed_version;
  for (const [i, v] of doc.versions.entries()) {
    if (i > 0) env.out.line('');
    const fields: Array<[string, string]> = Object.entries(v.fields);
    fields.push(['Feed', v.feed]);
    fields.push([
      'Status',
      installed === null
        ? 'not installed'
        : installed === v.version
          ? 'installed'
          : `installed: ${installed}`,
    ]);
    for (const line of renderFields(fields)) env.out.line(env.session.terminal.ascii ? toAscii(line) : line);
  }
}

async function showUpgradable(env: CommandEnv): Promise<UpgradableDoc> {
  const plan = await env.services.device.planFeeds({ requests: [], upgradeAll: true });
  return { steps: planStepsDoc(plan), held: plan.held.map((h) => ({ ...h })), warnings: [...plan.warnings] };
}

function upgradableText(doc: UpgradableDoc, env: CommandEnv): void {
  for (const w of doc.warnings) env.out.warn(w);
  if (doc.steps.length === 0) {
    env.out.line('Everything is at the newest version the feeds offer.');
  } else {
    const rows = doc.steps.map((s) => [
      s.name,
      s.previous_version ?? '-',
      s.action === 'remove' ? '-' : (s.version ?? '-'),
      s.action === 'upgrade' && s.reason_kind === 'upgrade' ? '' : `${s.action}: ${s.reason}`,
    ]);
    for (const line of renderTable(
      { title: 'Upgradable', columns: ['NAME', 'INSTALLED', 'AVAILABLE', 'NOTE'], rows, wrap: true },
      env.session.terminal,
    ))
      env.out.line(line);
  }
  for (const h of doc.held) env.out.line(`Held back: ${h.name} ${h.version} (${h.reason})`);
}

async function showDepends(args: ArgsOf<typeof dependsParams>, env: CommandEnv): Promise<DependsView> {
  return env.services.device.dependsOf(args.name);
}

function dependsText(view: DependsDoc, env: CommandEnv): void {
  const where = view.source === 'installed' ? 'installed' : 'from the feeds';
  if (view.relations.length === 0) {
    env.out.line(`${view.name} ${view.version} (${where}) has no relations.`);
    return;
  }
  env.out.line(`${view.name} ${view.version} (${where}):`);
  const rows = view.relations.map((r): [string, string] => {
    const met =
      r.field === 'Provides'
        ? ''
        : r.installed.length > 0
          ? `installed: ${r.installed.join(', ')}`
          : r.field === 'Conflicts' || r.field === 'Breaks' || r.field === 'Replaces'
            ? 'none installed'
            : r.available.length > 0
              ? `not installed; the feeds have ${r.available.join(', ')}`
              : 'not installed, and no feed has it';
    return [`${r.field}:`, met === '' ? r.group : `${r.group}  (${met})`];
  });
  for (const [field, text] of rows) env.out.line(`  ${field.padEnd(13)}${text}`);
}

async function showWhatDepends(
  args: ArgsOf<typeof whatDependsParams>,
  env: CommandEnv,
): Promise<WhatDependsDoc> {
  const found = await env.services.device.dependentsOf(args.name, args.recursive ? { recursive: true } : {});
  return { name: args.name, recursive: args.recursive === true, dependents: found.map((d) => ({ ...d })) };
}

function whatDependsText(doc: WhatDependsDoc, env: CommandEnv): void {
  if (doc.dependents.length === 0) {
    env.out.line(`No installed package depends on ${doc.name}.`);
    return;
  }
  env.out.line(`Installed packages that depend on ${doc.name}${doc.recursive ? ', directly or not' : ''}:`);
  for (const d of doc.dependents) env.out.line(`  ${d.name} ${d.version} (${d.through})`);
}

async function showFiles(args: ArgsOf<typeof filesParams>, env: CommandEnv): Promise<FilesDoc> {
  const device = env.services.device;
  if (device.files === undefined) throw new Error('this device cannot list the files of a package');
  const files = await device.files(args.name);
  return { name: args.name, files: files.map((f) => `/${f.replace(/^\.?\//, '')}`) };
}

/** The query commands of the package context. */
export const queryCommands: readonly Command[] = [
  command({
    name: 'search',
    help: 'Find packages of the feeds by name or description',
    params: searchParams,
    data: search,
    text: searchResultText,
  }),
  command({
    name: 'show available',
    help: 'Show the packages the feeds offer, or every version of one with its fields',
    params: availableParams,
    data: showAvailable,
    text: availableText,
  }),
  command({
    name: 'show upgradable',
    help: 'Show what upgrade would change',
    data: async (_args, env) => showUpgradable(env),
    text: upgradableText,
  }),
  command({
    name: 'show depends',
    help: 'Show what a package depends on, and what meets it',
    params: dependsParams,
    data: async (args, env): Promise<DependsDoc> => {
      const view = await showDepends(args, env);
      return {
        name: view.name,
        version: view.version,
        source: view.source,
        relations: view.relations.map((r) => ({
          field: r.field,
          group: r.group,
          installed: [...r.installed],
          available: [...r.available],
        })),
      };
    },
    text: dependsText,
  }),
  command({
    name: 'show whatdepends',
    help: 'Show the installed packages that depend on a package',
    params: whatDependsParams,
    data: showWhatDepends,
    text: whatDependsText,
  }),
  command({
    name: 'show files',
    help: 'Show the files of an installed package',
    params: filesParams,
    data: showFiles,
    text: (doc, env) => {
      env.out.line(`Files of ${doc.name} (${doc.files.length}):`);
      for (const f of doc.files) env.out.line(`  ${f}`);
    },
  }),
];
