// A generated feed index of realistic shape (layers of libraries, dependency chains, alternatives, virtual
// packages, recommendations, older versions, Debian-sized stanzas) for the benchmarks.
import { createHash } from 'node:crypto';

/** A generated `Packages` text and a package with a long dependency chain to install from it. */
export interface GeneratedIndex {
  readonly text: string;
  readonly packages: number;
  /** A package whose dependencies reach about `chain` others. */
  readonly target: string;
  /** How many packages installing `target` brings in, itself included (first alternatives, no recommends). */
  readonly closure: number;
}

/** A small deterministic random source (mulberry32), so that every run indexes the same feed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  'network switch router daemon library tool utility configuration firmware driver protocol service interface monitor agent client server logging metrics tunnel bridge filter policy certificate crypto compression parser plugin extension module runtime shell editor'.split(
    ' ',
  );

/**
 * `count` packages named `pkg-00000…`, each depending on up to four packages of lower number, mostly
 * of the lowest layers (the graph has no cycle, chains converge on shared libraries as Debian's do), 4% with an alternative close by (`a | b`), 30% versioned, 10%
 * recommending another, 5% providing a virtual name that others depend on, 10% with an older version
 * too. Stanzas carry what Debian's do (Maintainer, Section, Installed-Size, Homepage, a multi-line
 * Description), about 1 KiB each. Architecture `all`, so that apt takes them as they are.
 */
export function generateIndex(count: number, seed = 1, chain = 25): GeneratedIndex {
  const rnd = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const name = (i: number) => `pkg-${String(i).padStart(5, '0')}`;
  const deps: number[][] = [];
  const virtuals = new Map<number, string>();
  const stanzas: string[] = [];
  for (let i = 0; i < count; i++) {
    const groups: string[] = [];
    const mine: number[] = [];
    const n = i < 20 ? 0 : Math.floor(rnd() * 5);
    for (let d = 0; d < n; d++) {
      // Mostly the lower layers (libraries many packages share), as in Debian: chains converge.
      const j = Math.floor(i * rnd() ** 3);
      if (mine.includes(j)) continue;
      mine.push(j);
      let group = virtuals.has(j) && rnd() < 0.5 ? virtuals.get(j)! : name(j);
      if (group === name(j) && rnd() < 0.3) group += ` (>= 1.${Math.floor(rnd() * 2)})`;
      // An alternative is a package of the same kind, close by (`mawk | gawk`).
      if (rnd() < 0.04 && j > 1) group += ` | ${name(j - 1 - Math.floor(rnd() * Math.min(j - 1, 5)))}`;
      groups.push(group);
    }
    deps.push(mine);
    if (rnd() < 0.05) virtuals.set(i, `virtual-${i}`);
    const words = Array.from({ length: 6 }, () => pick(WORDS));
    const lines = Array.from(
      { length: 4 + Math.floor(rnd() * 5) },
      () => ` ${Array.from({ length: 12 }, () => pick(WORDS)).join(' ')}.`,
    );
    const versions = rnd() < 0.1 ? ['1.0-1', '1.1-2'] : ['1.1-2'];
    for (const version of versions) {
      const fields: Array<[string, string]> = [
        ['Package', name(i)],
        ['Version', version],
        ['Architecture', 'all'],
        ['Maintainer', `Feed Maintainers <maint-${i % 97}@example.com>`],
        ['Installed-Size', String(16 + Math.floor(rnd() * 4000))],
      ];
      if (groups.length > 0) fields.push(['Depends', groups.join(', ')]);
      if (rnd() < 0.1 && i > 0) fields.push(['Recommends', name(Math.floor(i * rnd() ** 3))]);
      if (virtuals.has(i)) fields.push(['Provides', virtuals.get(i)!]);
      const file = `pool/${name(i)}_${version}_all.wmopkg`;
      const size = 1024 + Math.floor(rnd() * 500_000);
      const sha = createHash('sha256').update(file).digest('hex');
      fields.push(
        ['Section', pick(['net', 'libs', 'admin', 'utils', 'kernel'])],
        ['Priority', 'optional'],
        ['Homepage', `https://example.com/${words[0]}/${name(i)}`],
        ['Filename', file],
        ['Size', String(size)],
        ['SHA256', sha],
        ['Description', `${words.slice(0, 4).join(' ')}\n${lines.join('\n')}`],
      );
      stanzas.push(fields.map(([k, v]) => `${k}: ${v}\n`).join(''));
    }
  }
  // The target: the package whose closure comes closest to `chain`.
  const closureOf = (i: number): number => {
    const seen = new Set([i]);
    const queue = [i];
    for (let k = 0; k < queue.length; k++) {
      for (const j of deps[queue[k]!]!) {
        if (!seen.has(j)) {
          seen.add(j);
          queue.push(j);
        }
      }
    }
    return seen.size;
  };
  let target = count - 1;
  let best = Number.POSITIVE_INFINITY;
  for (let i = count - 1; i >= Math.max(0, count - 2000); i--) {
    const size = closureOf(i);
    if (Math.abs(size - chain) < best) {
      best = Math.abs(size - chain);
      target = i;
    }
  }
  return {
    text: stanzas.join('\n'),
    packages: stanzas.length,
    target: name(target),
    closure: closureOf(target),
  };
}
