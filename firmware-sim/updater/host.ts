// What the updater needs of the device it runs in: its files, lock and log, its feeds, its boot.
import type { BootReport, FeedsDevice } from '../api.js';
import type { DeviceFile } from '../config/device-file.js';
import type { Layout } from '../state/layout.js';

/**
 * The device around the updater. The feed calls (`feeds`) and `boot` take the device lock
 * themselves: the updater never calls them from inside `locked`, which it uses only for its own
 * files (requests, settings, what it remembers).
 */
export interface UpdaterHost {
  readonly paths: Layout;
  /** `device.json`, read afresh. */
  device(): Promise<DeviceFile>;
  /** Runs `task` under the device lock (recovering first what a crash left). */
  locked<T>(task: () => Promise<T>): Promise<T>;
  /** Appends events to the log. */
  log(events: readonly string[]): Promise<void>;
  /** A failure as the device reports it: file-system errors as one-line `DeviceError`s. */
  failure(error: unknown, doing: string): Error;
  /** The device's feeds: update, plan, apply (feeds-api.ts). */
  readonly feeds: FeedsDevice;
  /** Reboots (takes the lock): `reboot auto` after an applied plan. */
  boot(): Promise<BootReport>;
}
