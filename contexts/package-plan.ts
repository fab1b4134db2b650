// Commands that change packages through a plan: install NAME, upgrade, remove with dependents, autoremove.
import type { ApplyPlanResult, FeedPlan } from '../firmware-sim/api.js';
import { CliError } from './errors.js';
import { appliedDoc, type PlanResultDoc, type PlanStepDoc, plannedDoc } from './feed-docs.js';
import { sessionFeedFetcher } from './feed-fetch.js';
import { upgradeTarget } from './feed-param-types.js';
import {
  type ArgsOf,
  arg,
  type Command,
  type CommandEnv,
  command,
  confirmFlag,
  flag,
  options,
} from './grammar.js';
import { wrapLine } from './table.js';

/** The sentence every change ends with. */
const AFTER_REBOOT = 'Changes are applied after reboot.';

/** `dry-run`: print the plan only. */
/** `dry-run` of a plan: print it only. */
export const planDryRunFlag = flag('dry-run', 'Print the plan only; change nothing', 'dryRun');

const upgradeParams = [
  arg('target', upgradeTarget, { optional: true }),
  options(planDryRunFlag, confirmFlag),
] as const;
const autoremoveParams = [options(planDryRunFlag, confirmFlag)] as const;

/** The plan as printed: its caveats, what was held back or lost, then the plan itself on wrapped lines. */
export function printPlan(plan: FeedPlan, env: CommandEnv): void {
  for (const warning of plan.warnings) env.out.warn(warning);
  const width = env.session.terminal.width;
  const text = (line: string) => (env.session.terminal.ascii ? line.replace(/\u2192/g, '->') : line);
  for (const l of plan.lost) for (const line of wrapLine(text(`Lost: ${l}`), width)) env.out.line(line);
  for (const h of plan.held) env.out.line(text(`Held back: ${h.name} ${h.version} (${h.reason})`));
  if (plan.steps.length > 0) for (const line of wrapLine(text(plan.summary), width)) env.out.line(line);
}

/** How a plan is run: whether to ask first, or only print it. */
export interface RunPlanOptions {
  readonly ask: boolean;
  readonly dryRun?: boolean;
  readonly persistent?: boolean;
}

/**
 * Prints the plan, asks `Proceed (y/N)?` when `ask`, applies it (downloads with a progress bar on a
 * terminal), and returns what each step did (`planText` prints it).
 */
export async function runPlan(plan: FeedPlan, env: CommandEnv, how: RunPlanOptions): Promise<PlanResultDoc> {
  printPlan(plan, env);
  if (how.dryRun) return plannedDoc(plan, 'dry-run');
  if (how.ask && !(await env.ui.confirm('Proceed (y/N)?'))) throw notConfirmed();
  let result: ApplyPlanResult;
  try {
    const fetcher = await sessionFeedFetcher(env);
    result = await env.services.device.applyPlan(plan, {
      fetcher,
      signal: env.signal,
      ...(how.persistent ? { persistent: true } : {}),
    });
  } catch (e) {
    if (!env.signal.aborted) throw e;
    throw new CliError('CLI_ABORTED', 'cancelled; nothing was changed', { cause: e });
  }
  return appliedDoc(plan, result, resultWarnings);
}

/**
 * The text of a plan command's document: for an applied plan, what each step did and the warnings of
 * the result (the plan itself and its own warnings were printed before it was applied); `idle` is
 * the sentence for a plan with nothing to do.
 */
export function planText(doc: PlanResultDoc, env: CommandEnv, idle: string): void {
  if (doc.result === 'unchanged') {
    env.out.line(idle);
    return;
  }
  if (doc.result === 'dry-run') return;
  const lines = doc.steps.map(stepLine);
  for (const m of doc.marks) {
    lines.push(`Marked ${m.name} as ${m.auto ? 'installed as a dependency' : 'installed on request'}.`);
  }
  // A mark changes what autoremove takes, at once; packages change at the next boot.
  if (doc.steps.length === 1 && lines.length === 1) lines[0] = `${lines[0]} ${AFTER_REBOOT}`;
  else if (doc.steps.length > 0) lines.push(AFTER_REBOOT);
  for (const line of lines) env.out.line(line);
  for (const warning of resultWarnings(doc.steps)) env.out.warn(warning);
}

/** Why packages of an applied plan will not be activated. */
function resultWarnings(steps: readonly PlanStepDoc[]): string[] {
  const warnings: string[] = [];
  // Each package's own signature decides its activation, and the boot activates a plan's packages together.
  const refused = steps.filter((s) => s.verification !== null && s.will_activate === false);
  for (const s of refused) {
    warnings.push(
      `${s.name} is ${s.verification}${s.verification_reason === null ? '' : `: ${s.verification_reason}`}; it will not be activated unless allow-untrusted is set in the boot context.`,
    );
  }
  const installed = steps.filter((s) => s.action !== 'remove');
  if (refused.length > 0 && installed.length > refused.length) {
    warnings.push(
      `packages installed together are activated together: ${installed
        .filter((s) => !refused.includes(s))
        .map((s) => s.name)
        .join(', ')} will not be activated while ${refused.map((s) => s.name).join(', ')} is not.`,
    );
  }
  return warnings;
}

/** `Installed b 2.1 (Signed, key 5e8c1a3b9d0f2e47, dependency of a).` */
function stepLine(s: PlanStepDoc): string {
  if (s.action === 'remove') return `Removed ${s.name} ${s.previous_version}.`;
  const how = [
    s.verification ?? '',
    ...(s.signing_key === null ? [] : [`key ${s.signing_key}`]),
    ...(s.persistent ? ['persistent'] : []),
    ...(s.auto ? ['as a dependency'] : []),
  ].join(', ');
  switch (s.action) {
    case 'install':
      return `Installed ${s.name} ${s.version} (${how}).`;
    case 'upgrade':
      return `Upgraded ${s.name} from ${s.previous_version} to ${s.version} (${how}).`;
    case 'downgrade':
      return `Downgraded ${s.name} from ${s.previous_version} to ${s.version} (${how}).`;
  }
}

