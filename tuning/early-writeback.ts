// Write-back started while a file is still being written, so that its final fsync waits for the tail only.
//
// Linux keeps written pages in memory until dirty pages reach a share of RAM (10 % here: 2.4 GB) or
// are 30 s old: a 512 MiB download was written to the page cache, and the whole of it went to the
// disk only at the install's fsync, after the last byte had arrived — receiving and writing to disk
// took turns instead of overlapping. An fdatasync in the background every WRITEBACK_EVERY bytes keeps
// the disk busy during the download. It adds no durability the install relies on: the fsync before
// the commit stays where it was. The measurement is in docs/transports.md ("Speed");
// test/tuning/early-writeback.test.ts checks that write-back starts, and that an error reaches `settled`.
import type { FileHandle } from 'node:fs/promises';

/** Bytes written between two background flushes. */
export const WRITEBACK_EVERY = 16 * 1024 * 1024;

/**
 * Starts an fdatasync of the file in the background every `every` bytes written (one at a time; the
 * writes go on meanwhile, on other threads of libuv's pool).
 */
export class EarlyWriteback {
  readonly #handle: FileHandle;
  readonly #every: number;
  #since = 0;
  #flushing: Promise<void> | undefined;
  #failure: unknown;
  /** Flushes started so far. */
  started = 0;

  constructor(handle: FileHandle, every = WRITEBACK_EVERY) {
    this.#handle = handle;
    this.#every = every;
  }

  /** Counts bytes just written; starts a flush when enough have gathered and none is running. */
  wrote(bytes: number): void {
    this.#since += bytes;
    if (this.#since < this.#every || this.#flushing || this.#failure !== undefined) return;
    this.#since = 0;
    this.started++;
    this.#flushing = this.#handle.datasync().then(
      () => {
        this.#flushing = undefined;
      },
      (error: unknown) => {
        this.#flushing = undefined;
        this.#failure = error;
      },
    );
  }

  /** Waits for the flush in flight, if any; rejects with the error of a failed one. */
  async settled(): Promise<void> {
    if (this.#flushing) await this.#flushing;
    if (this.#failure !== undefined) throw this.#failure;
  }
}
