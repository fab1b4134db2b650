// A push parser for gzip-compressed tar streams (data.tar.gz, OpenWrt's outer ipk), with limits.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Extract, Header } from 'tar-stream';
import { FormatError } from './errors.js';

/** Receives each entry; the body must be read to its end before the promise settles. */
export type TarEntryHandler = (header: Header, body: AsyncIterable<Buffer>) => Promise<void>;

/** Limits of one tar stream. */
export interface GzipTarLimits {
  /** Uncompressed bytes (a gzip bomb stops here). */
  readonly maxBytes?: number;
  /** Entries, headers included. */
  readonly maxEntries?: number;
}

/**
 * Parses a gzip-compressed tar pushed in chunks: `await write(chunk)` for each, then `await end()`.
 * Errors are `FormatError`s naming `what` (`data.tar.gz`); a handler's own `FormatError` passes
 * through unchanged. A bad header is an error, not the end of the archive.
 */
export class GzipTarParser {
  private readonly gunzip = createGunzip({ chunkSize: 256 * 1024 });
  private readonly extract: Extract;
  private failure: unknown;
  private readonly settled: Promise<void>;
  private bytes = 0;
  private entries = 0;

  constructor(
    private readonly what: string,
    onEntry: TarEntryHandler,
    limits: GzipTarLimits = {},
  ) {
    const maxBytes = limits.maxBytes ?? Number.MAX_SAFE_INTEGER;
    const maxEntries = limits.maxEntries ?? Number.MAX_SAFE_INTEGER;
    this.extract = tarStream().extract();
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.bytes += chunk.length;
        if (this.bytes > maxBytes) {
          callback(new FormatError('WMOPKG_TOO_LARGE', `${what}: more than ${maxBytes} bytes uncompressed`));
          return;
        }
        callback(null, chunk);
      },
    });
    this.extract.on('entry', (header, stream, next) => {
      if (++this.entries > maxEntries) {
        next(new FormatError('WMOPKG_TOO_LARGE', `${what}: more than ${maxEntries} entries`));
        return;
      }
      onEntry(header, stream as AsyncIterable<Buffer>).then(
        () => next(),
        (error: unknown) => next(error as Error),
      );
    });
    const fail = (error: unknown) => {
      this.failure ??= error;
    };
    this.settled = new Promise<void>((resolve) => {
      for (const stream of [this.gunzip, counter, this.extract]) {
        stream.on('error', (error: unknown) => {
          fail(error);
          resolve();
        });
      }
      this.extract.on('finish', resolve);
      this.extract.on('close', resolve);
    });
    this.gunzip.pipe(counter).pipe(this.extract as unknown as NodeJS.WritableStream);
  }

  /** Uncompressed bytes seen so far. */
  get uncompressedBytes(): number {
    return this.bytes;
  }

  async write(chunk: Buffer): Promise<void> {
    this.raise();
    if (!this.gunzip.write(chunk)) await Promise.race([once(this.gunzip, 'drain'), this.settled]);
    this.raise();
  }

  async end(): Promise<void> {
    this.raise();
    this.gunzip.end();
    await this.settled;
    this.raise();
  }

  /** Stops parsing (the caller gave up); no error is raised afterwards. */
  destroy(): void {
    this.gunzip.destroy();
    this.extract.destroy();
  }

  private raise(): void {
    const error = this.failure;
    if (error === undefined) return;
    if (error instanceof FormatError) throw error;
    throw new FormatError('WMOPKG_CORRUPT', `${this.what}: ${(error as Error).message}`);
  }
}

let tarStreamModule: typeof import('tar-stream') | undefined;
/** tar-stream, loaded on first use (the shell's startup never needs it). */
export function tarStream(): typeof import('tar-stream') {
  tarStreamModule ??= createRequire(import.meta.url)('tar-stream') as typeof import('tar-stream');
  return tarStreamModule;
}
