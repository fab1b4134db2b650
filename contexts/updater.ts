// The `updater` context (docs/updater.md): requests with priorities, plan, run, approvals, delay, reboot.
import { isPackageName, PACKAGE_NAME_RULE } from '../common/package-name.js';
import type {
  ConstraintRelation,
  FeedFetcher,
  UpdaterRequest,
  VersionConstraint,
} from '../firmware-sim/api.js';
import { formatHeld, formatLost, formatUpdaterStep } from '../firmware-sim/api.js';
import { commonCommands, commonGroups } from './common.js';
import { CliError } from './errors.js';
import { printBootReport } from './exec.js';
import { sessionFeedFetcher } from './feed-fetch.js';
import {
  arg,
  type CommandEnv,
  type Context,
  command,
  invalid,
  option,
  options,
  type ParamType,
} from './grammar.js';
import { number } from './param-types.js';
import { localTime, renderFields, renderTable, toAscii, wrapLine } from './table.js';
import {
  planDoc,
  planView,
  type RequestChangeDoc,
  type RunRecordDoc,
  requestRefDoc,
  runDoc,
  type SettingsChangeDoc,
  settingsDoc,
  statusDoc,
  type UpdaterPlanDoc,
  type UpdaterRunDoc,
  type UpdaterStatusDoc,
} from './updater-docs.js';

const CONTROL = /[\x00-\x1f\x7f]/;
const RELATIONS: readonly ConstraintRelation[] = ['<<', '<=', '>=', '>>', '='];

function startsWith(prefix: string): (word: string) => boolean {
  return (word) => word.startsWith(prefix);
}

/** A package a request names: TAB offers the feeds' packages and the installed ones. */
const requestPackage: ParamType<string> = {
  name: 'PKGNAME',
  help: 'Package of the feeds (or installed)',
  parse(text) {
    if (CONTROL.test(text) || !isPackageName(text))
      throw invalid(this, text, `expected a package name (${PACKAGE_NAME_RULE})`);
    return text;
  },
  async complete(prefix, env) {
    const [installed, offered] = await Promise.all([
      env.services.device.names(),
      env.services.device.feedNames(),
    ]);
    return [...new Set([...installed, ...offered])].filter(startsWith(prefix)).sort();
  },
};

/** A package an explicit request names now (`no install NAME`): TAB offers those. */
function requestedPackage(kind: 'install' | 'uninstall'): ParamType<string> {
  return {
    ...requestPackage,
    help: `Package with an explicit ${kind} request`,
    async complete(prefix, env) {
      const status = await env.services.device.updater.status();
      return status.requests
        .filter((r) => r.source === 'explicit' && r.kind === kind)
        .map((r) => r.name)
        .filter(startsWith(prefix));
    },
  };
}

/** `>= 2.0` (the relation and the version as two words), `>=2.0`, or quoted: `">= 2.0"`. */
const versionConstraint: ParamType<VersionConstraint> = {
  name: 'CONSTRAINT',
  help: 'A relation and a version: >= 2.0, << 3, = 1.2.0 (or as one word: >=2.0)',
  parse(text) {
    const m = /^\(?\s*(<<|<=|>=|>>|=)\s*([^\s()]+)\s*\)?$/.exec(text);
    if (m === null || CONTROL.test(text)) {
      throw invalid(
        this,
        text,
        `expected a relation (${RELATIONS.join(' ')}) and a version, e.g. >= 2.0 or >=2.0`,
      );
    }
    return { relation: m[1] as ConstraintRelation, version: m[2]! };
  },
  // A bare relation waits for its version, the next word.
  joinsNext: (word) => (RELATIONS as readonly string[]).includes(word),
};

/** A word out of a fixed set (`on|off`, `auto|manual`). */
function choice<W extends string>(name: string, help: string, words: readonly W[]): ParamType<W> {
  return {
    name,
    help,
    parse(text) {
      const w = words.find((c) => c === text.toLowerCase());
      if (w === undefined) throw invalid({ name }, text, `expected ${words.join(' or ')}`);
      return w;
    },
    complete: (prefix) => words.filter(startsWith(prefix.toLowerCase())),
  };
}

/** A plan id as `plan` prints it. */
const planId: ParamType<string> = {
  name: 'PLAN-ID',
  help: 'The id plan prints (12 hex digits)',
  parse(text) {
    if (!/^[0-9a-f]{12}$/.test(text.toLowerCase()))
      throw invalid(this, text, 'expected the 12 hex digits plan prints');
    return text.toLowerCase();
  },
  async complete(prefix, env) {
    const pending = (await env.services.device.updater.status()).pending;
    return pending === undefined ? [] : [pending.id].filter(startsWith(prefix));
  },
};

