// A Readable over an open SFTP handle with several READ requests in flight, delivered in file order.
import { Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';

/** READ requests per block: with OpenSSH's 255 KiB reads, a block is about 1 MiB. */
export const SFTP_BLOCK_READS = 4;

/**
 * Blocks kept in flight: 16 blocks are 64 requests, about 16 MiB. Fewer cost speed although the SSH
 * channel window is only 2 MiB (OpenSSH's internal-sftp reads ahead for the queued requests): measured
 * on loopback, 512 MiB took 1.2-1.6 s with 16 MiB in flight, 1.7-1.9 s with 8 MiB and 2.1-3.1 s with
 * 4 MiB. The price is the memory of the buffers waiting for their answers.
 */
export const SFTP_BLOCKS_IN_FLIGHT = 16;

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
 * a block when all of its requests are answered: chunks of about 1 MiB, which the reader takes as they
 * are (no joining copy), in file order. New blocks are asked for only while the reader wants data
 * (backpressure). A short read is completed by another request; the stream ends at the server's end of
 * file (never at an announced size, which the guard checks).
 */
export class SftpReader extends Readable {
  readonly #sftp: SFTPWrapper;
  readonly #handle: Buffer;
  readonly #chunk: number;
  readonly #depth: number;
  readonly #queue: Block[] = [];
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
      buffer: Buffer.allocUnsafe(length),
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
      if (end > 0)
        this.#wanted = this.push(end === head.buffer.length ? head.buffer : head.buffer.subarray(0, end));
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
