// How a remote endpoint is written in messages and URLs: host, port, IPv6 brackets, the origin of a transfer.
import { formatHostPort } from '../common/host.js';
import type { ProtoName, RemoteSource, TransportContext } from './types.js';

export { formatHostPort } from '../common/host.js';

/** The port a source uses: the explicit one, else the device's default for its protocol. */
export function portOf(source: RemoteSource, ctx: Pick<TransportContext, 'defaultPorts'>): number {
  return source.port ?? ctx.defaultPorts[source.proto];
}

/** Protocols without a connection, whose messages name the host alone at the default port. */
const CONNECTIONLESS: ReadonlySet<ProtoName> = new Set(['tftp']);

/**
 * The origin that starts every message about a transfer: `ftp 192.0.2.1:21`. tftp, which has no
 * connection, names only the host unless the port is not the default (`tftp 192.0.2.1`), as the manual's
 * examples do.
 */
export function originOf(source: RemoteSource, ctx: Pick<TransportContext, 'defaultPorts'>): string {
  const port = portOf(source, ctx);
  const hidePort = CONNECTIONLESS.has(source.proto) && port === ctx.defaultPorts[source.proto];
  return `${source.proto} ${formatHostPort(source.host, hidePort ? undefined : port)}`;
}
