// A tighter per-block loop for the tftp package's client: the ACK leaves at once, one reusable timer, and
// the loop stays awake for a fast server's next block.
import type { Socket } from 'node:dgram';
import { availableParallelism } from 'node:os';
import type { GetStream } from 'tftp';
import { monotonicMs } from '../common/clock.js';

/**
 * The parts of tftp 0.1.2's client request (`get._reader`) that run once per block. Internal: pinned by
 * the exact version in package.json and checked by `tightenHotPath`, which leaves the request alone when
 * they are not as expected.
 */
interface TftpRequest {
  _socket: Socket | null;
  _address: string;
  _port: number;
  _retries: number;
  _timeout: number;
  _closed: boolean;
  _closing: boolean;
  _readerTimer: Retransmitter;
  _send(buffer: Buffer, callback?: () => void): void;
  _sendAck(block: number): void;
  _onMessage(buffer: Buffer): void;
  _close(error?: Error): void;
}

/** The library's retransmission timer interface. */
interface Retransmitter {
  reset(): void;
  start(retransmit: () => void): void;
}

/** TFTP's ACK opcode (RFC 1350). */
const OPCODE_ACK = 4;

/** The library's timeout error text; transports/tftp.ts recognises it. */
const TIMED_OUT = 'Timed out';

/**
 * tftp 0.1.2 spends most of a lock-step transfer waiting, and part of that wait is its own doing:
 * - every packet goes out through `dgram.send(…, port, address)`, which resolves the address first and
 *   sends on a later tick, so the ACK of a block leaves only after the block has gone all the way
 *   through the stream, the guard and the reader; the server sits idle meanwhile. Once the server's
 *   transfer port is known (its first packet), the socket is connected to it and packets go out at
 *   once, before the data is handed on (the kernel then also drops datagrams from anyone else);
 * - every block clears one timer and creates another (the retransmission timer); here one timer is
 *   created once and refreshed;
 * - every ACK is built with the deprecated `new Buffer()`, which checks for a deprecation each time;
 * - after each ACK the process went to sleep until the next block, and waking it up again cost more than
 *   the server took to answer (see BlockPoller).
 * Behaviour is unchanged: same packets, same retransmission interval and retry count, same errors.
 * Returns whether the request had the expected shape (if not, nothing was changed).
 */
export function tightenHotPath(get: GetStream): boolean {
  const request = (get as unknown as { _reader?: Partial<TftpRequest> })._reader;
  if (
    !request ||
    typeof request._send !== 'function' ||
    typeof request._sendAck !== 'function' ||
    typeof request._onMessage !== 'function' ||
    typeof request._close !== 'function' ||
    typeof request._readerTimer?.start !== 'function'
  ) {
    return false;
  }
  const req = request as TftpRequest;
  const onMessage = req._onMessage;
  const send = req._send;
  // The socket connected to the server's port; the library may open a second socket (a retry without
  // options), which is then connected on its own first packet.
  let connected: Socket | null = null;
  let connecting: Socket | null = null;
  const poller = new BlockPoller(() => req._closed || req._closing);

  req._onMessage = function (this: TftpRequest, buffer: Buffer): void {
    poller.arrived();
    onMessage.call(this, buffer);
    const socket = this._socket;
    // The library took the server's address and port from the first packet before calling here. The
    // connection is asked for only after the library's answer to that packet went out its own way:
    // a send that names an address must not meet an already connected socket (libuv refuses it).
    if (socket && connecting !== socket && !this._closed && !this._closing) {
      connecting = socket;
      try {
        socket.connect(this._port, this._address, (error?: Error) => {
          if (!error && this._socket === socket) connected = socket;
        });
      } catch {
        // Closing under our feet: keep sending the library's way.
      }
    }
  };

  req._send = function (this: TftpRequest, buffer: Buffer, callback?: () => void): void {
    const socket = this._socket;
    if (socket !== null && socket === connected) {
      if (this._closed || this._closing) return;
      socket.send(buffer, callback);
      return;
    }
    send.call(this, buffer, callback);
  };

  req._sendAck = function (this: TftpRequest, block: number): void {
    const ack = Buffer.allocUnsafe(4);
    ack.writeUInt16BE(OPCODE_ACK, 0);
    ack.writeUInt16BE(block, 2);
    this._send(ack);
    poller.sent();
  };

  req._readerTimer = new RefreshingRetransmitter(req);
  return true;
}

