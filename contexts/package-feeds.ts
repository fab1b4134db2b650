// The feed commands of the package context: feed, no feed, show feeds, update.
import type { FeedUpdateResult } from '../firmware-sim/api.js';
import { CliError } from './errors.js';
import {
  type FeedDoc,
  type FeedListDoc,
  type FeedRemoveDoc,
  type FeedSetDoc,
  type FeedUpdatesDoc,
  type FreshnessDoc,
  feedDoc,
  feedUpdateDoc,
} from './feed-docs.js';
import { sessionFeedFetcher } from './feed-fetch.js';
import { feedName, feedUrl } from './feed-param-types.js';
import { type ArgsOf, arg, type Command, type CommandEnv, command, flag, options } from './grammar.js';
import { localTime, renderTable, wrapLine } from './table.js';

const feedParams = [
  options(flag('persistent', 'Keep the feed through a factory reset')),
  arg('name', feedName),
  arg('url', feedUrl),
] as const;
const noFeedParams = [arg('name', feedName)] as const;
const updateParams = [
  arg('name', feedName, { optional: true, help: 'Only this feed (default: every feed)' }),
] as const;

async function setFeed(args: ArgsOf<typeof feedParams>, env: CommandEnv): Promise<FeedSetDoc> {
  const persistent = args.persistent === true;
  const outcome = await env.services.device.setFeed({ name: args.name, url: args.url, persistent });
  return { result: outcome, changed: outcome !== 'unchanged', name: args.name, url: args.url, persistent };
}

function setFeedText(doc: FeedSetDoc, env: CommandEnv): void {
  const how = doc.persistent ? ' (persistent)' : '';
  if (doc.result === 'unchanged') {
    env.out.line(`Feed ${doc.name} is already ${doc.url}${how}.`);
    return;
  }
  env.out.line(`Feed ${doc.name} ${doc.result}: ${doc.url}${how}. Run update to fetch its index.`);
}

async function removeFeed(args: ArgsOf<typeof noFeedParams>, env: CommandEnv): Promise<FeedRemoveDoc> {
  await env.services.device.removeFeed(args.name);
  return { result: 'removed', changed: true, name: args.name };
}

/** `until 2036-01-01`, `EXPIRED 2026-01-08`, `no expiry`, `none` (the table's words). */
export function freshnessText(freshness: FreshnessDoc | null, expired = false): string {
  switch (freshness?.state) {
    case undefined:
      return '-';
    case 'protected':
      return `${expired ? 'EXPIRED' : 'until'} ${localTime(freshness.valid_until ?? '').slice(0, 10)}`;
    case 'no-expiry':
      return 'no expiry';
    case 'none':
      return 'none';
  }
}

/** The marker after a persistent feed's name in `show feeds`. */
const PERSISTENT_MARK = '+';

function showFeedsText(doc: FeedListDoc, env: CommandEnv): void {
  const feeds = doc.feeds;
  if (feeds.length === 0) {
    env.out.line('No feeds configured (feed NAME URL adds one).');
    return;
  }
  const rows = feeds.map((f) => [
    f.name + (f.persistent ? PERSISTENT_MARK : ''),
    f.updated_at === null ? 'never' : localTime(f.updated_at),
    f.packages === null ? '-' : String(f.packages),
    freshnessText(f.freshness, f.expired),
    f.url,
  ]);
  const lines = renderTable(
    { title: 'Feeds', columns: ['NAME', 'UPDATED', 'PACKAGES', 'FRESHNESS', 'URL'], rows, wrap: true },
    env.session.terminal,
  );
  if (feeds.some((f) => f.persistent))
    lines.push(`${PERSISTENT_MARK} persistent: kept through a factory reset`);
  for (const note of feedNotes(feeds)) lines.push(...wrapLine(note, env.session.terminal.width));
  for (const line of lines) env.out.line(line);
}

