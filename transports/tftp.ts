// tftp with the tftp package: octet mode, blksize 1468 negotiated (512 when the server does not take it), no credentials.
import tftp, { type GetStream, type Client as TftpClient, type TftpStats } from 'tftp';
import { originOf, portOf } from './address.js';
import { oneLine, TransportError, toTransportError } from './errors.js';
import { checkAnnouncedSize, guardReadable, type TransferGuard } from './guard.js';
import { OpenPhase } from './open-phase.js';
import type { RemoteSource, Transfer, Transport, TransportContext } from './types.js';

/** The largest block that fits an Ethernet frame without IP fragmentation (RFC 2348's usual choice). */
export const TFTP_BLOCK_SIZE = 1468;

/** Retransmission interval: a lost packet costs this long on a LAN. */
const RETRANSMIT_MS = 1000;

/** tftp: one RRQ, lock-step DATA/ACK (window 1: tftpd-hpa ignores windowsize and the library's recovery of lost windows is unreliable). */
export const tftpTransport: Transport = { name: 'tftp', open: openTftp };

async function openTftp(source: RemoteSource, ctx: TransportContext): Promise<Transfer> {
  const origin = originOf(source, ctx);
  const client = tftp.createClient({
    host: source.host,
    port: portOf(source, ctx),
    blockSize: TFTP_BLOCK_SIZE,
    windowSize: 1,
    timeout: RETRANSMIT_MS,
    // The library gives up after this many silent intervals; roughly the stall timeout.
    retries: Math.max(3, Math.ceil(ctx.stallTimeoutMs / RETRANSMIT_MS)),
  });
  dropTimeoutOption(client);
  const describe = (error: unknown) => describeTftpError(origin, source.path, error);

  let get: GetStream;
  try {
    get = client.createGetStream(source.path, { highWaterMark: 256 * 1024 });
  } catch (error) {
    // The library refuses names it cannot send (`..` first, non-ASCII).
    throw new TransportError(
      'TRANSPORT_BAD_SOURCE',
      `${origin}: cannot request "${source.path}": ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const phase = new OpenPhase(ctx, origin, () => get.abort());
  let size: number | undefined;
  try {
    // 'stats' comes with the server's OACK (or its first DATA block when it ignores options); a missing
    // file is an ERROR packet before that.
    const stats = await phase.run(
      () =>
        new Promise<TftpStats>((resolve, reject) => {
          get.once('stats', resolve);
          get.once('error', reject);
        }),
    );
    size = stats.size ?? undefined;
    checkAnnouncedSize(origin, size, ctx.maxBytes);
  } catch (error) {
    get.abort();
    throw describe(error);
  }
  // Do not pipeline() this stream: it emits 'close' before 'end'. guardReadable listens to data/end/error
  // and only treats a destroyed (aborted) stream as cut off.
  const transfer: Transfer = guardReadable(get, {
    origin,
    size,
    ctx,
    release: () => get.abort(),
    describe: (error) =>
      describeTftpError(origin, source.path, error, (transfer.stream as TransferGuard).bytes > 0),
  });
  return transfer;
}

/**
 * tftp 0.1.2 sends its retransmission timeout (ms) as the RFC 2349 `timeout` option, which is in seconds
 * (1-255): tftpd-hpa then refuses the options and the transfer drops to 512-byte blocks, or a server that
 * accepts it retransmits after minutes (gagle/node-tftp#10). The option is not needed, so it is not sent;
 * the library keeps using the value for its own timer.
 */
function dropTimeoutOption(client: TftpClient): void {
  const options = client._options;
  const value = options?.extensionsString?.timeout;
  if (value === undefined) return;
  delete options.extensionsString.timeout;
  options.extensionsLength -= 'timeout'.length + 1 + value.length + 1;
}

/** Operator's words for the library's errors and the server's ERROR packets (the numeric code is lost there). */
function describeTftpError(
  origin: string,
  path: string,
  error: unknown,
  midTransfer = false,
): TransportError {
  if (error instanceof TransportError) return error;
  const text = (error instanceof Error ? error.message : String(error)).replace(/^\(Server\)\s*/, '');
  const say = (code: TransportError['code'], what: string) =>
    new TransportError(code, `${origin}: ${what}`, { cause: error });
  if (midTransfer && !/^timed out/i.test(text)) {
    return say('TRANSPORT_TRUNCATED', `transfer broke off (server: ${oneLine(text, 120)})`);
  }
  if (/file not found|no such file/i.test(text)) return say('TRANSPORT_NOT_FOUND', `file not found: ${path}`);
  if (/access violation|permission denied/i.test(text)) {
    return say('TRANSPORT_ACCESS_DENIED', `access denied: ${path}`);
  }
  if (/^timed out/i.test(text)) return say('TRANSPORT_STALLED', 'no answer from the server (timed out)');
  if (/cannot resolve/i.test(text)) return say('TRANSPORT_CONNECT', 'host name not found');
  const system = toTransportError(origin, error);
  if (system.code !== 'TRANSPORT_PROTOCOL') return system;
  return say('TRANSPORT_PROTOCOL', `server error: ${oneLine(text, 120)}`);
}
