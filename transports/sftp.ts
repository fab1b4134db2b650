// sftp with ssh2-sftp-client: open and fstat the file first (clear errors, announced size), then stream it.
import type { SFTPWrapper, Client as SshClient, Stats } from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import { endpointOf, originOf } from './address.js';
import { TransportError } from './errors.js';
import { checkAnnouncedSize, guardReadable, type TransferGuard } from './guard.js';
import { OpenPhase } from './open-phase.js';
import { SftpReader } from './sftp-reader.js';
import { describeSshError, prepareSshLogin, type SshLogin, sendWithoutDelay } from './ssh-login.js';
import type { RemoteSource, RemoteTransfer, Transport, TransportContext } from './types.js';

/** sftp: the file is read through a handle opened before the transfer starts. */
export const sftpTransport: Transport = { name: 'sftp', open: openSftp };

/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

async function openSftp(source: RemoteSource, ctx: TransportContext): Promise<RemoteTransfer> {
  const origin = originOf(source, ctx);
  const user = source.user ?? ctx.user;
  // The callbacks replace the library's global listeners, which would print to the console.
  const client = new SftpClient('edgesh', {
    error: () => undefined,
    end: () => undefined,
    close: () => undefined,
  });
  let login: SshLogin | undefined;
  const describe = (error: unknown) =>
    describeFileError(origin, source.path, error) ?? describeSshError(origin, user, login, error);
  // The library keeps its ssh2 connection in `client` (not in its typings); destroying it closes the socket.
  const conn = (client as unknown as { client: SshClient }).client;
  sendWithoutDelay(conn);
  const close = () => conn.destroy();
  const phase = new OpenPhase(ctx, origin, close);
  let opened: { handle: Buffer; size: number | undefined };
  let sftp: SFTPWrapper | undefined;
  try {
    opened = await phase.run(async () => {
      login = await prepareSshLogin(source, ctx, phase, origin);
      const session: SFTPWrapper = await client.connect(login.config);
      sftp = session;
      const handle = await new Promise<Buffer>((resolve, reject) => {
        session.open(source.path, 'r', (error, h) => (error ? reject(error) : resolve(h)));
      });
      const stats = await new Promise<Stats>((resolve, reject) => {
        session.fstat(handle, (error, s) => (error ? reject(error) : resolve(s)));
      });
      if (stats.isDirectory()) {
        throw new TransportError('TRANSPORT_NOT_FOUND', `${origin}: not a file: ${source.path}`);
      }
      return { handle, size: typeof stats.size === 'number' ? stats.size : undefined };
    });
    checkAnnouncedSize(origin, opened.size, ctx.maxBytes);
  } catch (error) {
    close();
    throw describe(error);
  }
  // Not client.createReadStream(): ssh2's ReadStream has one request in flight (see SftpReader).
  const stream = new SftpReader(sftp as unknown as SFTPWrapper, opened.handle);
  const transfer: RemoteTransfer = guardReadable(stream, {
    origin,
    endpoint: endpointOf(source, ctx),
    size: opened.size,
    ctx,
    release: close,
    // Once the transfer runs, a lost channel ("No response from server") means it broke off.
    describe: (error) =>
      describeFileError(origin, source.path, error) ??
      new TransportError(
        'TRANSPORT_TRUNCATED',
        `${origin}: connection lost after ${(transfer.stream as TransferGuard).bytes} bytes`,
        {
          cause: error,
        },
      ),
  });
  return transfer;
}

/** Errors about the file itself (SFTP status codes), or undefined for connection and login errors. */
function describeFileError(origin: string, path: string, error: unknown): TransportError | undefined {
  if (error instanceof TransportError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === SFTP_NO_SUCH_FILE)
    return new TransportError('TRANSPORT_NOT_FOUND', `${origin}: file not found: ${path}`, { cause: error });
  if (code === SFTP_PERMISSION_DENIED)
    return new TransportError('TRANSPORT_ACCESS_DENIED', `${origin}: access denied: ${path}`, {
      cause: error,
    });
  return undefined;
}
