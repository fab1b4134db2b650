// Applying a plan: every package downloaded and verified first, then all of it committed at once under the lock.
import { rm } from 'node:fs/promises';
import type {
  ApplyPlanOptions,
  ApplyPlanResult,
  FeedConfig,
  FeedPlan,
  FeedPlanStep,
  FeedStepResult,
  RequestRecord,
} from '../api.js';
import { readBootConfig } from '../config/boot-config.js';
import type { DeviceFile } from '../config/device-file.js';
import { readFeeds } from '../config/feeds.js';
import { activationRefusal, allowUntrustedInForce } from '../config/policy.js';
import { DeviceError } from '../errors.js';
import { type Offer, offers, type Relations } from '../feeds/index.js';
import { loadTrustStore, type TrustStore, verifyPackage } from '../format/index.js';
import { faultPoint } from '../state/fault.js';
import { REVOKED_LIST_NAME } from '../state/layout.js';
import { describeOrigin } from '../store/packages.js';
import { commitPlan, type PlannedMark, planJournal } from '../store/plan-commit.js';
import { checkReceived, type Received, receivePackage, recordOf } from '../store/receive.js';
import { newInstallId, type StoreRecord } from '../store/records.js';
import { checkedDownload } from './checked.js';
import { feedOrigin } from './fetch.js';
import type { RepositoryHost } from './host.js';
import { type InstalledSet, loadInstalled, relationsOfFields } from './installed.js';

/** A step whose package is downloaded, verified and waiting in a temporary file. */
interface Fetched {
  readonly step: FeedPlanStep;
  readonly feed: FeedConfig;
  received: Received;
}

/**
 * Applies `plan`. The downloads run without the device lock (another session may read meanwhile; its
 * recovery leaves the temporary files of a live process alone); each is checked against the index
 * and verified like any install, and an `Invalid` one, another architecture or firmware, stops the
 * whole plan before anything changed. Then, under the lock, the installed packages must still be the
 * plan's basis, the verdicts are taken again with the trust store of that moment, and everything is
 * committed through one journal (store/plan-commit.ts).
 */
export async function applyPlan(
  host: RepositoryHost,
  plan: FeedPlan,
  options: ApplyPlanOptions,
): Promise<ApplyPlanResult> {
  const { paths } = host;
  checkBasis(await loadInstalled(paths), plan);
  const device = await host.device();
  const { feeds } = await readFeeds(paths.feedsFile);
  const trust = () => loadTrustStore(paths.keysDir, paths.revokedFile, REVOKED_LIST_NAME);
  const fetched: Fetched[] = [];
  try {
    const downloadTrust = await trust();
    for (const step of plan.steps) {
      if (step.download === undefined) continue;
      fetched.push(await download(host, device, downloadTrust, feeds, step, options));
    }
    return await host.locked(async () => {
      const installed = await loadInstalled(paths);
      checkBasis(installed, plan);
      const now = await trust();
      const again = await host.device();
      for (const f of fetched) {
        // The trust store may have changed meanwhile (a key revoked): the verdict is taken again.
        f.received = { ...f.received, verdict: verifyPackage(f.received.reading, now) };
        checkReceived(f.received, again, f.step.name);
      }
      return commit(host, again, plan, installed, fetched, options);
    });
  } catch (error) {
    throw host.failure(error, 'applying the plan');
  } finally {
    for (const f of fetched) await rm(f.received.tmp, { force: true });
  }
}

function checkBasis(installed: InstalledSet, plan: FeedPlan): void {
  if (installed.basis !== plan.basis) {
    throw new DeviceError(
      'DEVICE_CHANGED',
      'the installed packages changed since the plan was made; nothing was changed (make the plan again)',
    );
  }
}

