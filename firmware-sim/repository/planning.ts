// Plans over the kept indexes: install, upgrade and uninstall through the resolver, removal with dependents, autoremove.
import type { FeedPlan, FeedPlanRequest, FeedPlanStep } from '../api.js';
import type { DeviceFile } from '../config/device-file.js';
import { DeviceError } from '../errors.js';
import {
  FeedError,
  formatPlan,
  formatReason,
  formatRequest,
  offers,
  type Plan,
  type PlanStep,
  planAutoremove,
  planRemoval,
  type Request,
  resolve,
} from '../feeds/index.js';
import type { Layout } from '../state/layout.js';
import { loadPlanningSource, type PlanningSource, packageInfo, requireIndexes } from './catalog.js';
import { type InstalledSet, loadInstalled, withFirmware } from './installed.js';

/** A resolver's plan over the feeds and the installed packages. */
export async function planFeeds(
  layout: Layout,
  device: DeviceFile,
  request: FeedPlanRequest,
): Promise<FeedPlan> {
  const loading = loadPlanningSource(layout);
  const [installed, catalog] = await Promise.all([
    loadInstalled(layout).catch(async (error: unknown) => {
      await (await loading.catch(() => undefined))?.close();
      throw error;
    }),
    loading,
  ]);
  try {
    return planWith(installed, catalog, device, request);
  } finally {
    await catalog.close();
  }
}

function planWith(
  installed: InstalledSet,
  catalog: PlanningSource,
  device: DeviceFile,
  request: FeedPlanRequest,
): FeedPlan {
  requireIndexes(catalog);
  const universe = catalog.source;
  const names = new Set(installed.packages.map((p) => p.name));
  for (const r of request.requests) {
    const known = universe.versionsOf(r.name).length > 0 || universe.providersOf(r.name).length > 0;
    if (r.kind === 'install' && !known) {
      throw new DeviceError(
        'DEVICE_NOT_AVAILABLE',
        `no package in the feeds is named ${r.name} or provides it (search finds packages by name or description)`,
      );
    }
    if (r.kind === 'upgrade' && !names.has(r.name)) {
      throw new DeviceError('DEVICE_NOT_INSTALLED', `package ${r.name} is not installed (see show)`);
    }
  }
  const auto = request.auto;
  const packages = auto ? installed.packages.map((p) => ({ ...p, auto: auto(p.name) })) : installed.packages;
  const hold = request.hold;
  let plan: Plan;
  try {
    plan = resolve(universe, packages, request.requests as readonly Request[], {
      architectures: device.architectures,
      system: [{ name: 'firmware', version: device.firmwareVersion }],
      ...(request.noRecommends ? { noRecommends: true } : {}),
      ...(request.upgradeAll ? { upgradeAll: true } : {}),
      ...(request.autoremove ? { autoremove: true } : {}),
      ...(hold ? { hold: (entry) => hold(packageInfo(entry)) } : {}),
    });
  } catch (error) {
    if (error instanceof FeedError)
      throw new DeviceError('DEVICE_UNRESOLVABLE', error.message, { cause: error });
    throw error;
  }
  return feedPlanOf(plan, installed, [...catalog.warnings, ...catalog.source.problems], request.requests);
}

/** The plan of `remove NAME…`: the packages named and every installed package left without what it needs. */
export async function planRemove(
  layout: Layout,
  device: DeviceFile,
  names: readonly string[],
): Promise<FeedPlan> {
  const installed = await loadInstalled(layout);
  for (const name of names) {
    if (!installed.records.has(name)) {
      throw new DeviceError('DEVICE_NOT_INSTALLED', `package ${name} is not installed (see show)`);
    }
  }
  const requests = names.map((name) => ({ kind: 'uninstall' as const, name }));
  const plan = planRemoval(withFirmware(installed.packages, device.firmwareVersion), names);
  return feedPlanOf(plan, installed, [], requests);
}

/** The plan of `autoremove`. */
export async function planAutoremoval(layout: Layout, device: DeviceFile): Promise<FeedPlan> {
  const installed = await loadInstalled(layout);
  const plan = planAutoremove(withFirmware(installed.packages, device.firmwareVersion));
  return feedPlanOf(plan, installed, [], []);
}

/** The library's plan in the contract's words, with what each step needs of the others. */
function feedPlanOf(
  plan: Plan,
  installed: InstalledSet,
  warnings: readonly string[],
  requests: FeedPlan['requests'],
): FeedPlan {
  const changing = plan.steps.filter((s) => s.action !== 'remove' && s.entry !== undefined);
  const steps: FeedPlanStep[] = plan.steps.map((step) => ({
    action: step.action,
    name: step.name,
    ...(step.version === undefined ? {} : { version: step.version }),
    ...(step.from === undefined ? {} : { from: step.from }),
    auto: step.auto,
    reason: formatReason(step.reason),
    because: step.reason.kind,
    ...(step.entry === undefined ? {} : { download: packageInfo(step.entry) }),
    ...(step.entry === undefined ? {} : { needs: needsOf(step, changing) }),
  }));
  return {
    steps,
    held: plan.held.map((h) => ({ name: h.name, version: h.version, reason: h.reason })),
    lost: plan.lost.map(
      (l) =>
        `${formatRequest(l.request)} (priority ${l.request.priority ?? 50}) lost to ${l.to
          .map((r) => `${formatRequest(r)} (priority ${r.priority ?? 50})`)
          .join(', ')}`,
    ),
    marks: plan.marks.map((m) => ({ name: m.name, auto: m.auto })),
    summary: formatPlan(plan),
    requests,
    warnings: [...warnings, ...installed.problems],
    basis: installed.basis,
  };
}

/** The other packages of the plan that `step`'s package depends on (any alternative of a group). */
function needsOf(step: PlanStep, changing: readonly PlanStep[]): string[] {
  const pkg = step.entry!.package;
  const needs = new Set<string>();
  for (const group of pkg.depends) {
    for (const other of changing) {
      if (other.name === step.name) continue;
      const offer = { name: other.name, version: other.version!, provides: other.entry!.package.provides };
      if (group.some((dep) => offers(offer, dep))) needs.add(other.name);
    }
  }
  return [...needs].sort();
}
