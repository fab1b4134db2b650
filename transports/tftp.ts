// tftp with the tftp package: octet mode, blksize 1468 negotiated (512 when the server does not take it), no credentials.

import { lookup } from 'node:dns/promises';
import { Readable } from 'node:stream';
import tftp, { type GetStream, type Client as TftpClient, type TftpStats } from 'tftp';
import { oneLine } from '../common/text.js';
import { tightenHotPath } from '../tuning/tftp-hot-path.js';
import { endpointOf, originOf, portOf } from './address.js';
import { abortedError, TransportError, toTransportError } from './errors.js';
import { checkAnnouncedSize, guardReadable } from './guard.js';
import { OpenPhase } from './open-phase.js';
import type { RemoteSource, RemoteTransfer, Transport, TransportContext } from './types.js';

/** The largest block that fits an Ethernet frame without IP fragmentation (RFC 2348's usual choice). */
const TFTP_BLOCK_SIZE = 1468;

/** Retransmission interval: a lost packet costs this long on a LAN. */
const RETRANSMIT_MS = 1000;

/** tftp: one RRQ, lock-step DATA/ACK (window 1: tftpd-hpa ignores windowsize and the library's recovery of lost windows is unreliable). */
export const tftpTransport: Transport = { name: 'tftp', open: openTftp };

async function openTftp(source: RemoteSource, ctx: TransportContext): Promise<RemoteTransfer> {
  const origin = originOf(source, ctx);
  const describe = (error: unknown) => describeTftpError(origin, source.path, error);
  let get: GetStream | undefined;
  const phase = new OpenPhase(ctx, origin, () => get?.abort());
  let size: number | undefined;
  let stream: GetStream;
  try {
    // 'stats' comes with the server's OACK (or its first DATA block when it ignores options); a missing
    // file is an ERROR packet before that.
    let stats: TftpStats;
    [stream, stats] = await phase.run(async () => {
      // The library resolves a name itself and fails on one that does not exist with a TypeError of
      // its own; a name is resolved here first, so that the operator reads "host name not found".
      const { address } = await lookup(source.host);
      if (phase.failed) throw abortedError(origin);
      const opened = requestFile(address, source, ctx, origin);
      get = opened;
      return new Promise<[GetStream, TftpStats]>((resolve, reject) => {
        opened.once('stats', (stats: TftpStats) => resolve([opened, stats]));
        opened.once('error', reject);
      });
    });
    size = stats.size ?? undefined;
    checkAnnouncedSize(origin, size, ctx.maxBytes);
  } catch (error) {
    get?.abort();
    throw describe(error);
  }
  // Do not pipeline() the library's stream: it emits 'close' before 'end'. JoinedBlocks listens to its
  // data/end/error only.
  const blocks = new JoinedBlocks(stream);
  return guardReadable(blocks, {
    origin,
    endpoint: endpointOf(source, ctx),
    size,
    ctx,
    release: () => stream.abort(),
    describe: (error) => describeTftpError(origin, source.path, error, blocks.received > 0),
  });
}

/** A client for one address and its read request (RRQ). */
function requestFile(
  address: string,
  source: RemoteSource,
  ctx: TransportContext,
  origin: string,
): GetStream {
  const client = tftp.createClient({
    host: address,
    port: portOf(source, ctx),
    blockSize: TFTP_BLOCK_SIZE,
    windowSize: 1,
    timeout: RETRANSMIT_MS,
    // The library gives up after this many silent intervals; roughly the stall timeout.
    retries: Math.max(3, Math.ceil(ctx.stallTimeoutMs / RETRANSMIT_MS)),
  });
  dropTimeoutOption(client);
  try {
    const get = client.createGetStream(source.path, { highWaterMark: 256 * 1024 });
    tightenHotPath(get);
    return get;
  } catch (error) {
    // The library refuses names it cannot send (`..` first, non-ASCII).
    throw new TransportError(
      'TRANSPORT_BAD_SOURCE',
      `${origin}: cannot request "${source.path}": ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** tftp blocks are joined into chunks of about this size before they go on (see JoinedBlocks). */
const TFTP_CHUNK_BYTES = 64 * 1024;

/** A partly filled chunk goes on after this long, so that a slow server's bytes still flow at once. */
const PARTIAL_CHUNK_MS = 20;

/**
 * The library hands out every block (1468 bytes) as its own chunk; tens of thousands of chunks cost the
 * guard and the install more than their bytes do. This Readable copies the blocks into chunks of
 * TFTP_CHUNK_BYTES (a partial one goes on after PARTIAL_CHUNK_MS, and at the end) and passes the end and
 * errors through. Backpressure pauses the library's stream, as before (the library itself keeps
 * acknowledging; tftp has no other way to slow a server down than not to answer).
 */
class JoinedBlocks extends Readable {
  readonly #get: GetStream;
  /** Bytes received from the library so far (some may still wait in the partial chunk). */
  received = 0;
  #chunk = Buffer.allocUnsafe(TFTP_CHUNK_BYTES);
  #used = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(get: GetStream) {
    super({ highWaterMark: 4 * TFTP_CHUNK_BYTES });
    this.#get = get;
    get.on('data', (block: Buffer) => this.#add(block));
    get.once('end', () => {
      this.#flush();
      this.#stopTimer();
      this.push(null);
    });
    get.on('error', (error: Error) => {
      this.#stopTimer();
      this.destroy(error);
    });
  }

  override _read(): void {
    this.#get.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stopTimer();
    callback(error);
  }

  #add(block: Buffer): void {
    if (this.destroyed) return;
    this.received += block.length;
    if (block.length > this.#chunk.length - this.#used) this.#flush();
    if (block.length > this.#chunk.length) {
      this.#pass(block);
      return;
    }
    block.copy(this.#chunk, this.#used);
    this.#used += block.length;
    if (this.#chunk.length - this.#used < block.length) this.#flush();
    else if (this.#timer) this.#timer.refresh();
    else this.#timer = setTimeout(() => this.#flush(), PARTIAL_CHUNK_MS);
  }

  #flush(): void {
    this.#stopTimer();
    if (this.#used === 0 || this.destroyed) return;
    const full = this.#chunk.subarray(0, this.#used);
    this.#chunk = Buffer.allocUnsafe(TFTP_CHUNK_BYTES);
    this.#used = 0;
    this.#pass(full);
  }

  #pass(chunk: Buffer): void {
    if (!this.push(chunk)) this.#get.pause();
  }

  #stopTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
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