const priority = option(
  'priority',
  number('N', 'Priority, 0 to 100: higher wins a conflict (default 50)', 0, 100),
  'Higher wins when requests conflict (default 50)',
);
const installParams = [
  arg('name', requestPackage),
  options(option('version', versionConstraint, 'Only versions that meet CONSTRAINT (>= 2.0)'), priority),
] as const;
const uninstallParams = [arg('name', requestPackage), options(priority)] as const;

/** The fetcher of the updater: the device's transports and media, and nobody to ask (a login or unknown host key fails). */
function updaterFetcher(env: CommandEnv): Promise<FeedFetcher> {
  return sessionFeedFetcher(env, { ask: false });
}

/** A request as the commands write it: `install a version >=2.0 priority 60`. */
function requestWords(r: Pick<UpdaterRequest, 'kind' | 'name' | 'constraint' | 'priority'>): string {
  const version = r.constraint ? ` version ${r.constraint.relation} ${r.constraint.version}` : '';
  return `${r.kind} ${r.name}${version}${r.priority === 50 ? '' : ` priority ${r.priority}`}`;
}

/**
 * Sets an explicit request; `changed` is false when the same explicit request was there (the device
 * rewrites it all the same).
 */
async function setRequest(
  request: Omit<UpdaterRequest, 'source' | 'shadowed'>,
  env: CommandEnv,
): Promise<RequestChangeDoc> {
  const updater = env.services.device.updater;
  const words = requestWords(request);
  const before = (await updater.status()).requests.some(
    (r) => r.source === 'explicit' && requestWords(r) === words,
  );
  await updater.setRequest(request);
  return { result: before ? 'unchanged' : 'set', changed: !before, request: requestRefDoc(request) };
}

function requestText(doc: RequestChangeDoc, env: CommandEnv): void {
  const r = doc.request;
  if (doc.result === 'dropped') {
    env.out.line(`Request ${r.kind} ${r.name} dropped.`);
    return;
  }
  const constraint = r.constraint === null ? {} : { constraint: r.constraint as VersionConstraint };
  const request = { kind: r.kind, name: r.name, priority: r.priority, ...constraint };
  env.out.line(`Request ${requestWords(request)} set; the next run acts on it (plan shows how).`);
}

async function drop(kind: 'install' | 'uninstall', name: string, env: CommandEnv): Promise<RequestChangeDoc> {
  const updater = env.services.device.updater;
  const was = (await updater.status()).requests.find(
    (r) => r.source === 'explicit' && r.kind === kind && r.name === name,
  );
  if (!(await updater.dropRequest(kind, name))) {
    throw new CliError('CLI_NOT_FOUND', `there is no request ${kind} ${name} (see show)`);
  }
  const request = was === undefined ? { kind, name, constraint: null, priority: 50 } : requestRefDoc(was);
  return { result: 'dropped', changed: true, request };
}

/**
 * Applies a setting; the document holds the settings after it, and `changed` whether they (or the
 * approved ids) differ from before.
 */
async function setting(env: CommandEnv, change: () => Promise<void>): Promise<SettingsChangeDoc> {
  const updater = env.services.device.updater;
  const state = async () => {
    const s = await updater.status();
    return { settings: settingsDoc(s.settings), approved: [...s.approved] };
  };
  const before = await state();
  await change();
  const after = await state();
  const changed = JSON.stringify(before) !== JSON.stringify(after);
  return { result: changed ? 'set' : 'unchanged', changed, ...after };
}

const SOURCES = {
  explicit: 'explicit',
  package: 'recorded (package install)',
  local: 'local (installed from a file)',
};

/** `show`: the requests, the settings, the last run, a plan waiting. */
function statusLines(status: UpdaterStatusDoc, env: CommandEnv): string[] {
  const rows = status.requests.map((r) => [
    r.kind,
    r.name,
    r.constraint ? `${r.constraint.relation} ${r.constraint.version}` : '',
    String(r.priority),
    `${SOURCES[r.source]}${r.shadowed ? ', overridden' : ''}`,
  ]);
  const lines =
    rows.length === 0
      ? ['No requests: the updater removes nothing and installs nothing (install PKGNAME adds one).']
      : renderTable(
          { title: 'Requests', columns: ['REQUEST', 'NAME', 'VERSION', 'PRIORITY', 'SOURCE'], rows },
          env.session.terminal,
        );
  const s = status.settings;
  const fields: Array<[string, string]> = [
    ['Approval', s.approval ? 'on: a run applies only an approved plan' : 'off'],
    [
      'Delay',
      s.delay_hours === 0
        ? 'none'
        : `${s.delay_hours} h: a plan applies once it has been pending that long, or when approved`,
    ],
    [
      'Reboot',
      s.reboot === 'auto'
        ? 'auto: an applied plan reboots the device'
        : 'manual: an applied plan waits for a reboot',
    ],
  ];
  const last = status.last_run;
  fields.push([
    'Last run',
    last === null
      ? 'never'
      : `${localTime(last.at)} (${last.trigger === 'timer' ? 'edgesh-updater' : 'run'}): ${runText(last)}`,
  ]);
  if (status.pending) {
    fields.push([
      'Pending plan',
      `${status.pending.id} since ${localTime(status.pending.since)} (approve ${status.pending.id} applies it)`,
    ]);
  }
  if (status.approved.length > 0) fields.push(['Approved', status.approved.join(', ')]);
  return [...lines, ...renderFields(fields)];
}

