// `etc/wmopkg/feeds`: the configured feeds, as the package context's `feed` commands, one per line.
import { readFile } from 'node:fs/promises';
import { formatFeedUrl, isFeedName, parseFeedUrl } from '../../common/feed-url.js';
import { shown } from '../../common/text.js';
import type { FeedConfig } from '../api.js';
import { DeviceError } from '../errors.js';

/** Where messages say the feed configuration lives. */
const FEEDS_FILE_NAME = 'etc/wmopkg/feeds';

/** The configured feeds, in order, and the lines that could not be read. */
export interface StoredFeeds {
  readonly feeds: readonly FeedConfig[];
  /** `etc/wmopkg/feeds line 3: …; ignored`. */
  readonly problems: readonly string[];
}

/**
 * A feed's configuration checked against the rules: its name, and its URL (no password in it). The
 * URL comes back as `formatFeedUrl` writes it. Throws `DEVICE_BAD_FEED`.
 */
export function checkFeed(feed: FeedConfig): FeedConfig {
  if (!isFeedName(feed.name)) {
    throw new DeviceError('DEVICE_BAD_FEED', `bad feed name "${shown(feed.name)}"`);
  }
  try {
    return { ...feed, url: formatFeedUrl(parseFeedUrl(feed.url)) };
  } catch (error) {
    throw new DeviceError('DEVICE_BAD_FEED', `feed ${feed.name}: ${(error as Error).message}`);
  }
}

/** The file: a comment, then `feed [persistent] NAME URL` per feed. */
export function formatFeeds(feeds: readonly FeedConfig[]): string {
  const lines = ['# Feeds of the device: the package context\'s "feed" commands, one per line.'];
  for (const f of feeds) lines.push(`feed ${f.persistent ? 'persistent ' : ''}${f.name} ${f.url}`);
  return `${lines.join('\n')}\n`;
}

/** Parses the file; a line it cannot read is left out and named in `problems`. */
export function parseFeeds(text: string): StoredFeeds {
  const feeds: FeedConfig[] = [];
  const problems: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const problem = (why: string) => problems.push(`${FEEDS_FILE_NAME} line ${i + 1}: ${why}; ignored`);
    const words = line.split(/\s+/);
    if (words[0] !== 'feed') {
      problem(`unknown setting "${shown(words[0] ?? '', 40)}"`);
      continue;
    }
    const persistent = words[1] === 'persistent';
    const [name, url, extra] = words.slice(persistent ? 2 : 1);
    if (name === undefined || url === undefined || extra !== undefined) {
      problem('expected feed [persistent] NAME URL');
      continue;
    }
    try {
      const feed = checkFeed({ name, url, persistent });
      if (feeds.some((f) => f.name === feed.name)) problem(`feed ${feed.name} given twice`);
      else feeds.push(feed);
    } catch (error) {
      problem((error as Error).message);
    }
  }
  return { feeds, problems };
}

/** Reads the configured feeds; a missing file is no feeds. */
export async function readFeeds(path: string): Promise<StoredFeeds> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { feeds: [], problems: [] };
    throw error;
  }
  return parseFeeds(text);
}