/**
 * The library's retransmitter (`reset()` then `start(fn)` for every block: a clearTimeout and a new
 * setTimeout each time) with one timer that is refreshed. Same behaviour: after `timeout` ms without a
 * new `start`, `fn` runs, up to `retries` times, then the request fails with "Timed out".
 */
class RefreshingRetransmitter implements Retransmitter {
  readonly #request: TftpRequest;
  #timer: NodeJS.Timeout | undefined;
  #retransmit: (() => void) | undefined;
  #left: number;

  constructor(request: TftpRequest) {
    this.#request = request;
    this.#left = request._retries;
  }

  reset(): void {
    this.#retransmit = undefined;
    this.#left = this.#request._retries;
    // The timer stays for the next start(); once the request is over it is cleared.
    if (this.#request._closed || this.#request._closing) this.#clear();
  }

  start(retransmit: () => void): void {
    this.#retransmit = retransmit;
    if (this.#timer) this.#timer.refresh();
    else this.#timer = setTimeout(() => this.#fire(), this.#request._timeout);
  }

  #fire(): void {
    const retransmit = this.#retransmit;
    if (!retransmit || this.#request._closed) {
      this.#clear();
      return;
    }
    if (this.#left === 0) {
      this.#clear();
      this.#request._close(new Error(TIMED_OUT));
      return;
    }
    this.#left -= 1;
    retransmit();
    this.#timer?.refresh();
  }

  #clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * How long, after an ACK, the event loop keeps polling for the next block instead of sleeping; and the
 * longest answer time of the server for which it does so at all.
 */
export const TFTP_POLL_MS = 0.2;

/**
 * Lock-step tftp is a chain of round trips (45,700 for 64 MiB in 1468-byte blocks), and on loopback or
 * a fast LAN the server answers an ACK sooner than a sleeping process wakes up: measured here, a bare
 * client that sleeps in epoll between blocks took 2.9-3.1 s for 64 MiB (curl 2.6-2.8 s), one that keeps
 * polling 1.0-1.3 s, and with less CPU time in all (1.2-1.3 s against 1.5-1.6 s: each sleep and wake-up
 * costs the kernel more than the polling). So after each ACK the loop stays awake for at most
 * TFTP_POLL_MS (each turn of it asks the kernel for ready sockets without waiting), and only while the
 * server's previous answer came within that time: a server further away, a lost block or a slow disk
 * puts the process back to sleeping between blocks until answers are quick again. Never on a single CPU,
 * where polling would take the CPU from the server it waits for (on loopback) or from everything else.
 */
export class BlockPoller {
  readonly #over: () => boolean;
  readonly #clock: PollerClock;
  readonly #enabled: boolean;
  /** Whether the server's last answer came within TFTP_POLL_MS. */
  #quick = true;
  #sentAt: number | undefined;
  #until = 0;
  #polling = false;
  readonly #turn = (): void => {
    if (!this.#over() && this.#clock.now() < this.#until) this.#clock.next(this.#turn);
    else this.#polling = false;
  };

  /** `over` says when the request has ended; `clock` and `cpus` are for tests. */
  constructor(over: () => boolean, clock: PollerClock = LOOP_CLOCK, cpus = availableParallelism()) {
    this.#over = over;
    this.#clock = clock;
    this.#enabled = cpus > 1;
  }

  /** Whether the event loop is being kept awake. */
  get polling(): boolean {
    return this.#polling;
  }

  /** An ACK went out: the next block is due. */
  sent(): void {
    if (!this.#enabled) return;
    this.#sentAt = this.#clock.now();
    if (!this.#quick) return;
    this.#until = this.#sentAt + TFTP_POLL_MS;
    if (!this.#polling) {
      this.#polling = true;
      this.#clock.next(this.#turn);
    }
  }

  /** A packet came from the server. */
  arrived(): void {
    if (this.#sentAt !== undefined) this.#quick = this.#clock.now() - this.#sentAt <= TFTP_POLL_MS;
  }
}

/** Time in ms, and a way to run a function on the next turn of the event loop. */
export interface PollerClock {
  now(): number;
  next(fn: () => void): void;
}

const LOOP_CLOCK: PollerClock = { now: () => monotonicMs(), next: (fn) => setImmediate(fn) };
