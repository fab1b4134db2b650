// What transports/ exports: the registry of protocols (loaded lazily), openRemote with the ftp→tftp policy, errors.
import { oneLine } from '../common/text.js';
import { formatHostPort, originOf } from './address.js';
import { abortedError, MESSAGE_MAX, TransportError } from './errors.js';
import type {
  OpenRemote,
  PolicyStep,
  ProtoName,
  RemoteRequest,
  RemoteSource,
  RemoteTransfer,
  Transport,
  TransportContext,
} from './types.js';

export { formatOrigin, type MediaOrigin, type RemoteOrigin, type TransferOrigin } from '../common/origin.js';
export { formatHostPort, originOf } from './address.js';
export { isTransportError, TransportError, type TransportErrorCode } from './errors.js';
export * from './types.js';

/** Loads one protocol's module on first use, so that the shell starts without ssh2, undici, basic-ftp or tftp. */
export type TransportLoader = () => Promise<Transport>;

/** Protocols by name. The only place that knows which module serves which protocol. */
export type TransportRegistry = Readonly<Partial<Record<ProtoName, TransportLoader>>>;

/** The protocols of the built-in transports, each imported only when it is used. */
export const registry: TransportRegistry = {
  ftp: async () => (await import('./ftp.js')).ftpTransport,
  tftp: async () => (await import('./tftp.js')).tftpTransport,
  scp: async () => (await import('./scp.js')).scpTransport,
  sftp: async () => (await import('./sftp.js')).sftpTransport,
  http: async () => (await import('./http.js')).httpTransport,
  https: async () => (await import('./http.js')).httpsTransport,
};

/** The policy when the operator names no protocol: try each in turn until one opens (SPEC §3.4). */
export const DEFAULT_POLICY: readonly ProtoName[] = ['ftp', 'tftp'];

/**
 * In a policy, how long a protocol that has another after it waits for the server to show it is there
 * (for ftp: connection and greeting) before the next one is tried. A refused connection falls back at
 * once anyway; this bounds a silent one (packets dropped, or a port that accepts and says nothing),
 * which would otherwise hold the operator for the whole connect timeout. Three seconds allow one lost
 * SYN to be sent again (Linux retries after 1 s).
 */
export const FALLBACK_REACH_TIMEOUT_MS = 3000;

/** Options of `createOpenRemote`. */
export interface OpenRemoteOptions {
  /** See FALLBACK_REACH_TIMEOUT_MS (the default). */
  readonly reachTimeoutMs?: number;
}

/**
 * Builds an `OpenRemote` over a registry: a named protocol is opened directly; without one, `policy` is
 * tried in order, each but the last with a reach timeout (a silent server is given up in seconds). An
 * explicit port belongs to the first protocol of the policy (the operator typed it for ftp); the
 * fallbacks use their default ports. If every protocol fails, one `TRANSPORT_ALL_FAILED` error names each
 * failure. An abort is never followed by a fallback.
 */
export function createOpenRemote(
  transports: TransportRegistry,
  policy: readonly ProtoName[] = DEFAULT_POLICY,
  options: OpenRemoteOptions = {},
): OpenRemote {
  const reachTimeoutMs = options.reachTimeoutMs ?? FALLBACK_REACH_TIMEOUT_MS;
  const openWith = async (source: RemoteSource, ctx: TransportContext): Promise<RemoteTransfer> => {
    checkSource(source, ctx);
    const load = transports[source.proto];
    if (!load) {
      throw new TransportError(
        'TRANSPORT_UNSUPPORTED',
        `${source.proto}: protocol not supported on this device`,
      );
    }
    return (await load()).open(source, ctx);
  };

  return async (request: RemoteRequest, ctx: TransportContext): Promise<RemoteTransfer> => {
    const { proto, ...rest } = request;
    if (proto) return openWith({ ...rest, proto }, ctx);
    const failures: TransportError[] = [];
    let previous: { origin: string; failure: TransportError } | undefined;
    for (const [i, name] of policy.entries()) {
      const { port, ...portless } = rest;
      const source: RemoteSource =
        i === 0 && port !== undefined ? { ...portless, port, proto: name } : { ...portless, proto: name };
      const origin = originOf(source, ctx);
      if (ctx.signal?.aborted) throw abortedError(origin);
      ctx.onPolicyStep?.(previous === undefined ? { origin } : { origin, previous: reasonOf(previous) });
      // A protocol with another after it must show quickly that its server is there.
      const last = i === policy.length - 1;
      const tryCtx: TransportContext =
        last || (ctx.reachTimeoutMs !== undefined && ctx.reachTimeoutMs <= reachTimeoutMs)
          ? ctx
          : { ...ctx, reachTimeoutMs };
      try {
        return await openWith(source, tryCtx);
      } catch (error) {
        const failure =
          error instanceof TransportError
            ? error
            : new TransportError('TRANSPORT_PROTOCOL', `${originOf(source, ctx)}: ${String(error)}`, {
                cause: error,
              });
        if (failure.code === 'TRANSPORT_ABORTED') throw failure;
        failures.push(failure);
        previous = { origin, failure };
      }
    }
    if (failures.length === 1) throw failures[0];
    // Each failure gets its share of the message, so that a long path does not push the last one out.
    const share = Math.floor(MESSAGE_MAX / failures.length) - 2;
    const message = failures.map((f) => oneLine(f.message, share)).join('; ');
    throw new TransportError('TRANSPORT_ALL_FAILED', message, { failures });
  };
}

/** The failure before a policy step, in the operator's words: its origin, and the message after it. */
function reasonOf(previous: {
  origin: string;
  failure: TransportError;
}): NonNullable<PolicyStep['previous']> {
  const { origin, failure } = previous;
  const reason = failure.message.startsWith(`${origin}: `)
    ? failure.message.slice(origin.length + 2)
    : failure.message;
  return { origin, reason };
}

/** Opens a remote source with the built-in transports: the protocol named, or ftp then tftp. */
export const openRemote: OpenRemote = createOpenRemote(registry);

/** Refuses a source no protocol could send, with the operator's words, before any connection is made. */
function checkSource(source: RemoteSource, ctx: TransportContext): void {
  const where = `${source.proto} ${formatHostPort(source.host, source.port)}`;
  const bad = (what: string) => new TransportError('TRANSPORT_BAD_SOURCE', `${where}: ${what}`);
  if (source.host === '' || /[\s/\u0000-\u001f]/.test(source.host))
    throw bad(`invalid server address "${source.host}"`);
  const port = source.port ?? ctx.defaultPorts[source.proto];
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`invalid port ${port}`);
  if (source.path === '' || source.path.endsWith('/')) throw bad(`invalid file path "${source.path}"`);
  if (/[\u0000-\u001f\u007f]/.test(source.path)) throw bad('file path contains control characters');
  if (source.user !== undefined && (source.user === '' || /[\s\u0000-\u001f\u007f]/.test(source.user))) {
    throw bad('invalid user name');
  }
}
