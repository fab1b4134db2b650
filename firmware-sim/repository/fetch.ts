// Reading files of a feed: into memory with a cap, gzip inflated with a cap, and where a package came from.
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { feedFilePath, parseFeedUrl } from '../../common/feed-url.js';
import { collectYoungGarbage } from '../../tuning/young-gc.js';
import type { FeedConfig, PackageOrigin } from '../api.js';
import { FeedError } from '../feeds/index.js';

/** Reads a stream to its end; more than `max` bytes is `FEED_TOO_LARGE` naming `what`. */
export async function readAll(stream: Readable, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > max) throw new FeedError('FEED_TOO_LARGE', `${what} is larger than ${max} bytes`);
      chunks.push(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, size);
}

/** How much inflated output between two scavenges. */
const COLLECT_EVERY = 2 * 1024 * 1024;

/**
 * Inflates `Packages.gz`; corrupt data is `FEED_BAD_INDEX`, more than `max` bytes (a gzip bomb)
 * `FEED_TOO_LARGE`. The output goes into one buffer of the size the gzip trailer announces, piece by
 * piece as zlib gives it: zlib's own gunzip keeps every piece and then copies them into one buffer,
 * two copies of a 10 MB index at the peak of an update. A trailer that does not tell the size (a
 * file of several gzip members, a size over `max`) falls back to collecting the pieces.
 */
export async function inflateIndex(bytes: Buffer, max: number): Promise<Buffer> {
  const announced = bytes.length >= 18 ? bytes.readUInt32LE(bytes.length - 4) : 0;
  let out = announced > 0 && announced <= max ? Buffer.allocUnsafeSlow(announced) : undefined;
  let filled = 0;
  const pieces: Buffer[] = [];
  let size = 0;
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  try {
    gunzip.end(bytes);
    for await (const chunk of gunzip) {
      const piece = chunk as Buffer;
      size += piece.length;
      // Each piece is a buffer of its own that V8 frees only at a collection (tuning/young-gc.ts).
      if (size % COLLECT_EVERY < piece.length) collectYoungGarbage();
      if (size > max) throw new FeedError('FEED_TOO_LARGE', `Packages.gz inflates to more than ${max} bytes`);
      if (out !== undefined && filled + piece.length <= out.length) {
        piece.copy(out, filled);
        filled += piece.length;
        continue;
      }
      if (out !== undefined) {
        pieces.push(out.subarray(0, filled));
        out = undefined;
      }
      pieces.push(piece);
    }
  } catch (error) {
    if (error instanceof FeedError) throw error;
    throw new FeedError('FEED_BAD_INDEX', `Packages.gz: not valid gzip data (${(error as Error).message})`);
  } finally {
    gunzip.destroy();
  }
  if (out !== undefined) return filled === out.length ? out : out.subarray(0, filled);
  return Buffer.concat(pieces, size);
}

/** Where a file of a feed comes from, as the store records it (the port the URL names, or the default). */
export function feedOrigin(
  feed: FeedConfig,
  path: string,
  defaultPorts: Readonly<Record<string, number>>,
): PackageOrigin {
  const url = parseFeedUrl(feed.url);
  const full = feedFilePath(url, path);
  if (url.kind === 'media') return { kind: 'media', label: url.label, path: full };
  return {
    kind: 'remote',
    proto: url.proto,
    host: url.host,
    port: url.port ?? defaultPorts[url.proto]!,
    path: full,
  };
}
