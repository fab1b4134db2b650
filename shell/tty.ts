// The interactive front-end on vorpal: line editing, history, TAB, `?`, masked password, y/N, Ctrl-C, Ctrl-D, pager.
import type { ProgressHandle, Prompter } from '../contexts/env.js';
import { progressLine } from './progress.js';
import type { FrontEnd, Session } from './session.js';
import { type KeypressEvent, loadVorpal, tame } from './vorpal.js';

/** How the interactive shell starts: the first prompt is shown before the grammar is loaded. */
export interface TtyStart {
  /** The prompt of the top level (`example:/>`), known before the session is; already on the screen. */
  readonly firstPrompt: string;
  /** Loads the contexts and makes the session; called once the first prompt is on the screen. */
  openSession(): Promise<Session>;
}

type Parser = typeof import('../contexts/index.js');

/** Runs the interactive shell until `exit` at the top or Ctrl-D; resolves with exit status 0. */
export async function runTty(start: TtyStart): Promise<number> {
  const vorpal = loadVorpal();
  vorpal.find('help')?.remove();
  vorpal.find('exit')?.remove();
  const ui = vorpal.ui;
  const stdout = process.stdout;
  // Set once the grammar is loaded, right after the first prompt is drawn.
  let session: Session | undefined;
  let parser: Parser | undefined;
  let reading = false;
  let tabs = 0;
  let ctrlD = false;

  // Progress bar: one line, redrawn in place, cleared before anything else is written.
  let status = '';
  const clearStatus = (): void => {
    if (status === '') return;
    stdout.write('\r\x1b[K');
    status = '';
  };
  const terminal = (): Session['terminal'] => session!.terminal;

  // Pager: `--More--` after a page; space = next page, enter = next line, q = stop.
  let shown = 0;
  let queue: string[] = [];
  let paging: Promise<void> | undefined;
  let quit = false;
  const writeLine = (text: string): void => {
    if (quit) return;
    if (paging !== undefined) {
      queue.push(text);
      return;
    }
    clearStatus();
    stdout.write(`${text}\n`);
    shown++;
    const length = terminal().length;
    if (length > 0 && shown >= length) paging = more();
  };
  const more = async (): Promise<void> => {
    stdout.write('--More--');
    const key = await readKey();
    stdout.write('\r\x1b[K');
    if (key === ' ') shown = 0;
    else if (key === '\r' || key === '\n') shown = terminal().length - 1;
    else {
      quit = true;
      if (key === '\x03') session?.interrupt();
    }
    paging = undefined;
    const waiting = queue;
    queue = [];
    for (const line of waiting) writeLine(line);
  };
  const settle = async (): Promise<void> => {
    while (paging !== undefined) await paging;
    clearStatus();
  };

  const release = holdTypeahead(process.stdin);

  // Our own questions, asked with vorpal's prompt; Ctrl-C cancels them with the command.
  const ask = (options: Record<string, unknown>): Promise<string | undefined> =>
    new Promise((resolve) => {
      const signal = session?.signal;
      const onAbort = (): void => {
        ui.cancel();
        resolve(undefined);
      };
      if (signal?.aborted) return resolve(undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      tame(
        ui.prompt({ name: 'answer', ...options }, (result) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(String(result.answer ?? ''));
        }),
      );
      release();
    });
  const prompter: Prompter = {
    async confirm(question) {
      clearStatus();
      const lines = question.split('\n');
      const last = lines.pop()!;
      for (const l of lines) stdout.write(`${l}\n`);
      const answer = await ask({ type: 'input', message: last });
      return answer !== undefined && /^\s*(y|yes)\s*$/i.test(answer);
    },
    async password(message) {
      clearStatus();
      return ask({ type: 'password', message });
    },
    progress(label): ProgressHandle {
      let last = 0;
      return {
        update: (p) => {
          const now = Date.now();
          if (now - last < 100 || paging !== undefined) return;
          last = now;
          status = progressLine(label, p, terminal().width, terminal().ascii);
          stdout.write(`\r${status}\x1b[K`);
        },
        done: clearStatus,
      };
    },
  };
  const writeError = (line: string): void => {
    clearStatus();
    process.stderr.write(`${line}\n`);
  };
  const fe: FrontEnd = {
    interactive: true,
    prompter,
    sink: { line: writeLine, warn: writeError },
    error: writeError,
    settle,
    begin: () => {
      shown = 0;
      quit = false;
    },
  };

  // TAB: our completion; a unique candidate completes the word, several extend the common
  // prefix, a second TAB lists them.
  let lastTabLine: string | undefined;
  vorpal.session.getAutocomplete = (line, cb) => {
    tabs = line === lastTabLine ? tabs + 1 : 1;
    lastTabLine = line;
    // A TAB typed before the grammar is loaded waits for it.
    void loaded
      .then(([s, p]) => p.completeAt(s.registry, s.context.name, line, { services: s.services }))
      .then(
        (c) => {
          if (c.candidates.length === 0) return cb(undefined, undefined);
          if (c.candidates.length === 1)
            return cb(undefined, `${line.slice(0, c.start)}${parser!.quoteWord(c.candidates[0]!)} `);
          const common = commonPrefix(c.candidates);
          if (common.length > c.partial.length) return cb(undefined, `${line.slice(0, c.start)}${common}`);
          if (tabs >= 2)
            ui.log(
              `${session!.prompt()} ${session!.redact(line)}\n${columns(c.candidates, session!.terminal.width)}`,
            );
          return cb(undefined, undefined);
        },
        () => cb(undefined, undefined),
      );
  };

  // `?`: list what may come next, keep the line (Cisco style); literal inside quotes.
  vorpal.on('keypress', (data) => {
    if (data.key !== 'tab') lastTabLine = undefined;
    if (ctrlD) {
      ctrlD = false;
      const rl = ui._activePrompt?.rl;
      if (rl !== undefined) {
        rl.line = 'exit';
        rl.emit('line', 'exit');
      }
      return;
    }
    if (!reading || data.e?.value !== '?') return;
    const rl = ui._activePrompt?.rl;
    if (rl === undefined) return;
    const at = rl.cursor - 1;
    // A `?` typed before the grammar is loaded waits for it.
    void loaded.then(async ([s, p]) => {
      if (!reading || rl.line[at] !== '?') return;
      const before = p.helpRequest(rl.line.slice(0, at + 1));
      if (before === undefined) return;
      rl.line = before + rl.line.slice(at + 1);
      rl.cursor = at;
      ui.input(rl.line);
      const items = await p.helpAt(s.registry, s.context.name, before, { services: s.services });
      // The copy of the line kept above the help is redacted like history (`password ****`).
      ui.log(`${s.prompt()} ${s.redact(before)}?\n${p.formatHelp(items, s.terminal.width).join('\n')}`);
    });
  });

  // Ctrl-D on an empty line is `exit`: readline would close the line editor, so it is turned into a
  // delete before readline sees it, and the line is submitted as `exit` after.
  process.stdin.prependListener('keypress', (_s: string, key: KeypressEvent['key']) => {
    const rl = ui._activePrompt?.rl;
    if (!reading || key?.ctrl !== true || key.name !== 'd' || rl === undefined || rl.line !== '') return;
    rl.line = ' ';
    rl.cursor = 0;
    ctrlD = true;
  });

  // Ctrl-C: aborts the running command; at the prompt drops the line. Never ends the shell.
  vorpal.sigint(() => {
    if (session?.interrupt()) return;
    const rl = ui._activePrompt?.rl;
    if (!reading || rl === undefined) return;
    if (rl.line !== '') ui.imprint();
    ui.input('');
  });

  let open!: () => void;
  const loaded = new Promise<void>((resolve) => {
    open = resolve;
  }).then(() => Promise.all([start.openSession(), import('../contexts/index.js')] as const));
  return new Promise((resolve) => {
    const next = (): void => {
      if (session?.ended) {
        resolve(0);
        return;
      }
      reading = true;
      tame(
        ui.prompt(
          { type: 'input', name: 'command', message: `${session?.prompt() ?? start.firstPrompt} ` },
          (result) => {
            reading = false;
            const line = String(result.command ?? '');
            vorpal._command = { line };
            const done = (): void => {
              vorpal._command = undefined;
              next();
            };
            void loaded
              .then(([s]) => {
                if (line.trim() !== '') vorpal.session.history(s.redact(line));
                return s.execute(line, fe);
              })
              .then(done, done);
          },
        ),
      );
      release();
    };
    vorpal._prompt = next;
    // main drew the first prompt already: vorpal draws it again in the same place.
    stdout.write('\r\x1b[K');
    vorpal.show();
    void loaded.then(([s, p]) => {
      session = s;
      parser = p;
    });
    open();
  });
}