/** How a run ended, in words. */
function runText(r: RunRecordDoc): string {
  switch (r.result) {
    case 'applied':
      return `applied plan ${r.plan_id} (${steps(r.steps_applied)})${r.reboot === 'done' ? ', rebooted' : ', reboot pending'}`;
    case 'nothing-to-do':
      return 'nothing to do';
    case 'waiting':
      return r.message ?? `plan ${r.plan_id} waits for approval`;
    case 'failed':
      return `failed: ${r.message ?? 'unknown error'}`;
  }
}

/** The approval line under a plan. */
function approvalText(plan: UpdaterPlanDoc): string {
  const a = plan.approval;
  switch (a.state) {
    case 'not-needed':
      return plan.steps.length === 0 ? 'Nothing to do.' : 'A run applies it (no approval needed).';
    case 'approved':
      return 'Approved: a run applies it.';
    case 'delay-elapsed':
      return `Pending since ${localTime(a.since ?? '')}, longer than the delay: a run applies it.`;
    case 'waiting':
      return a.until === null
        ? `Waits for approval: updater approve ${plan.id}.`
        : `Waits until ${localTime(a.until)} (the delay), or for approval: updater approve ${plan.id}.`;
  }
}

/**
 * The plan as `plan` and `run` print it: the feeds, the id, each step with its reason, what lost or
 * was held back; `plan` adds whether a run would apply it.
 */
function planLines(plan: UpdaterPlanDoc, env: CommandEnv, withApproval: boolean): string[] {
  const lines: string[] = [];
  const arrow = env.session.terminal.ascii ? '->' : '→';
  const feeds = plan.feeds.map((f) => `${f.name} ${f.result}`).join(', ');
  lines.push(`Feeds: ${feeds || 'none configured (package feed NAME URL adds one)'}`);
  const view = planView(plan);
  const items = [
    ...view.steps.map((s) => formatUpdaterStep(s, arrow)),
    ...view.lost.map(formatLost),
    ...view.held.map(formatHeld),
  ];
  if (plan.steps.length === 0) {
    lines.push(items.length === 0 ? `Nothing to do (plan ${plan.id}).` : `Nothing to do (plan ${plan.id}):`);
  } else {
    const size = plan.download_bytes > 0 ? `, ${formatSize(plan.download_bytes)} to download` : '';
    lines.push(`Plan ${plan.id} (${steps(plan.steps.length)}${size}):`);
  }
  const width = env.session.terminal.width;
  for (const item of items) lines.push(...wrapLine(`  ${item}`, width, 4));
  if (withApproval && plan.steps.length > 0) lines.push(approvalText(plan));
  return env.session.terminal.ascii ? lines.map(toAscii) : lines;
}