function notConfirmed(): CliError {
  return new CliError('CLI_NOT_CONFIRMED', 'not confirmed, nothing was changed');
}

/**
 * `install PKGNAME` (a bare name): the resolver's plan over the feeds, printed; asked about when it
 * does more than install (or upgrade) the one package named.
 */
export async function installByName(
  name: string,
  args: { readonly persistent?: boolean; readonly dryRun?: boolean; readonly noRecommends?: boolean },
  env: CommandEnv,
): Promise<PlanResultDoc> {
  const plan = await env.services.device.planFeeds({
    requests: [{ kind: 'install', name }],
    ...(args.noRecommends ? { noRecommends: true } : {}),
  });
  if (plan.steps.length === 0 && plan.marks.length === 0) {
    printPlan(plan, env);
    return plannedDoc(plan, 'unchanged');
  }
  const only =
    plan.steps.length === 1 && plan.steps[0]!.name === name && plan.steps[0]!.action !== 'downgrade';
  return runPlan(plan, env, {
    ask: plan.steps.length > 0 && !only,
    ...(args.dryRun ? { dryRun: true } : {}),
    ...(args.persistent ? { persistent: true } : {}),
  });
}

/** `upgrade | json`: the plan's document and what was named (`null`: every package). */
type UpgradeDoc = PlanResultDoc & { readonly target: string | null };

async function upgrade(args: ArgsOf<typeof upgradeParams>, env: CommandEnv): Promise<UpgradeDoc> {
  const target = args.target ?? 'all';
  const all = target === 'all';
  const plan = await env.services.device.planFeeds(
    all ? { requests: [], upgradeAll: true } : { requests: [{ kind: 'upgrade', name: target }] },
  );
  const named = all ? null : target;
  if (plan.steps.length === 0) {
    printPlan(plan, env);
    return { ...plannedDoc(plan, 'unchanged'), target: named };
  }
  // Upgrades of what was named go on; anything else the plan does (install, remove, downgrade) is asked.
  const asked = (s: FeedPlan['steps'][number]) => s.action === 'upgrade' && (all || s.name === target);
  const doc = await runPlan(plan, env, {
    ask: !plan.steps.every(asked),
    ...(args.dryRun ? { dryRun: true } : {}),
  });
  return { ...doc, target: named };
}

/**
 * `remove PKGNAME` when installed packages depend on it: lists them and asks to remove them too; a
 * script must say `-y` (it cannot know the list in advance). Returns the names removed, or
 * `undefined` when nothing depends on it (the plain removal of the manual applies).
 */
export async function removeWithDependents(
  name: string,
  env: CommandEnv,
): Promise<readonly string[] | undefined> {
  let plan: FeedPlan;
  try {
    plan = await env.services.device.planRemove([name]);
  } catch (e) {
    // A damaged record has no relations to follow: the plain removal takes it.
    if ((e as { code?: unknown }).code === 'DEVICE_NOT_INSTALLED') return undefined;
    throw e;
  }
  const dependents = plan.steps.filter((s) => s.name !== name);
  if (dependents.length === 0) return undefined;
  const list = dependents.map((s) => `${s.name} ${s.from} (${s.reason})`).join(', ');
  for (const line of wrapLine(`Installed packages depend on ${name}: ${list}`, env.session.terminal.width))
    env.out.line(line);
  const count =
    dependents.length === 1
      ? 'the package that depends on it'
      : `the ${dependents.length} packages that depend on it`;
  if (!env.session.interactive && !env.ui.assumeYes) {
    throw new CliError(
      'CLI_NEEDS_YES',
      `removing ${name} removes ${count}: run with -y to confirm, or remove them first; nothing was changed`,
    );
  }
  if (!(await env.ui.confirm(`Remove ${name} and ${count} (y/N)?`))) throw notConfirmed();
  const fetcher = await sessionFeedFetcher(env);
  const result = await env.services.device.applyPlan(plan, { fetcher, signal: env.signal });
  const done = appliedDoc(plan, result, () => []);
  for (const s of done.steps) env.out.line(stepLine(s));
  env.out.line(AFTER_REBOOT);
  return done.steps.map((s) => s.name);
}

async function autoremove(args: ArgsOf<typeof autoremoveParams>, env: CommandEnv): Promise<PlanResultDoc> {
  const plan = await env.services.device.planAutoremove();
  if (plan.steps.length === 0) return plannedDoc(plan, 'unchanged');
  return runPlan(plan, env, { ask: true, ...(args.dryRun ? { dryRun: true } : {}) });
}

/** The plan commands of the package context besides `install` and `remove` (package.ts routes those here). */
export const planCommands: readonly Command[] = [
  command({
    name: 'upgrade',
    help: 'Upgrade a package, or all (the default), from the feeds; takes effect after reboot',
    params: upgradeParams,
    data: upgrade,
    text: (doc, env) =>
      planText(
        doc,
        env,
        doc.target === null
          ? 'Nothing to upgrade: every package is at the newest version the feeds offer.'
          : `Nothing to upgrade: ${doc.target} is at the newest version the feeds offer.`,
      ),
  }),
  command({
    name: 'autoremove',
    help: 'Remove packages installed as dependencies that nothing needs any more',
    params: autoremoveParams,
    data: autoremove,
    text: (doc, env) =>
      planText(doc, env, 'Nothing to remove: every package installed as a dependency is still needed.'),
  }),
];