/**
 * Keeps typed-ahead lines for the prompt that asks for them. Inquirer gives each prompt its own
 * readline and closes it after the first line, so the rest of a pasted block (or of keys typed
 * while a command runs) would be lost; here everything after the first line end of a chunk waits
 * until the next prompt is open. Returns the function that hands the next line over.
 */
function holdTypeahead(stdin: NodeJS.ReadStream): () => void {
  let held = '';
  const emit = stdin.emit.bind(stdin) as (event: string | symbol, ...args: unknown[]) => boolean;
  const pass = (text: string): void => {
    const m = /\r\n|\r|\n/.exec(text);
    const cut = m === null ? text.length : m.index + m[0].length;
    held = text.slice(cut);
    if (cut > 0) emit('data', Buffer.from(text.slice(0, cut)));
  };
  stdin.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event !== 'data') return emit(event, ...args);
    const chunk = args[0];
    const text =
      typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
    if (held !== '') held += text;
    else pass(text);
    return true;
  }) as typeof stdin.emit;
  return () => {
    setImmediate(() => {
      if (held !== '') pass(held);
    });
  };
}

/** Reads one key from the TTY in raw mode (the pager). */
function readKey(): Promise<string> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    const raw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    stdin.once('data', (chunk: Buffer) => {
      stdin.setRawMode(raw);
      stdin.pause();
      resolve(chunk.toString('utf8')[0] ?? '');
    });
  });
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
