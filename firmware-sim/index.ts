// The simulated device: open a state directory, and the pieces the shell and tools need besides.

import { defaultVendorDir } from './config/vendor.js';
import { DEFAULT_LOCK_WAIT_MS, type DeviceSession, LocalDevice } from './device.js';
import { DeviceError } from './errors.js';
import { layoutOf } from './state/layout.js';

export type * from './api.js';
export { DEFAULT_DEVICE_DIR } from './api.js';
export { DEFAULT_BOOT_CONFIG } from './config/boot-config.js';
export { DEVICE_DEFAULTS, type DeviceFile, type UnpackLimits } from './config/device-file.js';
export { makeUnlockToken, verifyUnlockToken } from './config/unlock.js';
export {
  defaultVendorDir,
  loadOrCreateVendorKeys,
  loadVendorSecretKey,
  vendorKeyFiles,
} from './config/vendor.js';
export { DEFAULT_LOCK_WAIT_MS, type DeviceSession, LocalDevice } from './device.js';
export { DeviceError, type DeviceErrorCode } from './errors.js';
export type { FormatErrorCode } from './format/errors.js';
export { SAMPLES } from './lifecycle/sample-list.js';
export type { SampleOptions } from './lifecycle/samples.js';
export { type Layout, layoutOf } from './state/layout.js';

/**
 * Writes the sample packages and an unlock token for `serial` into `outDir` (the lab's servers use
 * it). Loaded on demand: the package writer is not needed to open a device.
 */
export async function createSamplePackages(
  outDir: string,
  options: import('./lifecycle/samples.js').SampleOptions,
): Promise<string[]> {
  return (await import('./lifecycle/samples.js')).createSamplePackages(outDir, options);
}

/** Options of `openDevice`. */
export interface OpenDeviceOptions {
  /** Named in the lock file, so that another session's `DEVICE_LOCKED` says who holds it. */
  readonly session: DeviceSession;
  /** How long a mutating call waits for another session's lock (default 10 s). */
  readonly lockWaitMs?: number;
  /** Where the vendor's key pair lives (default: the sibling `<dir>.vendor/`). */
  readonly vendorDir?: string;
}

/**
 * Opens the device in state directory `dir`: creates it on first use (SPEC §4.1), in a missing or
 * empty directory only, and, when a previous process died holding the lock, completes or rolls back
 * what it left half done. A file, a directory holding other things, or a device that lost its
 * `device.json` is refused with `DEVICE_NOT_A_DEVICE`; file-system failures are `DEVICE_NO_SPACE`,
 * `DEVICE_READ_ONLY` or `DEVICE_IO`.
 */
export async function openDevice(dir: string, options: OpenDeviceOptions): Promise<LocalDevice> {
  if (dir.trim() === '') {
    throw new DeviceError('DEVICE_NOT_A_DEVICE', 'no device directory given: the directory name is empty');
  }
  const layout = layoutOf(dir);
  const device = new LocalDevice(
    layout,
    options.session,
    options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
    options.vendorDir ?? defaultVendorDir(layout.root),
    dir,
  );
  await device.start();
  return device;
}
