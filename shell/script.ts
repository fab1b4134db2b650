// Script mode (SPEC §3.6): stdin not a TTY, or -c: clean output, every line in order, prompts answered from stdin.
import type { Prompter } from '../contexts/env.js';
import { terminalText } from '../contexts/errors.js';
import { formatHelp, helpAt, helpRequest, splitCommands } from '../contexts/index.js';
import { classOf, type ErrorClass, EXIT_STATUS, failureLine } from './exit-status.js';
import { type Input, LineReader } from './line-reader.js';
import type { FrontEnd, Session } from './session.js';

/** Options of script mode, from the command line. */
export interface ScriptOptions {
  /** `-c` lines (each may hold several commands separated by `;`); empty: read commands from stdin. */
  readonly commands: readonly string[];
  /** `-y`: answer every confirmation of a command with yes (not a question of trust). */
  readonly yes: boolean;
  /** `--echo`: print `PROMPT COMMAND` before each command's output. */
  readonly echo: boolean;
  /** `--exit-on-error`: stop at the first failed command. */
  readonly exitOnError: boolean;
}

/** Where script mode reads and writes; the process's streams by default, in-memory ones in tests. */
export interface ScriptIo {
  readonly stdin: Input;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/**
 * Runs a script; resolves with the exit status: 0 when every command succeeded, else the status of the
 * class of the first failure (shell/exit-status.ts).
 */
export async function runScript(
  session: Session,
  options: ScriptOptions,
  io: ScriptIo = processIo(),
): Promise<number> {
  let reader: LineReader | undefined;
  // Lines of stdin read so far, prompt answers included: the line number of the last one read.
  let read = 0;
  // A line refused as too long (it throws) is a line of the script all the same.
  const counted = async (next: Promise<string | undefined>): Promise<string | undefined> => {
    try {
      const line = await next;
      if (line !== undefined) read++;
      return line;
    } catch (e) {
      read++;
      throw e;
    }
  };
  const lines = {
    next: (): Promise<string | undefined> => {
      reader ??= new LineReader(io.stdin);
      return counted(reader.next());
    },
    nextSecret: (): Promise<string | undefined> => {
      reader ??= new LineReader(io.stdin);
      return counted(reader.nextSecret());
    },
  };
  // The stdin line of the command running now; an error names it (`Error: line 7: …`), as sh does.
  let at: number | undefined;
  const stdinTty = io.stdin.isTTY === true;
  const out = (text: string): void => {
    io.stdout.write(text);
  };
  // A question goes where the command's output goes; while a command prints a document (`| json`),
  // to stderr, so that stdout holds the document alone.
  const asking = (text: string): void => {
    if (session.documentOnly) io.stderr.write(text);
    else out(text);
  };
  const prompter: Prompter = {
    async confirm(question, about = 'command') {
      const parts = question.split('\n');
      const ask = parts.pop()!;
      for (const p of parts) asking(`${p}\n`);
      asking(ask);
      // `-y` confirms the operator's own commands; trusting a new host key is asked like without it.
      if (options.yes && about === 'command') {
        asking('y\n');
        return true;
      }
      const answer = await lines.next();
      // Echo what was read from a pipe, so that the transcript reads like the manual (`(y/N)?y`).
      asking(answer === undefined ? '\n' : stdinTty ? '' : `${answer}\n`);
      return answer !== undefined && /^\s*(y|yes)\s*$/i.test(answer);
    },
    async password(prompt) {
      asking(prompt);
      const answer = await lines.nextSecret();
      asking('\n');
      return answer;
    },
    progress: () => undefined,
    ...(options.yes ? { assumeYes: true } : {}),
  };
  const fe: FrontEnd = {
    interactive: false,
    prompter,
    sink: {
      line: (text) => out(`${text}\n`),
      warn: (text) => io.stderr.write(`${text}\n`),
    },
    error: (line) =>
      io.stderr.write(`${at === undefined ? line : line.replace(/^Error: /, `Error: line ${at}: `)}\n`),
  };
  // The class of the first command that failed: the script's exit status.
  let failed: ErrorClass | undefined;
  const run = async (line: string): Promise<boolean> => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return true;
    // After a command that failed before asking for its password, this line may be that password.
    const mayBeSecret = session.secretUnasked;
    if (options.echo) out(`${session.prompt()} ${terminalText(session.shownLine(trimmed, mayBeSecret))}\n`);
    const asked = helpRequest(trimmed);
    if (asked !== undefined) {
      const items = await helpAt(session.registry, session.context.name, asked, {
        services: session.services,
      });
      for (const l of formatHelp(items, session.terminal.width)) out(`${l}\n`);
      return true;
    }
    const result = await session.execute(trimmed, fe, mayBeSecret);
    if (result !== 'ok') failed ??= result;
    return result === 'ok' || !options.exitOnError;
  };
  try {
    if (options.commands.length > 0) {
      for (const arg of options.commands) {
        for (const command of splitCommands(arg)) {
          if (!(await run(command)) || session.ended) return status(failed);
        }
      }
    } else {
      for (;;) {
        let line: string | undefined;
        try {
          line = await lines.next();
        } catch (e) {
          // A line too long to read (MAX_LINE) fails like a command, and the script goes on.
          at = read;
          fe.error(failureLine(e));
          failed ??= classOf(e);
          if (options.exitOnError) break;
          continue;
        }
        at = read;
        if (line === undefined || !(await run(line)) || session.ended) break;
      }
    }
    return status(failed);
  } finally {
    reader?.close();
  }
}

function status(failed: ErrorClass | undefined): number {
  return failed === undefined ? 0 : EXIT_STATUS[failed];
}

function processIo(): ScriptIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}
