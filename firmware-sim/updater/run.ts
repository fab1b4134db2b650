// One updater run and one plan: update the feeds, plan, weigh the approval, apply together, log one block.
import { formatBytes } from '../../common/bytes.js';
import { DeviceError } from '../errors.js';
import { loadTrustStore } from '../format/index.js';
import { REVOKED_LIST_NAME } from '../state/layout.js';
import { commitPlan, discardStaged, stagePackage } from './apply.js';
import { approvalOf, forgetPlan, mayApply, rememberPending } from './approval.js';
import { writeCurrent } from './fast-path.js';
import type { UpdaterHost } from './host.js';
import { readInstalled } from './installed.js';
import { updaterPaths } from './paths.js';
import { type ComputedPlan, computePlan } from './planner.js';
import { effectiveRequests, readRequests } from './requests.js';
import { type RunState, readRunState, writeRunState } from './run-state.js';
import { readSettings } from './settings.js';
import type { FeedUpdate, RunOutcome, RunRecord, UpdaterOptions, UpdaterPlan } from './types.js';
import { formatHeld, formatLost, formatUpdaterStep } from './words.js';

/** A plan with what decided it, computed under the lock. */
interface Planned {
  readonly computed: ComputedPlan;
  readonly view: UpdaterPlan;
  readonly state: RunState;
}

/** Updates the feeds and computes the plan (the caller holds the lock). */
async function planLocked(host: UpdaterHost, options: UpdaterOptions, now: Date): Promise<Planned> {
  const up = updaterPaths(host.paths);
  const [settings, stored, installed, device, state] = await Promise.all([
    readSettings(up.settingsFile),
    readRequests(up.requestsFile),
    readInstalled(host.paths),
    host.device(),
    readRunState(up.stateFile),
  ]);
  const feeds = await host.feeds();
  const updates = await feeds.update(options.fetch, options.signal);
  const computed = computePlan({
    universe: await feeds.universe(),
    installed: installed.packages,
    requests: effectiveRequests(stored, installed.local),
    serial: device.serial,
    firmwareVersion: device.firmwareVersion,
    architectures: device.architectures,
  });
  const view: UpdaterPlan = {
    id: computed.id,
    steps: computed.steps,
    lost: computed.lost,
    held: computed.held,
    feeds: updates,
    approval: approvalOf(computed.id, computed.steps.length, settings, state, now),
    downloadBytes: computed.downloadBytes,
  };
  return { computed, view, state };
}

/** `plan`: what a run would do now. The feeds are brought up to date first; nothing else changes. */
export function planNow(host: UpdaterHost, options: UpdaterOptions): Promise<UpdaterPlan> {
  return host.locked(async () => (await planLocked(host, options, new Date())).view);
}

/** The feeds that failed, as one line, or `undefined`. */
function feedFailure(updates: readonly FeedUpdate[]): string | undefined {
  const failed = updates.filter((u) => u.result === 'failed');
  if (failed.length === 0) return undefined;
  return failed.map((u) => `feed ${u.feed}: ${u.message ?? 'failed'}`).join('; ');
}

/**
 * One run under the lock: update the feeds, plan, and apply the plan when the approval settings
 * allow it, every package downloaded and checked before the store changes at all, the store changed
 * in one journaled commit. A feed that fails (unreachable, a bad signature, expired, rolled back)
 * fails the run and nothing changes. The event log gets one block per run; `reboot auto` boots after
 * an applied plan. Returns how it ended; a failure is thrown after it was logged and remembered.
 */
