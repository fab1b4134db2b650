// The one error class of the transports layer: a stable code for the shell, a one-line message for the operator.
import { oneLine } from '../common/text.js';

/** Every code a `TransportError` can carry; the shell maps them to exit status and `Error: …`. */
export type TransportErrorCode =
  /** No transport is registered for the protocol. */
  | 'TRANSPORT_UNSUPPORTED'
  /** The source itself is unusable (empty path, port out of range, a name the protocol cannot send). */
  | 'TRANSPORT_BAD_SOURCE'
  /** Could not connect: refused, unreachable, host name unknown, reset before the transfer started. */
  | 'TRANSPORT_CONNECT'
  /** Connecting (TCP, TLS, SSH handshake, login) took longer than the connect timeout. */
  | 'TRANSPORT_CONNECT_TIMEOUT'
  /** No byte arrived for the stall timeout while we were waiting for one. */
  | 'TRANSPORT_STALLED'
  /** The server refused the login, or it wants a password and nobody can type one. */
  | 'TRANSPORT_AUTH'
  | 'TRANSPORT_NOT_FOUND'
  | 'TRANSPORT_ACCESS_DENIED'
  /** The file is (or grew) larger than the configured maximum. */
  | 'TRANSPORT_TOO_LARGE'
  /** The server sent more bytes than it announced. */
  | 'TRANSPORT_SIZE_MISMATCH'
  /** The transfer ended before the announced size, or the connection dropped mid-transfer. */
  | 'TRANSPORT_TRUNCATED'
  /** Cancelled by the caller's `AbortSignal` (Ctrl-C). */
  | 'TRANSPORT_ABORTED'
  /** An SSH host key not in known_hosts and not accepted by the operator. */
  | 'TRANSPORT_HOST_KEY_UNKNOWN'
  /** An SSH host key that differs from the one in known_hosts, or one marked @revoked: always refused. */
  | 'TRANSPORT_HOST_KEY_CHANGED'
  /** The https certificate could not be verified. */
  | 'TRANSPORT_TLS'
  /** Too many redirects, a redirect loop, or a redirect to a weaker scheme. */
  | 'TRANSPORT_REDIRECT'
  /** An http status that is neither success nor one of the cases above. */
  | 'TRANSPORT_HTTP_STATUS'
  /** The server answered something the protocol does not allow. */
  | 'TRANSPORT_PROTOCOL'
  /** The default policy tried every protocol and each failed; `failures` holds them in order. */
  | 'TRANSPORT_ALL_FAILED';

/**
 * The base (and only) error of `transports/`. Its message is one line for an operator, starting with the
 * origin (`ftp 192.0.2.1:21: login refused for user admin`); it never contains a password.
 */
export class TransportError extends Error {
  readonly code: TransportErrorCode;
  /** For `TRANSPORT_ALL_FAILED`: the failure of each protocol tried, in order. */
  readonly failures: readonly TransportError[];

  constructor(
    code: TransportErrorCode,
    message: string,
    options: { cause?: unknown; failures?: readonly TransportError[] } = {},
  ) {
    super(oneLine(message, MESSAGE_MAX), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.failures = options.failures ?? [];
  }
}

/** Whether `error` is a `TransportError` (optionally with the given code). */
export function isTransportError(error: unknown, code?: TransportErrorCode): error is TransportError {
  return error instanceof TransportError && (code === undefined || error.code === code);
}

/** The longest message a `TransportError` carries; longer ones end in `…`. */
export const MESSAGE_MAX = 300;

/** The error for an abort through `ctx.signal`. */
export function abortedError(origin: string): TransportError {
  return new TransportError('TRANSPORT_ABORTED', `${origin}: transfer aborted`);
}

const SYSTEM_ERRORS: Readonly<Record<string, readonly [TransportErrorCode, string]>> = {
  ECONNREFUSED: ['TRANSPORT_CONNECT', 'connection refused'],
  ECONNRESET: ['TRANSPORT_CONNECT', 'connection reset by the server'],
  EPIPE: ['TRANSPORT_CONNECT', 'connection closed by the server'],
  ENOTFOUND: ['TRANSPORT_CONNECT', 'host name not found'],
  EAI_AGAIN: ['TRANSPORT_CONNECT', 'host name lookup failed (temporary)'],
  EAI_NODATA: ['TRANSPORT_CONNECT', 'host name not found'],
  EHOSTUNREACH: ['TRANSPORT_CONNECT', 'host unreachable'],
  ENETUNREACH: ['TRANSPORT_CONNECT', 'network unreachable'],
  EADDRNOTAVAIL: ['TRANSPORT_CONNECT', 'address not available'],
  ETIMEDOUT: ['TRANSPORT_CONNECT_TIMEOUT', 'connection timed out'],
};

/** Maps a Node system error (`ECONNREFUSED` …) to a TransportError, or returns undefined. */
export function fromSystemError(origin: string, error: unknown): TransportError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const known = SYSTEM_ERRORS[code];
  return known ? new TransportError(known[0], `${origin}: ${known[1]}`, { cause: error }) : undefined;
}

/**
 * Turns anything thrown below a transport into a TransportError: TransportErrors pass through, system errors
 * get their plain words, the rest becomes `fallback` with the library's text (made one line).
 */
export function toTransportError(
  origin: string,
  error: unknown,
  fallback: TransportErrorCode = 'TRANSPORT_PROTOCOL',
): TransportError {
  if (error instanceof TransportError) return error;
  const system = fromSystemError(origin, error);
  if (system) return system;
  const text = error instanceof Error ? error.message : String(error);
  return new TransportError(fallback, `${origin}: ${text || 'failed'}`, { cause: error });
}
