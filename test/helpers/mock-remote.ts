// A mock of `openRemote` (transports/types.ts) that never touches the network: servers are tables in memory.
import { Readable } from 'node:stream';
import type { ProtoName, RemoteRequest, Transfer, TransportContext } from '../../transports/types.js';

/** The error the mock throws, shaped like the real `TransportError` (a `TRANSPORT_*` code). */
export class MockTransportError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
  }
}

/**
 * A file on a mock server: its bytes; or `slow`: one chunk, then nothing until aborted; or `delayMs`:
 * all of `data`, after a pause (a slow command that finishes).
 */
export type MockFile =
  | string
  | { readonly slow: true; readonly first: string }
  | { readonly delayMs: number; readonly data: string };

/** One mock server. */
export interface MockServer {
  /** Protocols it answers; others are refused. */
  readonly protos: readonly ProtoName[];
  /** Files by path. */
  readonly files: Readonly<Record<string, MockFile>>;
  /** Password every login needs (ftp, scp, sftp, http(s) when set). */
  readonly password?: string;
  /** Its SSH host key is not in known_hosts: scp/sftp ask `confirmHostKey`. */
  readonly unknownHostKey?: boolean;
}

/** `192.0.2.1:21`, `[2001:db8::1]:21`. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Builds an `openRemote` over the given servers (by host). */
export function mockOpenRemote(servers: Readonly<Record<string, MockServer>>) {
  const open = async (proto: ProtoName, req: RemoteRequest, ctx: TransportContext): Promise<Transfer> => {
    const port = req.port ?? ctx.defaultPorts[proto];
    const where = proto === 'tftp' ? `tftp ${req.host}` : `${proto} ${formatHostPort(req.host, port)}`;
    const server = servers[req.host];
    if (server === undefined || !server.protos.includes(proto)) {
      throw new MockTransportError('TRANSPORT_CONNECT', `${where}: connection refused`);
    }
    if ((proto === 'scp' || proto === 'sftp') && server.unknownHostKey) {
      const ok =
        (await ctx.confirmHostKey?.({
          host: req.host,
          port,
          algorithm: 'ssh-ed25519',
          fingerprint: 'SHA256:Xb0VGYt2cbdQkdOfy4vVvJ1XRlNjVuq4o5ziEnw0Zng',
        })) ?? false;
      if (!ok)
        throw new MockTransportError(
          'TRANSPORT_HOST_KEY',
          `${where}: host key not trusted; nothing was transferred`,
        );
    }
    if (server.password !== undefined && proto !== 'tftp') {
      const user = req.user ?? ctx.user;
      const password = req.password ?? (await ctx.getPassword?.(`Password for ${user}@${req.host}: `));
      if (password !== server.password) {
        throw new MockTransportError('TRANSPORT_LOGIN', `${where}: login refused for user ${user}`);
      }
    }
    const file = server.files[req.path];
    if (file === undefined)
      throw new MockTransportError('TRANSPORT_NOT_FOUND', `${where}: file not found: ${req.path}`);
    if (typeof file === 'string') {
      const data = Buffer.from(file);
      ctx.onProgress?.({ bytes: data.length, total: data.length, elapsedMs: 1 });
      return { stream: Readable.from([data]), size: data.length, origin: where };
    }
    if ('delayMs' in file) {
      await new Promise((resolve) => setTimeout(resolve, file.delayMs));
      return { stream: Readable.from([Buffer.from(file.data)]), size: file.data.length, origin: where };
    }
    return { stream: slowStream(file.first, where, ctx), size: undefined, origin: where };
  };
  return async (req: RemoteRequest, ctx: TransportContext): Promise<Transfer> => {
    if (req.proto !== undefined) return open(req.proto, req, ctx);
    try {
      return await open('ftp', req, ctx);
    } catch (ftpError) {
      try {
        return await open('tftp', req, ctx);
      } catch (tftpError) {
        throw new MockTransportError(
          (tftpError as MockTransportError).code,
          `${(ftpError as Error).message}; ${(tftpError as Error).message}`,
        );
      }
    }
  };
}

/** One chunk, a progress report, then silence until the signal aborts the transfer. */
function slowStream(first: string, where: string, ctx: TransportContext): Readable {
  let sent = false;
  const stream = new Readable({
    read() {
      if (sent) return;
      sent = true;
      this.push(Buffer.from(first));
      ctx.onProgress?.({ bytes: first.length, total: 10 * 1024 * 1024, elapsedMs: 1000 });
    },
  });
  const abort = (): void => {
    stream.destroy(new MockTransportError('TRANSPORT_ABORTED', `${where}: transfer aborted`));
  };
  if (ctx.signal?.aborted) abort();
  else ctx.signal?.addEventListener('abort', abort, { once: true });
  return stream;
}