export function runOnce(
  host: UpdaterHost,
  options: UpdaterOptions & { trigger: 'cli' | 'timer' },
): Promise<RunOutcome> {
  const now = new Date();
  const up = updaterPaths(host.paths);
  const block: string[] = [
    `---- updater run (${options.trigger === 'timer' ? 'edgesh-updater' : 'run'}) ----`,
  ];
  const step = (line: string) => block.push(`updater: ${line}`);
  return host.locked(async () => {
    let state = await readRunState(up.stateFile);
    let record: RunRecord;
    let outcome: RunOutcome;
    let planned: Planned | undefined;
    try {
      planned = await planLocked(host, options, now);
      state = planned.state;
      const { computed, view } = planned;
      const updates = view.feeds;
      step(`feeds: ${updates.map((u) => `${u.feed} ${u.result}`).join(', ') || 'none configured'}`);
      const failure = feedFailure(updates);
      if (failure !== undefined) throw new DeviceError('DEVICE_FEED', `${failure}; nothing was changed`);
      const size = computed.downloadBytes > 0 ? `, ${formatBytes(computed.downloadBytes)} to download` : '';
      step(`plan ${computed.id}: ${computed.steps.length} steps${size}`);
      for (const s of computed.steps) step(formatUpdaterStep(s, '->'));
      for (const lost of computed.lost) step(formatLost(lost));
      for (const held of computed.held) step(formatHeld(held));
      const settings = await readSettings(up.settingsFile);
      if (computed.steps.length === 0) {
        record = {
          at: now.toISOString(),
          trigger: options.trigger,
          result: 'nothing-to-do',
          planId: computed.id,
          steps: 0,
        };
        state = forgetPlan(state, undefined);
        step('result: nothing to do');
      } else if (!mayApply(view.approval)) {
        state = rememberPending(state, computed.id, now);
        const until = view.approval.kind === 'waiting' ? view.approval.until : undefined;
        const message =
          until === undefined
            ? `plan ${computed.id} waits for approval (updater approve ${computed.id})`
            : `plan ${computed.id} waits until ${until} (its delay), or for approval (updater approve ${computed.id})`;
        record = {
          at: now.toISOString(),
          trigger: options.trigger,
          result: 'waiting',
          planId: computed.id,
          steps: 0,
          message,
        };
        step(`result: ${message}; nothing was changed`);
      } else {
        await applyLocked(host, computed, options);
        state = forgetPlan(state, computed.id);
        record = {
          at: now.toISOString(),
          trigger: options.trigger,
          result: 'applied',
          planId: computed.id,
          steps: computed.steps.length,
          reboot: settings.reboot === 'auto' ? 'done' : 'pending',
        };
        step(
          `result: applied plan ${computed.id} (${computed.steps.length} steps); ${settings.reboot === 'auto' ? 'rebooting (reboot auto)' : 'takes effect at the next reboot'}`,
        );
      }
      outcome = { ...record, plan: view };
    } catch (error) {
      const failure = host.failure(error, 'updater run');
      const message = failure.message;
      record = {
        at: now.toISOString(),
        trigger: options.trigger,
        result: 'failed',
        ...(planned ? { planId: planned.computed.id } : {}),
        steps: 0,
        message,
      };
      step(`result: failed: ${message}`);
      await host.log(block).catch(() => {});
      await writeRunState(up.stateFile, { ...state, lastRun: record }).catch(() => {});
      throw failure;
    }
    await host.log(block);
    await writeRunState(up.stateFile, { ...state, lastRun: record });
    if (record.result === 'applied' && record.reboot === 'done') await host.boot();
    if (record.result === 'nothing-to-do' || record.result === 'waiting') {
      const feeds = await host.feeds();
      const probes = await feeds.probes();
      const until = [probes?.staleAt, waitingUntil(outcome)].filter((t): t is number => t !== undefined);
      await writeCurrent(up, probes?.probes, until.length === 0 ? undefined : Math.min(...until));
    }
    return outcome;
  });
}

/** When a waiting plan's delay ends: the fast path must not skip that run. */
function waitingUntil(outcome: RunOutcome): number | undefined {
  const approval = outcome.plan?.approval;
  return approval?.kind === 'waiting' && approval.until !== undefined
    ? Date.parse(approval.until)
    : undefined;
}

/** Downloads and stages every package of the plan, then commits the plan to the store. */
async function applyLocked(
  host: UpdaterHost,
  computed: ComputedPlan,
  options: UpdaterOptions,
): Promise<void> {
  const up = updaterPaths(host.paths);
  const [device, installed, feeds, trust] = await Promise.all([
    host.device(),
    readInstalled(host.paths),
    host.feeds(),
    loadTrustStore(host.paths.keysDir, host.paths.revokedFile, REVOKED_LIST_NAME),
  ]);
  const install: string[] = [];
  try {
    await discardStaged(up);
    for (const s of computed.steps) {
      if (s.action === 'remove') continue;
      const entry = computed.entries.get(s.name)!;
      const stream = await feeds.open(entry, options.fetch, options.signal);
      await stagePackage(
        host.paths,
        up,
        device,
        trust,
        entry,
        stream,
        installed.records.get(s.name),
        options.signal,
      );
      install.push(s.name);
    }
  } catch (error) {
    await discardStaged(up).catch(() => {});
    throw error;
  }
  const remove = computed.steps.filter((s) => s.action === 'remove').map((s) => s.name);
  await commitPlan(host.paths, up, { format: 1, planId: computed.id, remove, install });
}
