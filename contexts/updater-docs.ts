// The documents of the updater context (docs/automation.md): show, plan, run, and the results of its settings.
import type {
  ApprovalState,
  HeldVersion,
  LostRequestView,
  RequestRef,
  RunOutcome,
  RunRecord,
  UpdaterPlan,
  UpdaterRequest,
  UpdaterSettings,
  UpdaterStatus,
  UpdaterStep,
} from '../firmware-sim/api.js';
import { type BootReportDoc, bootReportDoc } from './device-docs.js';
import { orNull } from './json.js';

/** A version constraint: `{"relation": ">=", "version": "2.0"}`. */
export type ConstraintDoc = { readonly relation: string; readonly version: string };

/** A request as plans name it. */
export type RequestRefDoc = {
  readonly kind: 'install' | 'uninstall';
  readonly name: string;
  readonly constraint: ConstraintDoc | null;
  readonly priority: number;
};

/** A request of `show | json`. */
export type RequestDoc = RequestRefDoc & {
  /** `explicit`, `package` (recorded by `package install NAME`), `local` (installed from a file). */
  readonly source: 'explicit' | 'package' | 'local';
  /** Overridden by an explicit request about the same name. */
  readonly shadowed: boolean;
};

/** The settings. */
export type SettingsDoc = {
  readonly approval: boolean;
  readonly delay_hours: number;
  readonly reboot: 'auto' | 'manual';
};

/** A run as `show` tells it. */
export type RunRecordDoc = {
  readonly at: string;
  /** `cli` (the `run` command) or `timer` (`edgesh-updater`). */
  readonly trigger: 'cli' | 'timer';
  readonly result: 'applied' | 'nothing-to-do' | 'waiting' | 'failed';
  readonly plan_id: string | null;
  /** Steps applied (0 unless `applied`). */
  readonly steps_applied: number;
  readonly message: string | null;
  /** After `applied`: `pending` (reboot manual) or `done` (reboot auto); else `null`. */
  readonly reboot: 'pending' | 'done' | null;
};

/** `updater show | json`. */
export type UpdaterStatusDoc = {
  readonly requests: readonly RequestDoc[];
  readonly settings: SettingsDoc;
  readonly last_run: RunRecordDoc | null;
  readonly pending: { readonly id: string; readonly since: string } | null;
  readonly approved: readonly string[];
};

/** One step of an updater plan. */
export type UpdaterStepDoc = {
  readonly action: 'install' | 'upgrade' | 'downgrade' | 'remove';
  readonly name: string;
  readonly version: string | null;
  readonly previous_version: string | null;
  readonly feed: string | null;
  /** Bytes to download, `null` for `remove`. */
  readonly size: number | null;
  /** Why, in words (`dependency of a`, `not requested`). */
  readonly reason: string;
  /** The kind of reason: `requested`, `dependency`, `not-requested`, … */
  readonly reason_kind: string;
};

/** `updater plan | json` (and the plan of `run`). */
export type UpdaterPlanDoc = {
  readonly id: string;
  readonly steps: readonly UpdaterStepDoc[];
  readonly lost: ReadonlyArray<{
    readonly request: RequestRefDoc;
    readonly to: readonly RequestRefDoc[];
    readonly installed: string | null;
  }>;
  readonly held: ReadonlyArray<{
    readonly name: string;
    readonly version: string;
    readonly installed: string | null;
    readonly reason: string;
  }>;
  readonly feeds: ReadonlyArray<{
    readonly name: string;
    readonly result: 'updated' | 'unchanged' | 'failed';
    readonly message: string | null;
  }>;
  /**
   * Whether a run applies it now: `state` is `not-needed`, `approved`, `delay-elapsed` or `waiting`;
   * `since` when it became pending, `until` when the delay lets it apply by itself.
   */
  readonly approval: {
    readonly state: ApprovalState['kind'];
    readonly since: string | null;
    readonly until: string | null;
  };
  readonly download_bytes: number;
  readonly warnings: readonly string[];
};

/** `updater run | json`: the run as `show` records it, with its plan and the boot of `reboot auto`. */
export type UpdaterRunDoc = RunRecordDoc & {
  readonly changed: boolean;
  readonly plan: UpdaterPlanDoc | null;
  readonly boot: BootReportDoc | null;
};

/** `install`, `uninstall`, `no install`, `no uninstall` | json. */
export type RequestChangeDoc = {
  /** `set`, `dropped`, or `unchanged` (the same explicit request was there). */
  readonly result: 'set' | 'dropped' | 'unchanged';
  readonly changed: boolean;
  readonly request: RequestRefDoc;
};

