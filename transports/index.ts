// placeholder: replaced by the real module at merge
import type { OpenRemote } from './types.js';

/** Stable codes of `TransportError` (`TRANSPORT_ABORTED` on abort). */
export type TransportErrorCode = `TRANSPORT_${string}`;

/** Any failure of a transport; `message` is one line for the operator. */
export class TransportError extends Error {
  readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Opens a remote source (named protocol, or ftp with tftp as fallback). */
export const openRemote: OpenRemote = () => {
  throw new TransportError('TRANSPORT_UNAVAILABLE', 'the transports are not part of this build yet');
};

/** `192.0.2.1:21`, `[2001:db8::1]:21`. */
export function formatHostPort(_host: string, _port: number): string {
  throw new TransportError('TRANSPORT_UNAVAILABLE', 'the transports are not part of this build yet');
}
