// Bounds the opening of a transfer (connect, handshake, login, request) by the connect timeout and the abort signal.

import { monotonicMs } from '../common/clock.js';
import { abortedError, TransportError } from './errors.js';
import { formatSeconds } from './guard.js';
import type { TransportContext } from './types.js';

/**
 * One opening: `run` races the work against the connect timeout and `ctx.signal`; when either wins, `close`
 * tears the half-open connection down and `run` rejects with `TRANSPORT_CONNECT_TIMEOUT` or
 * `TRANSPORT_ABORTED`. Time spent in `ask` (a password prompt, a host key question) does not count: an
 * operator reading a fingerprint is not a slow server.
 *
 * With `ctx.reachTimeoutMs` (set by a fallback policy), the server must also show within that time that
 * it is there — the transport calls `reached()` when it has (for ftp: the greeting) — or the opening
 * fails the same way, so that the next protocol is tried in seconds rather than after the whole
 * connect timeout.
 */
export class OpenPhase {
  readonly #ctx: Pick<TransportContext, 'connectTimeoutMs' | 'reachTimeoutMs' | 'signal'>;
  readonly #origin: string;
  readonly #close: () => void;
  #remaining: number;
  /** Time left for the server to show it is there; infinite once it has, or without a reach timeout. */
  #reachRemaining: number;
  #since = 0;
  #timer: NodeJS.Timeout | undefined;
  #fail: ((error: TransportError) => void) | undefined;
  #settled = false;
  #asking = 0;
  #failed = false;

  constructor(
    ctx: Pick<TransportContext, 'connectTimeoutMs' | 'reachTimeoutMs' | 'signal'>,
    origin: string,
    close: () => void,
  ) {
    this.#ctx = ctx;
    this.#origin = origin;
    this.#close = close;
    this.#remaining = ctx.connectTimeoutMs;
    this.#reachRemaining =
      ctx.reachTimeoutMs !== undefined && ctx.reachTimeoutMs < ctx.connectTimeoutMs
        ? ctx.reachTimeoutMs
        : Number.POSITIVE_INFINITY;
  }

  /** The server has shown that it is there (connected and, where it speaks first, greeted). */
  reached(): void {
    if (this.#reachRemaining === Number.POSITIVE_INFINITY) return;
    this.#reachRemaining = Number.POSITIVE_INFINITY;
    if (this.#timer !== undefined) {
      this.#stop();
      this.#start();
    }
  }

  /** Whether the phase already failed (timed out or aborted); work still running should stop. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Runs `work` under the deadline and the signal. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const signal = this.#ctx.signal;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => this.#failWith(abortedError(this.#origin));
      const finish = () => {
        this.#settled = true;
        this.#fail = undefined;
        this.#stop();
        signal?.removeEventListener('abort', onAbort);
      };
      this.#fail = (error) => {
        this.#failed = true;
        finish();
        try {
          this.#close();
        } finally {
          reject(error);
        }
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#start();
      work().then(
        (value) => {
          if (this.#settled) return;
          finish();
          resolve(value);
        },
        (error: unknown) => {
          if (this.#settled) return;
          finish();
          reject(error);
        },
      );
    });
  }

  /** Waits for the operator; the connect timeout is suspended meanwhile (the abort signal is not). */
  async ask<T>(question: () => Promise<T>): Promise<T> {
    if (this.#asking++ === 0) this.#stop();
    try {
      return await question();
    } finally {
      if (--this.#asking === 0 && !this.#settled) this.#start();
    }
  }

  #failWith(error: TransportError): void {
    this.#fail?.(error);
  }

  #start(): void {
    this.#since = monotonicMs();
    const reach = this.#reachRemaining < this.#remaining;
    const ms = reach ? (this.#ctx.reachTimeoutMs as number) : this.#ctx.connectTimeoutMs;
    this.#timer = setTimeout(
      () =>
        this.#failWith(
          new TransportError(
            'TRANSPORT_CONNECT_TIMEOUT',
            reach
              ? `${this.#origin}: no answer within ${formatSeconds(ms)}`
              : `${this.#origin}: no answer within ${formatSeconds(ms)} (connect timeout)`,
          ),
        ),
      Math.max(0, Math.min(this.#remaining, this.#reachRemaining)),
    );
  }

  #stop(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const spent = monotonicMs() - this.#since;
    this.#remaining -= spent;
    this.#reachRemaining -= spent;
  }
}
