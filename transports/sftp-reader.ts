// A Readable over an open SFTP handle with several READ requests in flight, delivered in file order.
import { Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import { lend } from '../common/lent.js';

/** READ requests per block: with OpenSSH's 255 KiB reads, a block is about 1 MiB. */
const SFTP_BLOCK_READS = 4;

/**
 * Blocks kept in flight: 4 blocks are 16 requests, about 4 MiB, twice the SSH channel window (2 MiB), so
 * that the server always has the next requests queued while the window is refilled. Measured on loopback
 * (socket without Nagle's delay, see sendWithoutDelay), 512 MiB took 1.5-1.6 s with 2 blocks, 1.3-1.4 s
 * with 4, and no less with 8 or 16; each block more costs 1 MiB of buffers waiting for their answers.
 */
const SFTP_BLOCKS_IN_FLIGHT = 4;

/** One contiguous range of the file, read by several requests into one buffer. */
interface Block {
  readonly position: number;
  readonly buffer: Buffer;
  /** Requests not answered yet (a short read adds one for the rest). */
  pending: number;
  /** File offset where the server said end of file, if it did within this block. */
  eofAt: number | undefined;
  error: Error | undefined;
}

/**
 * ssh2's own ReadStream waits for each READ before sending the next, which makes a loopback transfer
 * about eight times slower than OpenSSH's. This one keeps several blocks in flight, each read by
 * `SFTP_BLOCK_READS` requests of the server's maximum read size straight into one buffer, and hands out
 * a block when all of its requests are answered: chunks of about 1 MiB, which the install takes as they
 * are (no joining copy), in file order. New blocks are asked for only while the reader wants data
 * (backpressure). A short read is completed by another request; the stream ends at the server's end of
 * file (never at an announced size, which the guard checks).
 *
 * Blocks are lent (transports/lent.ts): the install gives each one back once it is hashed and written,
 * and its buffer reads a later block. Fresh buffers for every block lived through 4 MiB of transfer in
 * flight, long enough for the install's scavenges (collectYoungGarbage) to move them to V8's old
 * generation, where they piled up until a full collection (so sftp's blocks could not count toward
 * those scavenges, and the decrypted SSH packets piled up too). Measured on a 512 MiB install: peak RSS
 * 112-129 MiB with fresh blocks, 105-112 MiB handing out copies of reused blocks (one memcpy of the
 * file), 95-101 MiB lending them, at the speed of the first.
 */
export class SftpReader extends Readable {
  readonly #sftp: SFTPWrapper;
  readonly #handle: Buffer;
  readonly #chunk: number;
  readonly #depth: number;
  readonly #queue: Block[] = [];
  /** Block buffers given back by the reader (see `lend`), for the next blocks. */
  readonly #free: Buffer[] = [];
  #next = 0;
  #eof = false;
  #wanted = false;

  constructor(sftp: SFTPWrapper, handle: Buffer, depth = SFTP_BLOCKS_IN_FLIGHT) {
    super({ highWaterMark: 1024 * 1024 });
    this.#sftp = sftp;
    this.#handle = handle;
    // The server's limit as ssh2 learnt it (limits@openssh.com); larger reads would be split and serialised.
    const max = (sftp as unknown as { _maxReadLen?: number })._maxReadLen;
    this.#chunk = typeof max === 'number' && max > 0 ? max : 32 * 1024;
    this.#depth = depth;
  }

  override _read(): void {
    this.#wanted = true;
    this.#deliver();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#eof = true;
    this.#queue.length = 0;
    callback(error);
  }

  /** Asks for the next block of the file. */
  #requestBlock(): void {
    const length = this.#chunk * SFTP_BLOCK_READS;
    const block: Block = {
      position: this.#next,
      // Shared memory: the install's hashing thread reads and writes a block in place (no copy).
      buffer: this.#free.pop() ?? Buffer.from(new SharedArrayBuffer(length)),
      pending: 0,
      eofAt: undefined,
      error: undefined,
    };
    this.#next += length;
    this.#queue.push(block);
    for (let offset = 0; offset < length; offset += this.#chunk) this.#read(block, offset, this.#chunk);
  }

  /** Reads `length` bytes at `offset` of the block into its buffer. */
  #read(block: Block, offset: number, length: number): void {
    block.pending += 1;
    const position = block.position + offset;
    this.#sftp.read(this.#handle, block.buffer, offset, length, position, (error, bytes) => {
      block.pending -= 1;
      if (error) block.error ??= error;
      else if (bytes === 0) block.eofAt = Math.min(block.eofAt ?? position, position);
      else if (bytes < length && !this.destroyed) this.#read(block, offset + bytes, length - bytes);
      if (block.pending === 0) this.#deliver();
    });
  }

  #deliver(): void {
    while (this.#wanted && !this.destroyed) {
      const head = this.#queue[0];
      if (!head) break;
      if (head.pending > 0) return;
      this.#queue.shift();
      if (head.error) {
        this.destroy(head.error);
        return;
      }
      const end = head.eofAt === undefined ? head.buffer.length : head.eofAt - head.position;
      // Lent (see the class comment): its buffer reads a later block once the reader gives it back.
      const buffer = head.buffer;
      const chunk = end === buffer.length ? buffer : buffer.subarray(0, end);
      if (end > 0) this.#wanted = this.push(lend(chunk, () => this.#free.push(buffer)));
      if (head.eofAt !== undefined) {
        // End of file: later blocks can only say so too.
        this.#eof = true;
        this.#queue.length = 0;
        this.push(null);
        return;
      }
    }
    if (this.#wanted) {
      while (!this.#eof && this.#queue.length < this.#depth) this.#requestBlock();
    }
  }
}
