// One updater run and one plan: update the feeds, plan, weigh the approval, apply together, log one block.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { formatBytes } from '../../common/bytes.js';
import type { FeedStatus, RunOutcome } from '../api.js';
import { DeviceError } from '../errors.js';
import { faultPoint } from '../state/fault.js';
import { approvalOf, forgetPlan, mayApply, rememberPending } from './approval.js';
import { writeCurrent } from './fast-path.js';
import type { UpdaterHost } from './host.js';
import { readInstalled } from './installed.js';
import { type UpdaterPaths, updaterPaths } from './paths.js';
import { type ComputedPlan, computePlan } from './planner.js';
import {
  fastProbes,
  type ProbeBody,
  type ProbeMemory,
  probe,
  readProbes,
  reusingProbes,
  writeProbes,
} from './probes.js';
import { effectiveRequests, readRequests } from './requests.js';
import { type RunState, readRunState, writeRunState } from './run-state.js';
import { readSettings } from './settings.js';
import type { FeedUpdate, RunRecord, UpdaterOptions, UpdaterPlan } from './types.js';
import { formatHeld, formatLost, formatUpdaterStep } from './words.js';

/** A plan with what decided it. */
interface Planned {
  readonly computed: ComputedPlan;
  readonly view: UpdaterPlan;
  readonly state: RunState;
  /** The feeds as they were planned on, for the fast path. */
  readonly feeds: readonly FeedStatus[];
  /** What the device's configuration was when the plan was made (see `fingerprint`). */
  readonly fingerprint: string;
}

/**
 * Brings the feeds up to date, one conditional request for each unchanged feed, the full update
 * (which fetches only what changed) for the others. Returns one result per feed.
 */
