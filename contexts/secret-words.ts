// The keywords whose value is a secret (`password`), derived from the parameters declared `secret: true`.
import type { Context } from './grammar.js';

/** A keyword whose value is a secret, and the fewest letters that abbreviate it (`pa` for `password`). */
export interface SecretWord {
  readonly word: string;
  readonly min: number;
}

/** The secret keywords of a grammar. */
export type SecretWords = readonly SecretWord[];

const cache = new WeakMap<object, SecretWords>();

/**
 * Every keyword that a command declares `secret: true`, with the shortest abbreviation that no other
 * keyword of its options block shares (the longest such over all blocks that declare it). Computed
 * once per set of contexts.
 */
export function secretWordsOf(contexts: Readonly<Record<string, Context>>): SecretWords {
  const known = cache.get(contexts);
  if (known !== undefined) return known;
  const min = new Map<string, number>();
  for (const context of Object.values(contexts)) {
    for (const command of context.commands) {
      for (const param of command.params ?? []) {
        if (param.kind !== 'options') continue;
        const words = param.options.flatMap((d) =>
          d.kind === 'oneOf' ? d.words.map((w) => w.word) : [d.word],
        );
        for (const decl of param.options) {
          if (decl.kind !== 'value' || decl.secret !== true) continue;
          const others = words.filter((w) => w !== decl.word);
          let n = 1;
          while (n < decl.word.length && others.some((w) => w.startsWith(decl.word.slice(0, n)))) n++;
          min.set(decl.word, Math.max(n, min.get(decl.word) ?? 0));
        }
      }
    }
  }
  const words = [...min].map(([word, n]) => ({ word, min: n }));
  cache.set(contexts, words);
  return words;
}

/** Whether `word` (any case) is a secret keyword or an abbreviation of one. */
export function isSecretWord(word: string, secrets: SecretWords): boolean {
  const w = word.toLowerCase();
  return secrets.some((s) => w.length >= s.min && s.word.startsWith(w));
}

/**
 * Whether a line may hold a secret, judged without the grammar: a word that is a secret keyword or an
 * abbreviation of one, anywhere, or an `@` (`user:pass@host`). A quick test before the line is parsed.
 */
export function mayHoldSecret(line: string, secrets: SecretWords): boolean {
  return line.includes('@') || line.split(/[\s;|]+/).some((w) => isSecretWord(w, secrets));
}
