// ftp with basic-ftp: passive mode, login with the CLI user, a password asked only when the server wants one.

import { Writable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import { oneLine } from '../common/text.js';
import { endpointOf, originOf, portOf } from './address.js';
import { TransportError, toTransportError } from './errors.js';
import { checkAnnouncedSize, TransferGuard } from './guard.js';
import { OpenPhase } from './open-phase.js';
import { askPassword, checkPassword, passwordPrompt } from './password.js';
import type { RemoteSource, RemoteTransfer, Transport, TransportContext } from './types.js';

/** ftp: `RETR` over a passive (EPSV, then PASV) data connection, binary mode. */
export const ftpTransport: Transport = { name: 'ftp', open: openFtp };

async function openFtp(source: RemoteSource, ctx: TransportContext): Promise<RemoteTransfer> {
  const origin = originOf(source, ctx);
  const user = source.user ?? ctx.user;
  // basic-ftp's timeout guards each control reply and watches the data connection for stalls (counting only
  // time spent waiting for the server, not our own backpressure).
  const client = new Client(ctx.stallTimeoutMs);
  const describe = (error: unknown) => describeFtpError(origin, user, source.path, error);
  const phase = new OpenPhase(ctx, origin, () => client.close());
  let size: number | undefined;
  try {
    size = await phase.run(async () => {
      await client.connect(source.host, portOf(source, ctx));
      // basic-ftp's connect resolves on the server's greeting: it is there.
      phase.reached();
      await login(client, user, source, ctx, phase, origin);
      await client.useDefaultSettings();
      return sizeOf(client, source.path);
    });
    checkAnnouncedSize(origin, size, ctx.maxBytes);
  } catch (error) {
    client.close();
    throw describe(error);
  }

  const guard = new TransferGuard({ origin, size, ctx, release: () => client.close() });
  // basic-ftp pipes the data socket into this Writable; holding the write callback while the guard is full
  // pauses the socket, which its watchdog recognises as our backpressure, not a stalled server.
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (guard.feed(chunk)) {
        callback();
        return;
      }
      guard.onResume = () => {
        guard.onResume = undefined;
        callback();
      };
    },
  });
  // The transfer is complete only when the server confirms it on the control connection (226), not when the
  // data connection closes: a server that gives up mid-file closes it too, then answers 426.
  client.downloadTo(sink, source.path).then(
    () => guard.finish(),
    (error: unknown) => guard.fail(describeFtpError(origin, user, source.path, error, guard.bytes > 0)),
  );
  return { stream: guard, size, origin: endpointOf(source, ctx) };
}

/** USER, then PASS only if the server asks for one (331); the password prompt does not count as connect time. */
async function login(
  client: Client,
  user: string,
  source: RemoteSource,
  ctx: TransportContext,
  phase: OpenPhase,
  origin: string,
): Promise<void> {
  const refused = () => new TransportError('TRANSPORT_AUTH', `${origin}: login refused for user ${user}`);
  const res = await client.sendIgnoringError(`USER ${user}`);
  if (res.code >= 200 && res.code < 300) return;
  if (res.code !== 331) throw refused();
  const password =
    source.password === undefined
      ? await askPassword(ctx, phase, origin, user, passwordPrompt(user, source.host))
      : checkPassword(origin, source.password);
  const pass = await client.sendIgnoringError(`PASS ${password}`);
  if (pass.code >= 200 && pass.code < 300) return;
  throw refused();
}

/** The size the server announces (SIZE), or undefined if it does not support the command. */
async function sizeOf(client: Client, path: string): Promise<number | undefined> {
  try {
    return await client.size(path);
  } catch (error) {
    // 550: no such file (or not readable); anything else: SIZE unsupported, RETR will tell.
    if (error instanceof FTPError && error.code === 550) throw error;
    if (error instanceof FTPError) return undefined;
    throw error;
  }
}

/** Operator's words for what basic-ftp reports: FTP reply codes and its own timeouts. */
function describeFtpError(
  origin: string,
  user: string,
  path: string,
  error: unknown,
  midTransfer = false,
): TransportError {
  if (error instanceof TransportError) return error;
  if (error instanceof FTPError) {
    const reply = `(server: ${oneLine(error.message, 120)})`;
    // Once bytes have flowed, any refusal means the transfer broke off (ftp-srv even says 551 for that).
    if (midTransfer && error.code >= 400) {
      return new TransportError('TRANSPORT_TRUNCATED', `${origin}: transfer broke off ${reply}`, {
        cause: error,
      });
    }
    switch (error.code) {
      case 530:
        return new TransportError('TRANSPORT_AUTH', `${origin}: login refused for user ${user}`, {
          cause: error,
        });
      case 550:
      case 551:
        return new TransportError('TRANSPORT_NOT_FOUND', `${origin}: file not found: ${path} ${reply}`, {
          cause: error,
        });
      case 421:
        return new TransportError('TRANSPORT_CONNECT', `${origin}: server closed the connection ${reply}`, {
          cause: error,
        });
      case 425:
      case 426:
        return new TransportError('TRANSPORT_TRUNCATED', `${origin}: data connection failed ${reply}`, {
          cause: error,
        });
      default:
        return new TransportError('TRANSPORT_PROTOCOL', `${origin}: server refused the transfer ${reply}`, {
          cause: error,
        });
    }
  }
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('Timeout (data socket)')) {
    return new TransportError('TRANSPORT_STALLED', `${origin}: no data from the server (stall timeout)`, {
      cause: error,
    });
  }
  if (message.startsWith('Timeout')) {
    return new TransportError('TRANSPORT_STALLED', `${origin}: server stopped answering (timeout)`, {
      cause: error,
    });
  }
  if (message.includes('Server sent FIN packet unexpectedly') || message.includes('closed')) {
    return new TransportError('TRANSPORT_TRUNCATED', `${origin}: connection closed by the server`, {
      cause: error,
    });
  }
  return toTransportError(origin, error);
}