/** `1 step`, `3 steps`. */
function steps(n: number): string {
  return n === 1 ? '1 step' : `${n} steps`;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function showPlan(env: CommandEnv): Promise<UpdaterPlanDoc> {
  const plan = await env.services.device.updater.plan({
    fetcher: await updaterFetcher(env),
    signal: env.signal,
  });
  return planDoc(plan);
}

/**
 * `run`. A plan that waits for approval is said, not an error: the run did its work (the updater
 * reports, it never asks). Ctrl-C stops it before the commit with nothing changed.
 */
async function runNow(env: CommandEnv): Promise<UpdaterRunDoc> {
  const fetcher = await updaterFetcher(env);
  let outcome: Awaited<ReturnType<CommandEnv['services']['device']['updater']['run']>>;
  try {
    outcome = await env.services.device.updater.run({ fetcher, trigger: 'cli', signal: env.signal });
  } catch (e) {
    if (!env.signal.aborted) throw e;
    throw new CliError('CLI_ABORTED', 'updater run cancelled; nothing was changed', { cause: e });
  }
  return runDoc(outcome);
}

function runNowText(doc: UpdaterRunDoc, env: CommandEnv): void {
  if (doc.plan) for (const line of planLines(doc.plan, env, false)) env.out.line(line);
  switch (doc.result) {
    case 'waiting':
      env.out.line(`${capital(doc.message ?? 'the plan waits for approval')}; nothing was changed.`);
      return;
    case 'nothing-to-do':
      return;
    default:
      env.out.line(
        `Applied plan ${doc.plan_id} (${steps(doc.steps_applied)}). ${doc.reboot === 'done' ? 'Rebooting (reboot auto):' : 'Changes are applied after reboot.'}`,
      );
      if (doc.boot) printBootReport(doc.boot, env);
  }
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The `updater` context. */
export const updaterContext: Context = {
  name: 'updater',
  path: '/updater/#',
  groups: { ...commonGroups, no: 'Drop a request' },
  commands: [
    command({
      name: 'install',
      help: 'Request that a package be installed (and kept current), with its dependencies',
      params: installParams,
      data: (args, env) =>
        setRequest(
          {
            kind: 'install',
            name: args.name,
            ...(args.version ? { constraint: args.version } : {}),
            priority: args.priority ?? 50,
          },
          env,
        ),
      text: requestText,
    }),
    command({
      name: 'uninstall',
      help: 'Request that a package be absent',
      params: uninstallParams,
      data: (args, env) =>
        setRequest({ kind: 'uninstall', name: args.name, priority: args.priority ?? 50 }, env),
      text: requestText,
    }),
    command({
      name: 'no install',
      help: 'Drop an install request',
      params: [arg('name', requestedPackage('install'))],
      data: async (args, env) => drop('install', args.name, env),
      text: requestText,
    }),
    command({
      name: 'no uninstall',
      help: 'Drop an uninstall request',
      params: [arg('name', requestedPackage('uninstall'))],
      data: async (args, env) => drop('uninstall', args.name, env),
      text: requestText,
    }),
    command({
      name: 'show',
      help: 'Show the requests, the settings and the last run',
      data: async (_args, env): Promise<UpdaterStatusDoc> =>
        statusDoc(await env.services.device.updater.status()),
      text: (doc, env) => {
        for (const line of statusLines(doc, env)) env.out.line(line);
      },
    }),
    command({
      name: 'plan',
      help: 'Update the feeds and show what a run would do now, each step with its reason',
      data: async (_args, env) => showPlan(env),
      text: (doc, env) => {
        for (const warning of doc.warnings) env.out.warn(warning);
        for (const line of planLines(doc, env, true)) env.out.line(line);
      },
    }),
    command({
      name: 'run',
      help: 'Update the feeds and apply the plan now, without asking',
      data: async (_args, env) => runNow(env),
      text: runNowText,
    }),
    command({
      name: 'approval',
      help: 'on: a run applies only an approved plan; off: plans apply by themselves',
      params: [arg('mode', choice('on|off', 'on or off', ['on', 'off'] as const))],
      data: (args, env) => setting(env, () => env.services.device.updater.setApproval(args.mode === 'on')),
      text: (doc, env) =>
        env.out.line(
          doc.settings.approval
            ? 'Approval is on: a run applies only an approved plan (approve PLAN-ID).'
            : 'Approval is off: a run applies its plan (unless a delay is set).',
        ),
    }),
    command({
      name: 'approve',
      help: 'Approve a plan by its id: the next run applies it',
      params: [arg('id', planId)],
      data: async (args, env) => ({
        ...(await setting(env, () => env.services.device.updater.approve(args.id))),
        id: args.id,
      }),
      text: (doc, env) =>
        env.out.line(`Plan ${doc.id} approved: the next run applies it, if the plan is still the same.`),
    }),
    command({
      name: 'delay',
      help: 'Hours a plan waits before it applies by itself (0: no delay)',
      params: [arg('hours', number('HOURS', 'Hours, 0 to 8760', 0, 8760))],
      data: (args, env) => setting(env, () => env.services.device.updater.setDelay(args.hours)),
      text: (doc, env) => {
        const hours = doc.settings.delay_hours;
        env.out.line(
          hours === 0
            ? 'No delay.'
            : `Delay ${hours} h: a plan applies once it has been pending ${hours} h, or when approved.`,
        );
      },
    }),
    command({
      name: 'reboot',
      help: 'auto: an applied plan reboots the device; manual: it waits for a reboot',
      params: [arg('mode', choice('auto|manual', 'auto or manual', ['auto', 'manual'] as const))],
      data: (args, env) => setting(env, () => env.services.device.updater.setReboot(args.mode)),
      text: (doc, env) =>
        env.out.line(
          doc.settings.reboot === 'auto'
            ? 'An applied plan reboots the device.'
            : 'An applied plan waits for a reboot.',
        ),
    }),
    ...commonCommands,
  ],
};
