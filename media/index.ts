// placeholder: replaced by the real module at merge
import type { MediaLabel, MediaResolver } from './types.js';

/** Stable codes of `MediaError`. */
export type MediaErrorCode = `MEDIA_${string}`;

/** Any failure of the media layer; `message` is one line for the operator. */
export class MediaError extends Error {
  readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

function unavailable(): never {
  throw new MediaError('MEDIA_UNAVAILABLE', 'the media resolver is not part of this build yet');
}

/** The media resolver over drivelist plus the device's simulated USB stick. */
export function createMediaResolver(_options: { usbStick?: string }): MediaResolver {
  return unavailable();
}

/** Parses `LABEL [usb|sd|any] [fs-label X] [uuid U] [partition N]`. */
export function parseMediaLabelArgs(_tokens: readonly string[]): MediaLabel {
  return unavailable();
}

/** What a label matches, in words. */
export function describeLabel(_label: MediaLabel): string {
  return unavailable();
}
