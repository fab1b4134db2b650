// TAB on the TTY: our parser's candidates; a unique one completes the word, several extend it, a second TAB lists them.
import type { Session } from './session.js';

type Parser = typeof import('../contexts/index.js');

/** The session and the parser, once the grammar is loaded. */
export type Loaded = Promise<readonly [Session, Parser]>;

/** Vorpal's TAB callback: the new line, or nothing to change. */
export type CompletionCallback = (err: unknown, data?: string) => void;

/** TAB completion for vorpal's `session.getAutocomplete`; `key` must see every other key (a TAB streak ends). */
export class TabCompletion {
  private tabs = 0;
  private lastLine: string | undefined;

  constructor(
    private readonly loaded: Loaded,
    /** Prints the candidates above the prompt, keeping the line (vorpal's `ui.log`). */
    private readonly list: (text: string) => void,
  ) {}

  /** A key other than TAB was typed: the next TAB is a first one again. */
  key(name: string | undefined): void {
    if (name !== 'tab') this.lastLine = undefined;
  }

  /** Completes `line` (the line up to the cursor); a TAB typed before the grammar is loaded waits for it. */
  complete(line: string, cb: CompletionCallback): void {
    this.tabs = line === this.lastLine ? this.tabs + 1 : 1;
    this.lastLine = line;
    const tabs = this.tabs;
    void this.loaded
      .then(async ([s, p]) => {
        const c = await p.completeAt(s.registry, s.context.name, line, { services: s.services });
        if (c.candidates.length === 0) return cb(undefined, undefined);
        if (c.candidates.length === 1)
          return cb(undefined, `${line.slice(0, c.start)}${p.quoteWord(c.candidates[0]!)} `);
        const common = commonPrefix(c.candidates);
        if (common.length > c.partial.length) {
          // The line grew to what the candidates share; a TAB on it now lists them, as in bash.
          const extended = `${line.slice(0, c.start)}${common}`;
          if (this.tabs === tabs) this.lastLine = extended;
          return cb(undefined, extended);
        }
        if (tabs >= 2)
          this.list(`${s.prompt()} ${s.redact(line)}\n${columns(c.candidates, s.terminal.width)}`);
        return cb(undefined, undefined);
      })
      // Completion never prints an error into the line.
      .catch(() => cb(undefined, undefined));
  }
}

function commonPrefix(words: readonly string[]): string {
  let prefix = words[0] ?? '';
  for (const w of words) while (!w.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/** Candidates in columns across the terminal, as shells list them on a second TAB. */
function columns(words: readonly string[], width: number): string {
  const cell = Math.max(...words.map((w) => w.length)) + 2;
  const per = Math.max(1, Math.floor(width / cell));
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += per)
    lines.push(
      words
        .slice(i, i + per)
        .map((w) => w.padEnd(cell))
        .join('')
        .trimEnd(),
    );
  return lines.join('\n');
}