/** What `show feeds` says under its table: failed updates, feeds without freshness protection, expired ones. */
function feedNotes(feeds: readonly FeedDoc[]): string[] {
  const notes: string[] = [];
  for (const f of feeds) {
    if (f.failure !== null) {
      notes.push(
        `${f.name}: the last update failed (${localTime(f.failure.at)}): ${f.failure.message}; ${f.packages === null ? 'no index yet' : 'the index before is used'}`,
      );
    }
    if (f.freshness?.state === 'none') {
      notes.push(
        `${f.name}: no freshness protection: the feed has no signed Release, a rollback or a frozen feed would not be noticed`,
      );
    } else if (f.freshness?.state === 'no-expiry') {
      notes.push(
        `${f.name}: its Release has no Valid-Until: a rollback is refused, a frozen feed would not be noticed`,
      );
    }
    if (f.expired) notes.push(`${f.name}: its Release has expired: the feed is stale or frozen (run update)`);
    if ((f.skipped ?? 0) > 0)
      notes.push(`${f.name}: ${f.skipped} unusable stanzas left out (see the event log)`);
  }
  return notes;
}

/** One line per feed as `update` goes. */
function resultLine(r: FeedUpdateResult): string {
  if (r.outcome === 'failed') {
    return `Not updated ${r.name}: ${r.message}; ${r.kept ? 'the previous index is kept' : 'it has no index yet'}.`;
  }
  const f = r.freshness;
  const how =
    f.state === 'none'
      ? 'no freshness protection (no Release)'
      : f.state === 'no-expiry'
        ? 'Release without expiry'
        : `valid until ${localTime(f.validUntil)}`;
  const count = r.packages === 1 ? '1 package' : `${r.packages} packages`;
  return `${r.outcome === 'updated' ? 'Updated' : 'Unchanged'} ${r.name}: ${count}, signed by key ${r.keyNumber}, ${how}.`;
}

async function update(args: ArgsOf<typeof updateParams>, env: CommandEnv): Promise<FeedUpdatesDoc> {
  const fetcher = await sessionFeedFetcher(env);
  const results = await env.services.device.updateFeeds({
    fetcher,
    signal: env.signal,
    ...(args.name === undefined ? {} : { names: [args.name] }),
    onResult: (r) => {
      env.out.line(resultLine(r));
      if (r.outcome !== 'failed' && r.skipped.length > 0) {
        env.out.warn(`feed ${r.name}: ${r.skipped.length} stanzas left out (first: ${r.skipped[0]})`);
      }
    },
  });
  const failed = results.filter((r) => r.outcome === 'failed').map((r) => r.name);
  if (failed.length > 0) {
    const which = failed.length === 1 ? `feed ${failed[0]} was` : `feeds ${failed.join(', ')} were`;
    throw new CliError('CLI_PARTIAL', `${which} not updated (see above)`);
  }
  return { changed: results.some((r) => r.outcome === 'updated'), feeds: results.map(feedUpdateDoc) };
}

/** The feed commands of the package context. */
export const feedCommands: readonly Command[] = [
  command({
    name: 'feed',
    help: 'Add or change a feed (a signed package repository); persistent keeps it through a factory reset',
    params: feedParams,
    data: setFeed,
    text: setFeedText,
  }),
  command({
    name: 'no feed',
    help: 'Remove a feed and its index',
    params: noFeedParams,
    data: removeFeed,
    text: (doc, env) => env.out.line(`Feed ${doc.name} removed, with its index.`),
  }),
  command({
    name: 'show feeds',
    help: 'Show the feeds: last update, packages, freshness protection',
    data: async (_args, env): Promise<FeedListDoc> => ({
      feeds: (await env.services.device.feeds()).map(feedDoc),
    }),
    text: showFeedsText,
  }),
  command({
    name: 'update',
    help: 'Fetch the index of every feed (only what changed) and verify it',
    params: updateParams,
    data: update,
    // Each feed's line was printed as it was done.
    text: (doc, env) => {
      if (doc.feeds.length === 0) env.out.line('No feeds configured (feed NAME URL adds one).');
    },
  }),
];
