// Reading files of a feed: into memory with a cap, gzip inflated with a cap, and where a package came from.
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { feedFilePath, parseFeedUrl } from '../../common/feed-url.js';
import type { FeedConfig, PackageOrigin } from '../api.js';
import { FeedError } from '../feeds/index.js';

const inflate = promisify(gunzip);

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

/** Inflates `Packages.gz`; corrupt data is `FEED_BAD_INDEX`, more than `max` bytes (a gzip bomb) `FEED_TOO_LARGE`. */
export async function inflateIndex(bytes: Buffer, max: number): Promise<Buffer> {
  try {
    return await inflate(bytes, { maxOutputLength: max });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new FeedError('FEED_TOO_LARGE', `Packages.gz inflates to more than ${max} bytes`);
    }
    throw new FeedError('FEED_BAD_INDEX', `Packages.gz: not valid gzip data (${(error as Error).message})`);
  }
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
