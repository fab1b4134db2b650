// The catalog an update keeps beside a feed's index: where each stanza is, its name, version and what it
// provides; a plan reads in full only the stanzas it reaches.
import {
  type FeedEntry,
  type FeedPackage,
  type IndexProblem,
  type PackageSource,
  packageFromStanza,
  StanzaReader,
} from '../feeds/index.js';

/** One stanza of the index: Package, Version, its byte range in `Packages`, and `Provides` as written. */
export type CatalogRow = [name: string, version: string, start: number, end: number, provides: string];

const MARK = '["edgesh-catalog",2]';
/** Where a provided name ends: a blank or the version in parentheses. */
const PROVIDED_NAME_END = /[\s(]/;

/** The catalog file's text: a version mark, then one JSON row per line. */
export function formatCatalog(rows: readonly string[]): string {
  return `${MARK}\n${rows.join('\n')}${rows.length > 0 ? '\n' : ''}`;
}

/** Reads a catalog file's text; throws on anything but the format written here. */
export function parseCatalog(text: string): CatalogRow[] {
  const newline = text.indexOf('\n');
  if (text.slice(0, newline < 0 ? text.length : newline) !== MARK)
    throw new Error('not a catalog of this version');
  const body = text.slice(newline + 1).trimEnd();
  return body === '' ? [] : (JSON.parse(`[${body.replace(/\n/g, ',')}]`) as CatalogRow[]);
}

/** One feed's kept index as a plan reads it: the catalog, and the bytes of `Packages` it points into. */
export interface CatalogFeed {
  readonly name: string;
  readonly rows: readonly CatalogRow[];
  readonly packages: Buffer;
}

/**
 * The feeds' packages for the resolver, read lazily: a name's stanzas are parsed in full (with the
 * index parser's rules) the first time the resolver asks for that name, so that a plan over 10,000
 * packages reads the few dozen it reaches. A stanza that the parser refuses then is left out, as it
 * would have been at a full read, and named in `problems`.
 */
export class CatalogSource implements PackageSource {
  private readonly byName = new Map<string, Array<{ feed: CatalogFeed; row: CatalogRow }>>();
  private readonly byProvided = new Map<string, string[]>();
  private readonly parsed = new Map<string, FeedEntry[]>();
  /** Stanzas left out when they were read: `feed main: a stanza left out: b: no Filename field`. */
  readonly problems: string[] = [];

  constructor(feeds: readonly CatalogFeed[]) {
    for (const feed of feeds) {
      for (const row of feed.rows) {
        const [name, version, , , provides] = row;
        const list = this.byName.get(name);
        // The first feed wins for the same name and version (as the universe of a full read).
        if (list?.some((e) => e.row[1] === version)) continue;
        if (list) list.push({ feed, row });
        else this.byName.set(name, [{ feed, row }]);
        if (provides === '') continue;
        // The names only, cut cheaply (parsing every Provides cost 100-150 ms over 10,000 packages): a
        // name that the full parse would not give is harmless, providersOf keeps only real providers.
        for (const item of provides.split(',')) {
          const provided = item.trim().split(PROVIDED_NAME_END, 1)[0]!;
          if (provided === '') continue;
          const who = this.byProvided.get(provided);
          if (who === undefined) this.byProvided.set(provided, [name]);
          else if (!who.includes(name)) who.push(name);
        }
      }
    }
  }

  /** Every package name. */
  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  versionsOf(name: string): readonly FeedEntry[] {
    let entries = this.parsed.get(name);
    if (entries !== undefined) return entries;
    entries = [];
    for (const { feed, row } of this.byName.get(name) ?? []) {
      const pkg = readStanza(feed, row);
      if ('reason' in pkg) this.problems.push(`feed ${feed.name}: a stanza left out: ${pkg.reason}`);
      else if (pkg.name === name) entries.push({ feed: feed.name, package: pkg });
    }
    this.parsed.set(name, entries);
    return entries;
  }

  providersOf(name: string): readonly FeedEntry[] {
    const out: FeedEntry[] = [];
    for (const provider of this.byProvided.get(name) ?? []) {
      for (const entry of this.versionsOf(provider)) {
        if (entry.package.provides.some((p) => p.name === name)) out.push(entry);
      }
    }
    return out;
  }
}

/** Parses one stanza of a kept index, where the catalog says it is. */
function readStanza(feed: CatalogFeed, row: CatalogRow): FeedPackage | IndexProblem {
  const [, , start, end] = row;
  const reader = new StanzaReader('Packages');
  try {
    const stanzas = [...reader.push(feed.packages.subarray(start, end)), ...reader.end()];
    const stanza = stanzas[0];
    if (stanza === undefined) return { line: 0, reason: `${row[0]}: the catalog points at no stanza` };
    return packageFromStanza(stanza);
  } catch (error) {
    return { line: 0, reason: `${row[0]}: ${(error as Error).message}` };
  }
}