async function download(
  host: RepositoryHost,
  device: DeviceFile,
  trust: TrustStore,
  feeds: readonly FeedConfig[],
  step: FeedPlanStep,
  options: ApplyPlanOptions,
): Promise<Fetched> {
  const pkg = step.download!;
  const feed = feeds.find((f) => f.name === pkg.feed);
  if (feed === undefined) {
    throw new DeviceError('DEVICE_NO_FEED', `feed ${pkg.feed} is no longer configured; nothing was changed`);
  }
  options.onDownload?.(step);
  const file = await options.fetcher.open(feed, pkg.filename, {
    maxBytes: Math.min(device.maxPackageBytes, pkg.size),
    ...(options.signal ? { signal: options.signal } : {}),
    label: `${pkg.name} ${pkg.version}`,
  });
  if (file.kind !== 'stream') {
    throw new DeviceError(
      'DEVICE_NOT_AVAILABLE',
      `feed ${feed.name} no longer has ${pkg.filename} (run update); nothing was changed`,
    );
  }
  const received = await receivePackage(host.paths, device, trust, {
    name: step.name,
    stream: checkedDownload(file.stream, pkg),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const fetched: Fetched = { step, feed, received };
  const control = received.reading.control;
  if (control.package !== pkg.name || control.version !== pkg.version) {
    await rm(received.tmp, { force: true });
    throw new DeviceError(
      'DEVICE_DOWNLOAD_MISMATCH',
      `${pkg.filename} of feed ${feed.name} is ${control.package} ${control.version}, its index says ${pkg.name} ${pkg.version}; nothing was changed`,
    );
  }
  checkReceived(received, device, step.name);
  faultPoint('plan:downloaded');
  return fetched;
}

/** Commits the plan (under the lock), logs it, tells the request hooks. */
async function commit(
  host: RepositoryHost,
  device: DeviceFile,
  plan: FeedPlan,
  installed: InstalledSet,
  fetched: readonly Fetched[],
  options: ApplyPlanOptions,
): Promise<ApplyPlanResult> {
  const id = newInstallId();
  const records = installed.records;
  const persistent = persistentAfter(installed, plan, fetched, options.persistent === true);
  const installs = fetched.map((f) => {
    const previous = records.get(f.step.name);
    const record: StoreRecord = {
      ...recordOf(f.received, {
        name: f.step.name,
        persistent: persistent.has(f.step.name),
        origin: feedOrigin(f.feed, f.step.download!.filename, device.defaultPorts),
      }),
      feed: f.feed.name,
      auto: f.step.auto,
      plan: { id, needs: [...(f.step.needs ?? [])] },
    };
    return { download: f.received.tmp, record, replace: previous !== undefined };
  });
  const removes = plan.steps.filter((s) => s.action === 'remove').map((s) => s.name);
  const marks: PlannedMark[] = plan.marks.map((m) => ({ name: m.name, auto: m.auto }));
  for (const name of persistent) {
    const record = records.get(name);
    if (record !== undefined && !record.persistent && !installs.some((i) => i.record.name === name)) {
      const mark = marks.find((m) => m.name === name);
      if (mark) marks[marks.indexOf(mark)] = { ...mark, persistent: true };
      else marks.push({ name, persistent: true });
    }
  }
  const config = await readBootConfig(host.paths.bootConfigFile);
  const allow = allowUntrustedInForce(config, device);
  if (options.onlyWhatRuns) {
    for (const { record: r } of installs) {
      const refused = activationRefusal(r.verification, r.reason, r.keyNumber, allow, config, device);
      if (refused === undefined) continue;
      throw new DeviceError(
        'DEVICE_UNTRUSTED',
        `${r.name} ${r.version} of feed ${r.feed} would not be activated (${refused}); nothing was changed`,
      );
    }
  }
  faultPoint('plan:checked');
  await commitPlan(host.paths, planJournal(host.paths, id, { removes, installs, marks }));
  const results: FeedStepResult[] = [];
  const events: string[] = [];
  for (const step of plan.steps) {
    if (step.action === 'remove') {
      results.push({ action: 'remove', name: step.name, version: step.from ?? '', auto: step.auto });
      events.push(`remove ${step.name} ${step.from} (${step.reason}; takes effect at the next boot)`);
      continue;
    }
    const install = installs.find((i) => i.record.name === step.name)!;
    const r = install.record;
    const refused = activationRefusal(r.verification, r.reason, r.keyNumber, allow, config, device);
    results.push({
      action: step.action,
      name: r.name,
      version: r.version,
      ...(step.from === undefined ? {} : { previousVersion: step.from }),
      verification: r.verification,
      ...(r.verification === 'Signed' ? {} : { reason: r.reason }),
      ...(r.keyNumber === undefined ? {} : { keyNumber: r.keyNumber }),
      willActivate: refused === undefined,
      persistent: r.persistent,
      auto: step.auto,
    });
    const verdict = r.verification === 'Signed' ? 'Signed: OK' : `${r.verification}: warning: ${r.reason}`;
    const what =
      step.from === undefined
        ? `install ${r.name} ${r.version}`
        : `${step.action} ${r.name} ${step.from} -> ${r.version}`;
    events.push(
      `${what} (feed ${r.feed}: ${describeOrigin(r.origin, device.defaultPorts)})${r.persistent ? ' persistent' : ''} ${verdict}; ${step.reason}`,
    );
  }
  for (const m of plan.marks)
    events.push(`mark ${m.name}: ${m.auto ? 'installed as a dependency' : 'requested'}`);
  await host.log(events);
  await tellHooks(host, plan);
  return { steps: results, marks: plan.marks };
}

/**
 * The packages persistent after the plan: those already so, with `persistent` every package the plan
 * installs, and every package a persistent one needs (directly or not), so that a factory reset never
 * leaves a persistent package without its dependencies.
 */
function persistentAfter(
  installed: InstalledSet,
  plan: FeedPlan,
  fetched: readonly Fetched[],
  all: boolean,
): Set<string> {
  const removed = new Set(plan.steps.filter((s) => s.action === 'remove').map((s) => s.name));
  const after = new Map<string, Offer & { readonly depends: Relations['depends'] }>();
  const persistent = new Set<string>();
  for (const p of installed.packages) {
    if (removed.has(p.name)) continue;
    after.set(p.name, p);
    if (installed.records.get(p.name)?.persistent) persistent.add(p.name);
  }
  for (const f of fetched) {
    const control = f.received.reading.control;
    const { relations } = relationsOfFields(f.step.name, control.fields);
    after.set(f.step.name, { name: f.step.name, version: control.version, ...relations });
    if (all) persistent.add(f.step.name);
  }
  const queue = [...persistent];
  for (let i = 0; i < queue.length; i++) {
    const pkg = after.get(queue[i]!);
    for (const group of pkg?.depends ?? []) {
      for (const other of after.values()) {
        if (persistent.has(other.name) || !group.some((dep) => offers(other, dep))) continue;
        persistent.add(other.name);
        queue.push(other.name);
      }
    }
  }
  return persistent;
}

/** Tells the request hooks what the operator asked; a hook that fails is logged, the plan stands. */
async function tellHooks(host: RepositoryHost, plan: FeedPlan): Promise<void> {
  const at = new Date().toISOString();
  const records: RequestRecord[] = plan.requests.flatMap((r): RequestRecord[] =>
    r.kind === 'upgrade' ? [] : [{ kind: r.kind, name: r.name, at }],
  );
  if (records.length === 0) return;
  for (const hook of host.hooks) {
    await hook(records).catch((error: unknown) =>
      host.log([`request hook failed: ${(error as Error).message}`]).catch(() => {}),
    );
  }
}

/** Tells the request hooks of a removal made outside a plan (`remove NAME` without dependents). */
export async function tellRemoval(host: RepositoryHost, name: string): Promise<void> {
  await tellHooks(host, {
    steps: [],
    held: [],
    lost: [],
    marks: [],
    summary: '',
    requests: [{ kind: 'uninstall', name }],
    warnings: [],
    basis: '',
  });
}
