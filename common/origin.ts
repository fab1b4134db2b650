// Where a package's bytes came from, and the one way it is written: `ftp 192.0.2.1:21`, `media external`.
import { formatHostPort } from './host.js';
import type { ProtoName } from './vocabulary.js';

/**
 * A server that delivered the bytes: the protocol, host and port really used. After the ftp → tftp
 * fallback that is tftp and tftp's own port, not the port typed for ftp.
 */
export interface RemoteOrigin {
  readonly kind: 'remote';
  readonly proto: ProtoName;
  /** Host name or IP address; an IPv6 address without its brackets. */
  readonly host: string;
  readonly port: number;
}

/** A media that held the file (`media external`). */
export interface MediaOrigin {
  readonly kind: 'media';
  readonly label: string;
}

/** Where a transfer came from: a server or a media. */
export type TransferOrigin = RemoteOrigin | MediaOrigin;

/**
 * `ftp 192.0.2.1:21`, `sftp [2001:db8::1]:2222`, `media external`. A port equal to `omitPort` is left
 * out (`tftp 192.0.2.1`): where the text says so, a protocol's default port goes without saying.
 */
export function formatOrigin(origin: TransferOrigin, omitPort?: number): string {
  if (origin.kind === 'media') return `media ${origin.label}`;
  return `${origin.proto} ${formatHostPort(origin.host, origin.port === omitPort ? undefined : origin.port)}`;
}
