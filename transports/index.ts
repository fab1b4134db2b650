// What transports/ exports: the registry of protocols (loaded lazily), openRemote with the ftp→tftp policy, errors.
import { formatHostPort, originOf } from './address.js';
import { abortedError, TransportError } from './errors.js';
import type {
  OpenRemote,
  ProtoName,
  RemoteRequest,
  RemoteSource,
  Transfer,
  Transport,
  TransportContext,
} from './types.js';

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
 * Builds an `OpenRemote` over a registry: a named protocol is opened directly; without one, `policy` is
 * tried in order. An explicit port belongs to the first protocol of the policy (the operator typed it for
 * ftp); the fallbacks use their default ports. If every protocol fails, one `TRANSPORT_ALL_FAILED` error
 * names each failure. An abort is never followed by a fallback.
 */
export function createOpenRemote(
  transports: TransportRegistry,
  policy: readonly ProtoName[] = DEFAULT_POLICY,
): OpenRemote {
  const openWith = async (source: RemoteSource, ctx: TransportContext): Promise<Transfer> => {
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

  return async (request: RemoteRequest, ctx: TransportContext): Promise<Transfer> => {
    const { proto, ...rest } = request;
    if (proto) return openWith({ ...rest, proto }, ctx);
    const failures: TransportError[] = [];
    for (const [i, name] of policy.entries()) {
      const { port, ...portless } = rest;
      const source: RemoteSource =
        i === 0 && port !== undefined ? { ...portless, port, proto: name } : { ...portless, proto: name };
      if (ctx.signal?.aborted) throw abortedError(originOf(source, ctx));
      try {
        return await openWith(source, ctx);
      } catch (error) {
        const failure =
          error instanceof TransportError
            ? error
            : new TransportError('TRANSPORT_PROTOCOL', `${originOf(source, ctx)}: ${String(error)}`, {
                cause: error,
              });
        if (failure.code === 'TRANSPORT_ABORTED') throw failure;
        failures.push(failure);
      }
    }
    if (failures.length === 1) throw failures[0];
    throw new TransportError('TRANSPORT_ALL_FAILED', failures.map((f) => f.message).join('; '), { failures });
  };
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
