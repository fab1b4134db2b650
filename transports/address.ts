// How a remote endpoint is written in messages and URLs: host, port, IPv6 brackets, the origin of a transfer.
import { isIPv6 } from 'node:net';
import type { ProtoName, RemoteSource, TransportContext } from './types.js';

/** `192.0.2.1:21`, `[2001:db8::1]:21`; without a port `192.0.2.1` or `[2001:db8::1]`. */
export function formatHostPort(host: string, port?: number): string {
  const h = isIPv6(host) ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

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