async function updateFeeds(host: UpdaterHost, options: UpdaterOptions, now: Date): Promise<FeedUpdate[]> {
  const up = updaterPaths(host.paths);
  const feeds = await host.feeds.feeds();
  const memory = await readProbes(up);
  const results = new Map<string, FeedUpdate>();
  const learnt = new Map<string, ProbeMemory | undefined>();
  const bodies = new Map<string, ProbeBody>();
  for (const feed of feeds) {
    try {
      const answer = await probe(feed, memory[feed.name], options.fetcher, options.signal, now);
      if (answer.kind === 'unchanged') results.set(feed.name, { feed: feed.name, result: 'unchanged' });
      else {
        learnt.set(feed.name, answer.memory);
        if (answer.body !== undefined) bodies.set(feed.name, answer.body);
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      results.set(feed.name, { feed: feed.name, result: 'failed', message: (error as Error).message });
    }
  }
  if (learnt.size > 0) {
    const updated = await host.feeds.updateFeeds({
      fetcher: reusingProbes(options.fetcher, bodies),
      names: [...learnt.keys()],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    for (const u of updated) {
      if (u.outcome === 'failed') {
        results.set(u.name, { feed: u.name, result: 'failed', message: u.message });
        continue;
      }
      results.set(u.name, { feed: u.name, result: u.outcome });
      const m = learnt.get(u.name);
      if (m !== undefined) memory[u.name] = m;
      else delete memory[u.name];
    }
    await host.locked(() => writeProbes(up, memory));
  }
  return feeds.map((f) => results.get(f.name) ?? { feed: f.name, result: 'failed', message: 'not updated' });
}

/** A digest of what a plan depends on besides the feeds: requests, settings, feeds, packages, device. */
async function fingerprint(host: UpdaterHost, up: UpdaterPaths): Promise<string> {
  const read = (file: string) => readFile(file, 'utf8').catch(() => '');
  const hash = createHash('sha256');
  for (const file of [up.requestsFile, up.settingsFile, host.paths.feedsFile, host.paths.deviceFile]) {
    hash.update(`${await read(file)}\0`);
  }
  const { records } = await readInstalled(host.paths);
  for (const record of records.values()) hash.update(`${record.name} ${record.installId}\n`);
  // An approval given meanwhile must reach the next run.
  hash.update((await readRunState(up.stateFile)).approved.join(' '));
  return hash.digest('hex');
}

/** Updates the feeds and computes the plan, without the device lock (the feed calls take it). */
async function planAt(host: UpdaterHost, options: UpdaterOptions, now: Date): Promise<Planned> {
  const up = updaterPaths(host.paths);
  const updates = await updateFeeds(host, options, now);
  const before = await fingerprint(host, up);
  const [settings, stored, installed, device, state, feeds] = await Promise.all([
    readSettings(up.settingsFile),
    readRequests(up.requestsFile),
    readInstalled(host.paths),
    host.device(),
    readRunState(up.stateFile),
    host.feeds.feeds(),
  ]);
  const computed = await computePlan({
    feeds: host.feeds,
    requests: effectiveRequests(stored, installed.local),
    installed,
    serial: device.serial,
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
  return { computed, view, state, feeds, fingerprint: before };
}

/** `plan`: what a run would do now. The feeds are brought up to date first; nothing else changes. */
export async function planNow(host: UpdaterHost, options: UpdaterOptions): Promise<UpdaterPlan> {
  return (await planAt(host, options, new Date())).view;
}

/** The feeds that failed, as one line, or `undefined`. */
function feedFailure(updates: readonly FeedUpdate[]): string | undefined {
  const failed = updates.filter((u) => u.result === 'failed');
  if (failed.length === 0) return undefined;
  return failed.map((u) => `feed ${u.feed}: ${u.message ?? 'failed'}`).join('; ');
}

/**
 * One run: update the feeds, plan, and apply the plan when the approval settings allow it; every
 * package is downloaded and checked before the store changes, and the store changes in one
 * journaled commit (applyPlan), so that a run stopped anywhere leaves the old set of packages or the
 * new one. A feed that fails (unreachable, a bad signature, expired, rolled back) fails the run and
 * nothing changes. The event log gets one block per run: its start, the plan id and steps, what the
 * commit did, the result. `reboot auto` reboots after an applied plan. Returns how it ended; a
 * failure is thrown once it is logged and remembered.
 */
export async function runOnce(
  host: UpdaterHost,
  options: UpdaterOptions & { trigger: 'cli' | 'timer' },
): Promise<RunOutcome> {
  const now = new Date();
  const up = updaterPaths(host.paths);
  const block: string[] = [
    `---- updater run (${options.trigger === 'timer' ? 'edgesh-updater' : 'run'}) ----`,
  ];
  const step = (line: string) => block.push(`updater: ${line}`);
  let planned: Planned | undefined;
  const record = (result: RunRecord['result'], rest: Partial<RunRecord> = {}): RunRecord => ({
    at: now.toISOString(),
    trigger: options.trigger,
    result,
    ...(planned ? { planId: planned.computed.id } : {}),
    steps: 0,
    ...rest,
  });
  let outcome: RunOutcome;
  let state: RunState;
  try {
    planned = await planAt(host, options, now);
    const { computed, view } = planned;
    state = planned.state;
    step(`feeds: ${view.feeds.map((u) => `${u.feed} ${u.result}`).join(', ') || 'none configured'}`);
    const failure = feedFailure(view.feeds);
    if (failure !== undefined)
      throw new DeviceError('DEVICE_UPDATER_FEED', `${failure}; nothing was changed`);
    const size = computed.downloadBytes > 0 ? `, ${formatBytes(computed.downloadBytes)} to download` : '';
    step(`plan ${computed.id}: ${stepCount(computed.steps.length)}${size}`);
    for (const s of computed.steps) step(formatUpdaterStep(s, '->'));
    for (const lost of computed.lost) step(formatLost(lost));
    for (const held of computed.held) step(formatHeld(held));
    const settings = await readSettings(up.settingsFile);
    if (computed.steps.length === 0) {
      state = forgetPlan(state, undefined);
      outcome = { ...record('nothing-to-do'), plan: view };
      step('result: nothing to do');
    } else if (!mayApply(view.approval)) {
      state = rememberPending(state, computed.id, now);
      const until = view.approval.kind === 'waiting' ? view.approval.until : undefined;
      const message =
        until === undefined
          ? `plan ${computed.id} waits for approval (updater approve ${computed.id})`
          : `plan ${computed.id} waits for its delay until ${until}, or for approval (updater approve ${computed.id})`;
      outcome = { ...record('waiting', { message }), plan: view };
      step(`result: ${message}; nothing was changed`);
    } else {
      // The block so far, then what the commit logs of each step, then the result.
      await host.log(block.splice(0));
      faultPoint('updater:apply');
      // No requests: the updater's own requests are not the operator's `package install`. Only what
      // the next boot activates: nobody reads the warning of an untrusted package stored for nothing.
      await host.feeds.applyPlan(
        { ...computed.feedPlan, requests: [] },
        {
          fetcher: options.fetcher,
          onlyWhatRuns: true,
          ...(options.signal ? { signal: options.signal } : {}),
        },
      );
      faultPoint('updater:applied');
      state = forgetPlan(state, computed.id);
      const reboot = settings.reboot === 'auto' ? 'done' : 'pending';
      outcome = { ...record('applied', { steps: computed.steps.length, reboot }), plan: view };
      step(
        `result: applied plan ${computed.id} (${computed.steps.length} steps); ${reboot === 'done' ? 'rebooting (reboot auto)' : 'takes effect at the next reboot'}`,
      );
    }
  } catch (error) {
    const failure = host.failure(error, 'updater run');
    step(`result: failed: ${failure.message}`);
    await host.log(block).catch(() => {});
    await host
      .locked(async () => {
        const now = await readRunState(up.stateFile);
        await writeRunState(up.stateFile, {
          ...now,
          lastRun: record('failed', { message: failure.message }),
        });
      })
      .catch(() => {});
    throw failure;
  }
  await host.log(block);
  const remembered: RunState = { ...state, lastRun: outcome };
  await host.locked(async () => {
    // Approvals given while the run was going on are kept.
    const current = await readRunState(up.stateFile);
    const approved = current.approved.filter((id) => id !== outcome.planId || outcome.result !== 'applied');
    await writeRunState(up.stateFile, { ...remembered, lastRun: stripPlan(outcome), approved });
  });
  if (outcome.result === 'applied' && outcome.reboot === 'done')
    outcome = { ...outcome, boot: await host.boot() };
  if (outcome.result === 'nothing-to-do' || outcome.result === 'waiting') {
    await rememberCurrent(host, up, planned!, outcome);
  }
  return outcome;
}

/** `1 step`, `3 steps`. */
function stepCount(n: number): string {
  return n === 1 ? '1 step' : `${n} steps`;
}

/** The run as `show` remembers it (without the plan). */
function stripPlan(outcome: RunOutcome): RunRecord {
  const { plan: _plan, boot: _boot, ...record } = outcome;
  return record;
}

/**
 * Lets the next `edgesh-updater` skip node while nothing changes: written under the lock, and only
 * if nothing the plan depended on changed meanwhile (any change under the lock removes it anyway).
 */
async function rememberCurrent(
  host: UpdaterHost,
  up: UpdaterPaths,
  planned: Planned,
  outcome: RunOutcome,
): Promise<void> {
  const memory = await readProbes(up);
  const probes = fastProbes(planned.feeds, memory);
  const stale = planned.feeds
    .map((f) => (f.freshness?.state === 'protected' ? Date.parse(f.freshness.validUntil) : undefined))
    .filter((t): t is number => t !== undefined);
  const approval = outcome.plan?.approval;
  if (approval?.kind === 'waiting' && approval.until !== undefined) stale.push(Date.parse(approval.until));
  await host.locked(async () => {
    if ((await fingerprint(host, up)) !== planned.fingerprint) return;
    const kind = outcome.result === 'waiting' ? 'waiting' : 'nothing-to-do';
    await writeCurrent(up, probes, stale.length === 0 ? undefined : Math.min(...stale), {
      kind,
      planId: planned.computed.id,
    });
  });
}