/** `approval`, `delay`, `reboot`, `approve` | json: the settings after the command. */
export type SettingsChangeDoc = {
  readonly result: 'set' | 'unchanged';
  readonly changed: boolean;
  readonly settings: SettingsDoc;
  readonly approved: readonly string[];
};

/** A request reference as a document. */
export function requestRefDoc(r: RequestRef): RequestRefDoc {
  return {
    kind: r.kind,
    name: r.name,
    constraint: r.constraint === undefined ? null : { ...r.constraint },
    priority: r.priority,
  };
}

/** The settings as a document. */
export function settingsDoc(s: UpdaterSettings): SettingsDoc {
  return { approval: s.approval, delay_hours: s.delayHours, reboot: s.reboot };
}

function runRecordDoc(r: RunRecord): RunRecordDoc {
  return {
    at: r.at,
    trigger: r.trigger,
    result: r.result,
    plan_id: orNull(r.planId),
    steps_applied: r.steps,
    message: orNull(r.message),
    reboot: orNull(r.reboot),
  };
}

/** `show` as a document. */
export function statusDoc(s: UpdaterStatus): UpdaterStatusDoc {
  return {
    requests: s.requests.map(
      (r: UpdaterRequest): RequestDoc => ({
        ...requestRefDoc(r),
        source: r.source,
        shadowed: r.shadowed === true,
      }),
    ),
    settings: settingsDoc(s.settings),
    last_run: s.lastRun === undefined ? null : runRecordDoc(s.lastRun),
    pending: s.pending === undefined ? null : { ...s.pending },
    approved: [...s.approved],
  };
}

/** Why a feed failed at the start of a plan, as `plan` warns. */
function feedWarnings(plan: UpdaterPlan): string[] {
  return plan.feeds
    .filter((f) => f.result === 'failed')
    .map((f) => `feed ${f.feed}: ${f.message ?? 'update failed'}; its previous index is used`);
}

/** A plan as a document. */
export function planDoc(plan: UpdaterPlan): UpdaterPlanDoc {
  const a = plan.approval;
  return {
    id: plan.id,
    steps: plan.steps.map((s) => ({
      action: s.action,
      name: s.name,
      version: orNull(s.version),
      previous_version: orNull(s.from),
      feed: orNull(s.feed),
      size: orNull(s.size),
      reason: s.reason.text,
      reason_kind: s.reason.kind,
    })),
    lost: plan.lost.map((l) => ({
      request: requestRefDoc(l.request),
      to: l.to.map(requestRefDoc),
      installed: orNull(l.installed),
    })),
    held: plan.held.map((h) => ({ ...h, installed: orNull(h.installed) })),
    feeds: plan.feeds.map((f) => ({ name: f.feed, result: f.result, message: orNull(f.message) })),
    approval: {
      state: a.kind,
      since: a.kind === 'delay-elapsed' || a.kind === 'waiting' ? orNull(a.since) : null,
      until: a.kind === 'waiting' ? orNull(a.until) : null,
    },
    download_bytes: plan.downloadBytes,
    warnings: feedWarnings(plan),
  };
}

/** A run's outcome as a document. */
export function runDoc(outcome: RunOutcome): UpdaterRunDoc {
  return {
    ...runRecordDoc(outcome),
    changed: outcome.result === 'applied',
    plan: outcome.plan === undefined ? null : planDoc(outcome.plan),
    boot: outcome.boot === undefined ? null : bootReportDoc(outcome.boot),
  };
}

/** A request reference of a document, as the words of a plan take it. */
function requestRef(r: RequestRefDoc): RequestRef {
  return {
    kind: r.kind,
    name: r.name,
    priority: r.priority,
    ...(r.constraint === null ? {} : { constraint: r.constraint as RequestRef['constraint'] & object }),
  };
}

/** The plan of a document in the device's terms, for the words `plan` prints (firmware-sim/updater/words.ts). */
export function planView(doc: UpdaterPlanDoc): {
  steps: UpdaterStep[];
  lost: LostRequestView[];
  held: HeldVersion[];
} {
  return {
    steps: doc.steps.map((s) => ({
      action: s.action,
      name: s.name,
      ...(s.version === null ? {} : { version: s.version }),
      ...(s.previous_version === null ? {} : { from: s.previous_version }),
      reason: { kind: s.reason_kind, text: s.reason },
    })),
    lost: doc.lost.map((l) => ({
      request: requestRef(l.request),
      to: l.to.map(requestRef),
      ...(l.installed === null ? {} : { installed: l.installed }),
    })),
    held: doc.held.map((h) => ({
      name: h.name,
      version: h.version,
      reason: h.reason,
      ...(h.installed === null ? {} : { installed: h.installed }),
    })),
  };
}
