// The contract between the package context and every protocol: open a source, get a byte stream.
import type { Readable } from 'node:stream';
import type { RemoteOrigin, TransferOrigin } from '../common/origin.js';
import type { ProtoName } from '../common/vocabulary.js';

export { PROTOCOLS, type ProtoName } from '../common/vocabulary.js';

/** A remote file as the operator named it on the `install` line. */
export interface RemoteSource {
  readonly proto: ProtoName;
  /** Host name or IP address; an IPv6 address without its brackets. */
  readonly host: string;
  /** Explicit port from `address:port`; otherwise the device's default for the protocol. */
  readonly port?: number;
  /** Path on the server exactly as typed (relative to the login directory for ftp/sftp/scp). */
  readonly path: string;
  /** Login name; the transport falls back to `TransportContext.user`. */
  readonly user?: string;
  /** Password from the command line; when absent the transport asks `getPassword` if it needs one. */
  readonly password?: string;
  /**
   * Fetch only if changed (feed indexes): http sends `If-Modified-Since` / `If-None-Match` with these
   * and an unchanged file comes back as `notModified`; the other protocols fetch it anyway.
   */
  readonly unlessUnchanged?: { readonly lastModified?: string; readonly etag?: string };
}

/** Progress of one transfer, handed to a callback; the shell decides whether to draw it. */
export interface TransferProgress {
  readonly bytes: number;
  /** Size announced by the server, if any (never trusted as a limit). */
  readonly total: number | undefined;
  readonly elapsedMs: number;
}

/** An SSH host key the device does not know yet, shown to the operator for a yes/no answer. */
export interface HostKeyInfo {
  readonly host: string;
  readonly port: number;
  /** Key algorithm as OpenSSH names it, e.g. `ssh-ed25519`. */
  readonly algorithm: string;
  /** `SHA256:` + unpadded base64, as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
}

/** Everything a transport needs from the device and the session; built once per install. */
export interface TransportContext {
  /** Default port per protocol, from `device.json`. */
  readonly defaultPorts: Readonly<Record<ProtoName, number>>;
  /** The CLI user: the login name when the source names none. */
  readonly user: string;
  /** OpenSSH known_hosts file of the device (`etc/ssh/known_hosts`). */
  readonly knownHostsFile: string;
  /** Extra CA certificates for https (`etc/ssl/certs/`), added to the system CAs. */
  readonly caDir: string;
  /** Private keys tried for ssh before a password (the device's own keys); may be empty. */
  readonly sshKeyFiles: readonly string[];
  /** A transfer larger than this is cut off with an error. */
  readonly maxBytes: number;
  readonly connectTimeoutMs: number;
  /**
   * Optional, shorter than `connectTimeoutMs`: a server that has not shown within this time that it is
   * there (for ftp: connected and greeted) counts as not answering. The default policy sets it for every
   * protocol but the last, so that a silent ftp server falls back to tftp in seconds. Added after the
   * first version of this contract; absent means no such limit.
   */
  readonly reachTimeoutMs?: number;
  /** No byte for this long ends the transfer with an error. */
  readonly stallTimeoutMs: number;
  /** Aborts the transfer at any moment (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Asks the operator for a password (no echo); absent when nobody can answer. */
  readonly getPassword?: (prompt: string) => Promise<string>;
  /** Asks the operator whether to trust an unknown SSH host key; absent means "no". */
  readonly confirmHostKey?: (key: HostKeyInfo) => Promise<boolean>;
  readonly onProgress?: (progress: TransferProgress) => void;
  /** The default policy moves on: which protocol it tries now, and why the one before failed. */
  readonly onPolicyStep?: (step: PolicyStep) => void;
}

/** One step of the default policy (ftp, then tftp), for the operator to see what is being tried. */
export interface PolicyStep {
  /** Where it connects now: `ftp 192.0.2.1:21`, `tftp 192.0.2.1`. */
  readonly origin: string;
  /** The failure of the protocol before, if any: its origin and its one-line reason. */
  readonly previous?: { readonly origin: string; readonly reason: string };
}

/** An open transfer: read `stream` to the end; it errors with a `TransportError` on any failure. */
export interface Transfer {
  readonly stream: Readable;
  /** Size announced by the server, if any. */
  readonly size: number | undefined;
  /**
   * Where it really comes from: protocol, host and port used (after the ftp → tftp fallback, tftp's),
   * or the media. Written with `formatOrigin` (common/origin.ts).
   */
  readonly origin: TransferOrigin;
  /** The server says the file is unchanged (`unlessUnchanged`, http 304): `stream` is empty. */
  readonly notModified?: boolean;
  /** What the server said of the file (http `Last-Modified`, `ETag`), to send back next time. */
  readonly validators?: { readonly lastModified?: string; readonly etag?: string };
}

/** A transfer from a server: its origin is the protocol, host and port that deliver the bytes. */
export interface RemoteTransfer extends Transfer {
  readonly origin: RemoteOrigin;
}

/** One protocol. Implementations live one per file and are loaded lazily through the registry. */
export interface Transport {
  readonly name: ProtoName;
  open(source: RemoteSource, ctx: TransportContext): Promise<RemoteTransfer>;
}

/** A source whose protocol may be left to the default policy (ftp, then tftp on failure). */
export type RemoteRequest = Omit<RemoteSource, 'proto'> & { readonly proto?: ProtoName };

/**
 * Opens a remote source with the named protocol, or with the default policy when none is named.
 * Implemented by `openRemote` in `transports/index.ts`; the shell receives it as a service so that
 * its tests can hand in a mock.
 */
export type OpenRemote = (request: RemoteRequest, ctx: TransportContext) => Promise<RemoteTransfer>;
