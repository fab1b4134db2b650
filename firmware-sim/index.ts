// placeholder: replaced by the real module at merge
import type { Device } from './api.js';

/** Stable codes of `DeviceError` (`DEVICE_LOCKED`: another session holds the lock; the message names it). */
export type DeviceErrorCode = `DEVICE_${string}`;

/** Any failure of the device layer; `message` is one line for the operator. */
export class DeviceError extends Error {
  readonly code: DeviceErrorCode;

  constructor(code: DeviceErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Opens (and on first use creates, with samples) the device state directory. */
export function openDevice(
  _dir: string,
  _options: { session: { user: string; id: string }; lockWaitMs?: number },
): Promise<Device> {
  throw new DeviceError('DEVICE_UNAVAILABLE', 'the device store is not part of this build yet');
}
