// The guard every transfer stream passes through: size cap, stall timeout, abort, progress, release of sockets.
import { Readable } from 'node:stream';
import { formatBytes } from '../common/bytes.js';
import { monotonicMs } from '../common/clock.js';
import type { RemoteOrigin } from '../common/origin.js';
import { abortedError, TransportError, toTransportError } from './errors.js';
import type { RemoteTransfer, TransferProgress, TransportContext } from './types.js';

/** At most one progress report per this many milliseconds (plus a last one at the end). */
export const PROGRESS_INTERVAL_MS = 200;

/**
 * Bytes buffered between the network and the reader before the source is paused. Large enough that the
 * reader (hash + write) gets big batches, small enough that memory stays flat whatever the file size.
 */
const GUARD_HIGH_WATER_MARK = 512 * 1024;

/** What a transport hands to the guard when it has opened a transfer. */
export interface GuardOptions {
  /** `ftp 192.0.2.1:21`: starts every error message. */
  readonly origin: string;
  /** Size announced by the server, checked against what arrives (never trusted as a limit). */
  readonly size: number | undefined;
  readonly ctx: Pick<TransportContext, 'maxBytes' | 'stallTimeoutMs' | 'signal' | 'onProgress'>;
  /**
   * Closes everything the transfer holds (sockets, channels, handles). Called exactly once, when the
   * stream ends, fails, is aborted or is destroyed by its reader.
   */
  readonly release: () => void;
}

/** Throws `TRANSPORT_TOO_LARGE` when a server announces more than the cap, before a byte is read. */
export function checkAnnouncedSize(origin: string, size: number | undefined, maxBytes: number): void {
  if (size !== undefined && size > maxBytes) {
    throw new TransportError(
      'TRANSPORT_TOO_LARGE',
      `${origin}: file is ${formatBytes(size)}, more than the maximum of ${formatBytes(maxBytes)}`,
    );
  }
}

/**
 * The stream a `Transfer` hands out. A transport feeds it chunks; it counts them against the cap and the
 * announced size, times out a silent server (only while it is the server we are waiting for, not while the
 * reader applies backpressure), ends with `TRANSPORT_ABORTED` when the signal fires, reports progress, and
 * releases the connection exactly once whatever happens. Every error it emits is a `TransportError`.
 */
export class TransferGuard extends Readable {
  readonly #opts: GuardOptions;
  readonly #started = monotonicMs();
  #bytes = 0;
  #done = false;
  #timer: NodeJS.Timeout | undefined;
  #lastProgress = Number.NEGATIVE_INFINITY;
  #onAbort: (() => void) | undefined;
  #pending: TransportError | undefined;
  /** Called when the reader wants more after `feed` returned false. */
  onResume: (() => void) | undefined;

