// The updater of a device: its requests and settings, `plan` and `run`, over the store and the feeds.

import type { RunOutcome, Updater } from '../api.js';
import { DeviceError } from '../errors.js';
import { rememberApproval } from './approval.js';
import type { UpdaterHost } from './host.js';
import { readInstalled } from './installed.js';
import { type UpdaterPaths, updaterPaths } from './paths.js';
import { PLAN_ID_DIGITS } from './planner.js';
import {
  effectiveRequests,
  formatRequestLine,
  readRequests,
  requestProblem,
  type StoredRequest,
  writeRequests,
} from './requests.js';
import { planNow, runOnce } from './run.js';
import { readRunState, writeRunState } from './run-state.js';
import { MAX_DELAY_HOURS, readSettings, writeSettings } from './settings.js';
import type {
  RebootMode,
  UpdaterOptions,
  UpdaterPlan,
  UpdaterRequest,
  UpdaterSettings,
  UpdaterStatus,
} from './types.js';

/** The updater over a device (`device.updater`). Changes take the lock; reads do not. */
export class DeviceUpdater implements Updater {
  private readonly up: UpdaterPaths;

  constructor(private readonly host: UpdaterHost) {
    this.up = updaterPaths(host.paths);
  }

  private guard<T>(doing: string, task: () => Promise<T>): Promise<T> {
    return task().catch((error: unknown) => {
      throw this.host.failure(error, doing);
    });
  }

  status(): Promise<UpdaterStatus> {
    return this.guard('reading the updater state', async () => {
      const [stored, installed, settings, state] = await Promise.all([
        readRequests(this.up.requestsFile),
        readInstalled(this.host.paths),
        readSettings(this.up.settingsFile),
        readRunState(this.up.stateFile),
      ]);
      return {
        requests: effectiveRequests(stored, installed.local),
        settings,
        ...(state.lastRun ? { lastRun: state.lastRun } : {}),
        ...(state.pending ? { pending: state.pending } : {}),
        approved: state.approved,
      };
    });
  }

  setRequest(request: Omit<UpdaterRequest, 'source' | 'shadowed'>): Promise<void> {
    const problem = requestProblem(request);
    if (problem !== undefined) return Promise.reject(new DeviceError('DEVICE_BAD_REQUEST', problem));
    const line = formatRequestLine({ ...request, source: 'explicit' });
    return this.changeRequests(`setting the request ${line}`, `updater: request ${line}`, (stored) => [
      ...stored.filter((r) => !(r.source === 'explicit' && r.name === request.name)),
      {
        kind: request.kind,
        name: request.name,
        ...(request.constraint ? { constraint: request.constraint } : {}),
        priority: request.priority,
        source: 'explicit',
      },
    ]);
  }

  async dropRequest(kind: 'install' | 'uninstall', name: string): Promise<boolean> {
    let dropped = false;
    await this.changeRequests(
      `dropping the request ${kind} ${name}`,
      `updater: request ${kind} ${name} dropped`,
      (stored) => {
        const kept = stored.filter((r) => !(r.source === 'explicit' && r.kind === kind && r.name === name));
        dropped = kept.length < stored.length;
        return kept;
      },
    );
    return dropped;
  }

  /** Rewrites the request file under the lock; a change that changes nothing writes nothing. */
  private changeRequests(
    doing: string,
    event: string,
    change: (stored: StoredRequest[]) => StoredRequest[],
  ): Promise<void> {
    return this.guard(doing, () =>
      this.host.locked(async () => {
        const stored = await readRequests(this.up.requestsFile);
        const next = change(stored);
        if (JSON.stringify(next) === JSON.stringify(stored)) return;
        await writeRequests(this.up.requestsFile, next);
        await this.host.log([event]);
      }),
    );
  }

  setApproval(on: boolean): Promise<void> {
    return this.changeSettings((s) => ({ ...s, approval: on }));
  }

  setDelay(hours: number): Promise<void> {
    if (!Number.isInteger(hours) || hours < 0 || hours > MAX_DELAY_HOURS) {
      return Promise.reject(
        new DeviceError(
          'DEVICE_BAD_REQUEST',
          `bad delay ${hours}: use whole hours from 0 to ${MAX_DELAY_HOURS}`,
        ),
      );
    }
    return this.changeSettings((s) => ({ ...s, delayHours: hours }));
  }

  setReboot(mode: RebootMode): Promise<void> {
    return this.changeSettings((s) => ({ ...s, reboot: mode }));
  }

  private changeSettings(change: (settings: UpdaterSettings) => UpdaterSettings): Promise<void> {
    return this.guard('changing the updater settings', () =>
      this.host.locked(async () => {
        const settings = await readSettings(this.up.settingsFile);
        await writeSettings(this.up.settingsFile, change(settings));
        await this.host.log([`updater: settings changed: ${describe(change(settings))}`]);
      }),
    );
  }

  approve(id: string): Promise<void> {
    if (!new RegExp(`^[0-9a-f]{${PLAN_ID_DIGITS}}$`).test(id)) {
      return Promise.reject(
        new DeviceError(
          'DEVICE_BAD_REQUEST',
          `bad plan id "${id.slice(0, 40)}": ${PLAN_ID_DIGITS} hex digits, as plan shows it`,
        ),
      );
    }
    return this.guard(`approving plan ${id}`, () =>
      this.host.locked(async () => {
        const state = await readRunState(this.up.stateFile);
        await writeRunState(this.up.stateFile, rememberApproval(state, id));
        await this.host.log([`updater: plan ${id} approved`]);
      }),
    );
  }

  plan(options: UpdaterOptions): Promise<UpdaterPlan> {
    return this.guard('planning the update', () => planNow(this.host, options));
  }

  run(options: UpdaterOptions & { readonly trigger: 'cli' | 'timer' }): Promise<RunOutcome> {
    return this.guard('updater run', () => runOnce(this.host, options));
  }
}

/** Settings as the event log says them: `approval on, delay 24 h, reboot manual`. */
function describe(s: UpdaterSettings): string {
  return `approval ${s.approval ? 'on' : 'off'}, delay ${s.delayHours} h, reboot ${s.reboot}`;
}
