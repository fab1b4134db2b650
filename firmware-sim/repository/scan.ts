// A pass over a fetched `Packages` that keeps nothing of it: whether it is usable, how many packages, their names.
import {
  chunksOf,
  DEFAULT_STANZA_LIMITS,
  packageFromStanza,
  type Stanza,
  StanzaReader,
} from '../feeds/index.js';

/** What an update keeps of an index besides the file itself. */
export interface IndexSummary {
  readonly packages: number;
  /** Sorted, each once. */
  readonly names: readonly string[];
  /** Stanzas left out: `line N: why`. */
  readonly skipped: readonly string[];
}

/**
 * Reads the whole index the way the resolver will (strict syntax, limits, each stanza checked) but
 * keeps only names and counts: `update` must refuse an index the resolver could not read, without
 * holding 10,000 parsed packages to do so. A syntax error or a limit throws a `FeedError`.
 */
export function scanIndex(bytes: Uint8Array): IndexSummary {
  const reader = new StanzaReader('Packages', DEFAULT_STANZA_LIMITS);
  const names = new Set<string>();
  const skipped: string[] = [];
  let packages = 0;
  const take = (stanzas: readonly Stanza[]) => {
    for (const stanza of stanzas) {
      const result = packageFromStanza(stanza);
      if ('reason' in result) skipped.push(`line ${result.line}: ${result.reason}`);
      else {
        packages++;
        names.add(result.name);
      }
    }
  };
  for (const chunk of chunksOf(bytes)) take(reader.push(chunk));
  take(reader.end());
  return { packages, names: [...names].sort(), skipped };
}