  constructor(opts: GuardOptions) {
    super({ highWaterMark: GUARD_HIGH_WATER_MARK });
    this.#opts = opts;
    const signal = opts.ctx.signal;
    if (signal) {
      this.#onAbort = () => this.fail(abortedError(opts.origin));
      if (signal.aborted) queueMicrotask(this.#onAbort);
      else signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.#arm();
  }

  /** Bytes handed out so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Hands one chunk from the network to the reader. `false`: stop feeding until `onResume` is called. */
  feed(chunk: Buffer): boolean {
    if (this.#done) return false;
    const { origin, size, ctx } = this.#opts;
    this.#bytes += chunk.length;
    if (this.#bytes > ctx.maxBytes) {
      this.fail(
        new TransportError(
          'TRANSPORT_TOO_LARGE',
          `${origin}: transfer exceeds the maximum of ${formatBytes(ctx.maxBytes)}`,
        ),
      );
      return false;
    }
    if (size !== undefined && this.#bytes > size) {
      this.fail(
        new TransportError(
          'TRANSPORT_SIZE_MISMATCH',
          `${origin}: server sent more than the ${formatBytes(size)} it announced`,
        ),
      );
      return false;
    }
    this.#timer?.refresh();
    this.#progress(false);
    const more = this.push(chunk);
    if (!more) this.#disarm();
    return more;
  }

  /** The source reached its end: checks the announced size, then ends the stream. */
  finish(): void {
    if (this.#done) return;
    const { origin, size } = this.#opts;
    if (size !== undefined && this.#bytes < size) {
      this.fail(
        new TransportError(
          'TRANSPORT_TRUNCATED',
          `${origin}: transfer ended after ${this.#bytes} of ${size} bytes`,
        ),
      );
      return;
    }
    this.#settle();
    this.#progress(true);
    this.push(null);
  }

  /**
   * Ends the stream with an error (made a TransportError) and releases the connection at once. If nobody
   * listens for errors yet (the caller has not started reading), the error waits for the first error
   * listener: a transfer that fails between `open()` and its first read must not crash the process.
   */
  fail(error: unknown): void {
    if (this.#done) return;
    this.#settle();
    const failure = toTransportError(this.#opts.origin, error);
    if (this.listenerCount('error') > 0) {
      this.destroy(failure);
      return;
    }
    this.#pending = failure;
    const onListener = (event: string | symbol) => {
      if (event !== 'error') return;
      this.off('newListener', onListener);
      // 'newListener' comes just before the listener is added.
      process.nextTick(() => this.#raisePending());
    };
    this.on('newListener', onListener);
  }

  #raisePending(): void {
    const failure = this.#pending;
    if (!failure || this.listenerCount('error') === 0) return;
    this.#pending = undefined;
    this.destroy(failure);
  }

  override _read(): void {
    if (this.#pending) {
      this.#raisePending();
      return;
    }
    if (this.#done) return;
    this.#arm();
    this.onResume?.();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Destroyed by the reader (a failed pipeline, an early return): the connection still has to go.
    if (!this.#done) this.#settle();
    callback(error);
  }

  #settle(): void {
    this.#done = true;
    this.#disarm();
    if (this.#onAbort) this.#opts.ctx.signal?.removeEventListener('abort', this.#onAbort);
    this.onResume = undefined;
    try {
      this.#opts.release();
    } catch {
      // Closing a socket that is already gone is not worth an error on top of the real one.
    }
  }

  #arm(): void {
    if (this.#done) return;
    if (this.#timer) {
      this.#timer.refresh();
      return;
    }
    const { origin, ctx } = this.#opts;
    this.#timer = setTimeout(() => {
      this.fail(
        new TransportError(
          'TRANSPORT_STALLED',
          `${origin}: no data for ${formatSeconds(ctx.stallTimeoutMs)} after ${this.#bytes} bytes (stall timeout)`,
        ),
      );
    }, ctx.stallTimeoutMs);
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #progress(final: boolean): void {
    const report = this.#opts.ctx.onProgress;
    if (!report) return;
    const now = monotonicMs();
    if (!final && now - this.#lastProgress < PROGRESS_INTERVAL_MS) return;
    this.#lastProgress = now;
    const progress: TransferProgress = Object.freeze({
      bytes: this.#bytes,
      total: this.#opts.size,
      elapsedMs: Math.round(now - this.#started),
    });
    try {
      report(progress);
    } catch {
      // A broken progress display must not break the transfer it displays.
    }
  }
}

/** `10 s`, `250 ms`: timeouts in messages. */
export function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number.isInteger(ms / 1000) ? ms / 1000 : (ms / 1000).toFixed(1)} s`;
}

/**
 * Guards a Readable source: its data, end and errors go through a `TransferGuard`, backpressure pauses it.
 * `describe` turns the source's own errors into operator's words. A source destroyed before its end (a
 * dropped connection) fails the transfer as truncated.
 */
export function guardReadable(
  source: Readable,
  opts: GuardOptions & {
    /** The server the transfer comes from, as the `Transfer` returns it (`endpointOf`). */
    readonly endpoint: RemoteOrigin;
    readonly describe?: (error: unknown) => TransportError;
  },
): RemoteTransfer {
  const guard = new TransferGuard(opts);
  const describe = opts.describe ?? ((error: unknown) => toTransportError(opts.origin, error));
  guard.onResume = () => source.resume();
  source.on('data', (chunk: Buffer) => {
    if (!guard.feed(chunk)) source.pause();
  });
  source.once('end', () => guard.finish());
  source.on('error', (error) => guard.fail(describe(error)));
  source.once('close', () => {
    // An 'error' is emitted before 'close'; let it win. A source destroyed without either was cut off.
    setImmediate(() => {
      if (source.readableAborted) {
        guard.fail(
          new TransportError(
            'TRANSPORT_TRUNCATED',
            `${opts.origin}: connection closed after ${guard.bytes} bytes`,
          ),
        );
      }
    });
  });
  return { stream: guard, size: opts.size, origin: opts.endpoint };
}
