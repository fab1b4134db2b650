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

/** Letters of a secret keyword that make another word look like it: `pass` of `password`. */
const LOOKALIKE_LETTERS = 4;

/**
 * Whether `word` looks like a secret keyword without being one: a misspelling or another tool's word
 * that starts like it (`passwd`, `passphrase`, `Pass`), by the first four letters of a secret
 * keyword. The word after it is a secret to show (history, `--echo`, messages), though the grammar
 * reads it as any other word: a mistyped keyword must not expose what was typed after it.
 */
export function looksSecret(word: string, secrets: SecretWords): boolean {
  const w = word.toLowerCase();
  return secrets.some(
    (s) => s.word.length >= LOOKALIKE_LETTERS && w.startsWith(s.word.slice(0, LOOKALIKE_LETTERS)),
  );
}

/**
 * In a word that assigns a secret the way other tools write it (`password=X`, `passwd:X`), where the
 * secret starts; `undefined` for any other word.
 */
export function secretValueAt(word: string, secrets: SecretWords): number | undefined {
  const m = /^([^=:]+)[=:]/.exec(word);
  if (m === null || !(isSecretWord(m[1]!, secrets) || looksSecret(m[1]!, secrets))) return undefined;
  return m[0].length;
}

/**
 * Whether a line may hold a secret, judged without the grammar: a word that is a secret keyword, an
 * abbreviation of one or a word that looks like one, anywhere, or an `@` (`user:pass@host`). A quick
 * test before the line is parsed.
 */
export function mayHoldSecret(line: string, secrets: SecretWords): boolean {
  return (
    line.includes('@') ||
    line
      .split(/[\s;|]+/)
      .some(
        (w) => isSecretWord(w, secrets) || looksSecret(w, secrets) || secretValueAt(w, secrets) !== undefined,
      )
  );
}
