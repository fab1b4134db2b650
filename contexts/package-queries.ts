// The query commands of the package context: search, show available|upgradable|depends|whatdepends|files.
import type { FeedPackageInfo } from '../firmware-sim/api.js';
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

/** A table of feed packages: newest version of each, the feed, the first line of its description. */
function packageTable(title: string, list: readonly FeedPackageInfo[], env: CommandEnv): string[] {
  const rows = list.map((p) => [p.name, p.version, p.feed, p.description]);
  return renderTable(
    { title, columns: ['NAME', 'VERSION', 'FEED', 'DESCRIPTION'], rows },
    env.session.terminal,
  );
}

async function search(args: ArgsOf<typeof searchParams>, env: CommandEnv): Promise<void> {
  const found = await env.services.device.availablePackages({ text: args.text });
  if (found.length === 0) {
    env.out.line(`No package of the feeds has "${args.text}" in its name or description.`);
    return;
  }
  for (const line of packageTable('Search', found, env)) env.out.line(line);
}

/** A control field value for display: continuation lines lose their leading blank, ` .` is an empty line. */
function controlValue(value: string): string {
  return value
    .split('\n')
    .map((line, i) => (i === 0 ? line : line.replace(/^ /, '').replace(/^\.$/, '')))
    .join('\n');
}

async function showAvailable(args: ArgsOf<typeof availableParams>, env: CommandEnv): Promise<void> {
  const device = env.services.device;
  if (args.name === undefined) {
    const all = await device.availablePackages();
    if (all.length === 0) {
      env.out.line('The feeds offer no packages (show feeds; update fetches their indexes).');
      return;
    }
    for (const line of packageTable('Available', all, env)) env.out.line(line);
    return;
  }
  const versions = await device.availableDetails(args.name);
  const installed = (await device.names()).includes(args.name) ? await device.details(args.name) : undefined;
  for (const [i, v] of versions.entries()) {
    if (i > 0) env.out.line('');
    const fields: Array<[string, string]> = v.fields.map(([k, value]) => [k, controlValue(value)]);
    fields.push(['Feed', v.feed]);
    fields.push([
      'Status',
      installed === undefined
        ? 'not installed'
        : installed.version === v.version
          ? 'installed'
          : `installed: ${installed.version}`,
    ]);
    for (const line of renderFields(fields)) env.out.line(env.session.terminal.ascii ? toAscii(line) : line);
  }
}

async function showUpgradable(env: CommandEnv): Promise<void> {
  const plan = await env.services.device.planFeeds({ requests: [], upgradeAll: true });
  for (const w of plan.warnings) env.out.warn(w);
  if (plan.steps.length === 0) {
    env.out.line('Everything is at the newest version the feeds offer.');
  } else {
    const rows = plan.steps.map((s) => [
      s.name,
      s.from ?? '-',
      s.action === 'remove' ? '-' : (s.version ?? '-'),
      s.action === 'upgrade' && s.because === 'upgrade' ? '' : `${s.action}: ${s.reason}`,
    ]);
    for (const line of renderTable(
      { title: 'Upgradable', columns: ['NAME', 'INSTALLED', 'AVAILABLE', 'NOTE'], rows, wrap: true },
      env.session.terminal,
    ))
      env.out.line(line);
  }
  for (const h of plan.held) env.out.line(`Held back: ${h.name} ${h.version} (${h.reason})`);
}

async function showDepends(args: ArgsOf<typeof dependsParams>, env: CommandEnv): Promise<void> {
  const view = await env.services.device.dependsOf(args.name);
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

async function showWhatDepends(args: ArgsOf<typeof whatDependsParams>, env: CommandEnv): Promise<void> {
  const found = await env.services.device.dependentsOf(args.name, args.recursive ? { recursive: true } : {});
  if (found.length === 0) {
    env.out.line(`No installed package depends on ${args.name}.`);
    return;
  }
  env.out.line(`Installed packages that depend on ${args.name}${args.recursive ? ', directly or not' : ''}:`);
  for (const d of found) env.out.line(`  ${d.name} ${d.version} (${d.through})`);
}

async function showFiles(args: ArgsOf<typeof filesParams>, env: CommandEnv): Promise<void> {
  const device = env.services.device;
  if (device.files === undefined) throw new Error('this device cannot list the files of a package');
  const files = await device.files(args.name);
  env.out.line(`Files of ${args.name} (${files.length}):`);
  for (const f of files) env.out.line(`  /${f.replace(/^\.?\//, '')}`);
}

/** The query commands of the package context. */
export const queryCommands: readonly Command[] = [
  command({
    name: 'search',
    help: 'Find packages of the feeds by name or description',
    params: searchParams,
    run: search,
  }),
  command({
    name: 'show available',
    help: 'Show the packages the feeds offer, or every version of one with its fields',
    params: availableParams,
    run: showAvailable,
  }),
  command({
    name: 'show upgradable',
    help: 'Show what upgrade would change',
    run: async (_args, env) => showUpgradable(env),
  }),
  command({
    name: 'show depends',
    help: 'Show what a package depends on, and what meets it',
    params: dependsParams,
    run: showDepends,
  }),
  command({
    name: 'show whatdepends',
    help: 'Show the installed packages that depend on a package',
    params: whatDependsParams,
    run: showWhatDepends,
  }),
  command({
    name: 'show files',
    help: 'Show the files of an installed package',
    params: filesParams,
    run: showFiles,
  }),
];
