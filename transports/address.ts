// How a remote endpoint is written in messages and URLs: host, port, IPv6 brackets, the origin of a transfer.
import { formatOrigin, type RemoteOrigin } from '../common/origin.js';
import type { ProtoName, RemoteSource, TransportContext } from './types.js';

export { formatHostPort } from '../common/host.js';

/** The port a source uses: the explicit one, else the device's default for its protocol. */
export function portOf(source: RemoteSource, ctx: Pick<TransportContext, 'defaultPorts'>): number {
  return source.port ?? ctx.defaultPorts[source.proto];
}

/** Protocols without a connection, whose messages name the host alone at the default port. */
const CONNECTIONLESS: ReadonlySet<ProtoName> = new Set(['tftp']);

/** The server a source names, with the port it uses: what a transfer from it returns as its origin. */
export function endpointOf(source: RemoteSource, ctx: Pick<TransportContext, 'defaultPorts'>): RemoteOrigin {
  return { kind: 'remote', proto: source.proto, host: source.host, port: portOf(source, ctx) };
}

/**
 * The origin that starts every message about a transfer: `ftp 192.0.2.1:21`. tftp, which has no
 * connection, names only the host unless the port is not the default (`tftp 192.0.2.1`), as the manual's
 * examples do.
 */
export function originOf(source: RemoteSource, ctx: Pick<TransportContext, 'defaultPorts'>): string {
  const omit = CONNECTIONLESS.has(source.proto) ? ctx.defaultPorts[source.proto] : undefined;
  return formatOrigin(endpointOf(source, ctx), omit);
}
