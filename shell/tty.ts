// The interactive front-end on vorpal: the prompt loop, `?`, Ctrl-C and Ctrl-D, wired to the pager, prompter and TAB.
import { Pager } from './pager.js';
import { recallLine } from './recall.js';
import type { FrontEnd, Session } from './session.js';
import { DEFAULT_LENGTH, DEFAULT_WIDTH } from './terminal.js';
import { type Loaded, TabCompletion } from './tty-completion.js';
import { ttyPrompter } from './tty-prompter.js';
import { Typeahead } from './typeahead.js';
import { type KeypressEvent, loadVorpal, tame } from './vorpal.js';

/** How the interactive shell starts: the first prompt is shown before the grammar is loaded. */
export interface TtyStart {
  /** The prompt of the top level (`example:/>`), known before the session is; already on the screen. */
  readonly firstPrompt: string;
  /** Loads the contexts and makes the session; called once the first prompt is on the screen. */
  openSession(): Promise<Session>;
}

/** Runs the interactive shell until `exit` at the top or Ctrl-D; resolves with exit status 0. */
export async function runTty(start: TtyStart): Promise<number> {
  const vorpal = loadVorpal();
  vorpal.find('help')?.remove();
  vorpal.find('exit')?.remove();
  const ui = vorpal.ui;
  const stdout = process.stdout;
  assumeWidth(stdout);
  const write = (text: string): void => {
    stdout.write(text);
  };
  // Set once the grammar is loaded, right after the first prompt is drawn.
  let session: Session | undefined;
  // Whether the command prompt is open (not a question of a running command).
  let reading = false;
  let ctrlD = false;
  // Automation mode has the terminal (shell/plain-tty.ts): it handles Ctrl-C itself.
  let plain = false;

  // Ctrl-C: aborts the running command (or says why it cannot); at the prompt drops the line.
  // Never ends the shell.
  const interrupt = (): void => {
    if (plain) return;
    if (session?.interrupt()) return;
    const rl = ui._activePrompt?.rl;
    if (!reading || rl === undefined) return;
    if (rl.line !== '') ui.imprint();
    ui.input('');
  };
  const typeahead = new Typeahead(process.stdin, interrupt);
  const pager = new Pager(
    { write, readKey: () => typeahead.key() },
    () => session?.terminal.length ?? 0,
    () => session?.interrupt(),
  );
  const writeError = (line: string): void => {
    pager.clearStatus();
    process.stderr.write(`${line}\n`);
  };
  const fe: FrontEnd = {
    interactive: true,
    prompter: ttyPrompter({
      ui,
      pager,
      typeahead,
      signal: () => session?.signal,
      terminal: () => session!.terminal,
      write,
    }),
    sink: { line: (text) => pager.line(text), warn: writeError },
    error: writeError,
    settle: () => pager.settle(),
    begin: () => pager.begin(),
  };

  let open!: () => void;
  const loaded: Loaded = new Promise<void>((resolve) => {
    open = resolve;
  }).then(() => Promise.all([start.openSession(), import('../contexts/index.js')] as const));
  const tab = new TabCompletion(loaded, (text) => ui.log(text));
  vorpal.session.getAutocomplete = (line, cb) => tab.complete(line, cb);

  // `?`: list what may come next, keep the line (Cisco style); literal inside quotes.
  vorpal.on('keypress', (data) => {
    tab.key(data.key);
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

  vorpal.sigint(interrupt);

  return new Promise((resolve) => {
    const next = (): void => {
      if (session?.ended) {
        typeahead.close();
        resolve(0);
        return;
      }
      reading = true;
      tame(
        ui.prompt(
          { type: 'input', name: 'command', message: `${session?.prompt() ?? start.firstPrompt} ` },
          (result) => {
            reading = false;
            typeahead.hold();
            const line = String(result.command ?? '');
            vorpal._command = { line };
            const done = (): void => {
              vorpal._command = undefined;
              if (session?.terminal.automation && !session.ended) void automation(session);
              else next();
            };
            void loaded
              .then(([s]) => {
                // The up arrow gives the line back without a password (`recallLine`).
                if (line.trim() !== '') vorpal.session.history(recallLine(s.registry, line, s.redact(line)));
                return s.execute(line, fe);
              })
              .then(done, done);
          },
        ),
      );
      typeahead.open();
    };
    // `terminal automation`: the plain front-end takes the terminal until `terminal automation off`.
    const automation = async (s: Session): Promise<void> => {
      plain = true;
      const { runPlain } = await import('./plain-tty.js');
      const end = await runPlain(s, { promptShown: false, pending: typeahead.detach() });
      plain = false;
      typeahead.attach();
      if (end === 'ended') {
        typeahead.close();
        resolve(0);
      } else {
        next();
      }
    };
    vorpal._prompt = next;
    // main drew the first prompt already: vorpal draws it again in the same place.
    stdout.write('\r\x1b[K');
    vorpal.show();
    void loaded.then(([s]) => {
      session = s;
    });
    open();
  });
}

/**
 * A serial console reports a window of 0×0 (a UART knows no size). The line editor then took the
 * line as endless while inquirer drew it 80 columns wide, and every redraw of a line longer than
 * 80 columns landed on the wrong row. Such a terminal is 80 columns (SPEC §3.3), for every part
 * of the front-end; rows unknown are 24 (the pager's page).
 */
function assumeWidth(stdout: NodeJS.WriteStream): void {
  const fill = (): void => {
    if (!stdout.columns) stdout.columns = DEFAULT_WIDTH;
    if (!stdout.rows) stdout.rows = DEFAULT_LENGTH;
  };
  fill();
  stdout.on('resize', fill);
}
