// Automation mode on a terminal (docs/automation.md): the pty's own line discipline reads, the prompt is drawn once per command.
import type { Prompter } from '../contexts/env.js';
import { formatHelp, helpAt, helpRequest } from '../contexts/index.js';
import { failureLine } from './exit-status.js';
import { LineReader } from './line-reader.js';
import type { FrontEnd, Session } from './session.js';

/** How a turn of automation mode ends: the session is over, or `terminal automation off` wants the line editor. */
export type PlainEnd = 'ended' | 'editor';

/** What the plain front-end reads and writes: the process's terminal. */
export interface PlainIo {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** Nothing is asked in automation mode: the session answers before a question reaches a front-end. */
const NEVER_ASKS: Prompter = {
  confirm: async () => false,
  password: async () => undefined,
  progress: () => undefined,
};

/**
 * Runs the session in automation mode until it ends (`exit` at the top, end of input) or leaves the
 * mode. The terminal is in its own (canonical) mode: the kernel echoes and edits the line, nothing
 * is redrawn per key, and no escape sequence is written. The prompt is written once after each
 * command's output (`promptShown`: the first one is on the screen already). `pending` is text typed
 * before this mode began (held while the last command ran).
 */
export async function runPlain(
  session: Session,
  options: { readonly promptShown: boolean; readonly pending?: string },
  io: PlainIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<PlainEnd> {
  if (io.stdin.isTTY) io.stdin.setRawMode(false);
  const reader = new LineReader(io.stdin);
  // Typed ahead in raw mode (where Enter is a carriage return) and not echoed: each line is shown
  // after its prompt as the terminal would have echoed it, so that a transcript (and a program that
  // reads it line by line) sees the command line apart from its output.
  const pending = (options.pending ?? '').replace(/\r\n?/g, '\n');
  const typed = pending.split('\n');
  reader.seed(pending);
  const fe: FrontEnd = {
    interactive: true,
    prompter: NEVER_ASKS,
    sink: {
      line: (text) => io.stdout.write(`${text}\n`),
      warn: (text) => io.stderr.write(`${text}\n`),
    },
    error: (line) => io.stderr.write(`${line}\n`),
  };
  // Ctrl-C: the terminal sends SIGINT. It aborts the running command; at the prompt the kernel has
  // dropped the line already, and a new prompt goes on a line of its own.
  let atPrompt = false;
  const onSigint = (): void => {
    if (session.interrupt() || !atPrompt) return;
    io.stdout.write(`\n${session.prompt()} `);
  };
  process.on('SIGINT', onSigint);
  try {
    let shown = options.promptShown;
    for (;;) {
      if (!shown) io.stdout.write(`${session.prompt()} `);
      shown = false;
      const echo = typed.shift();
      if (echo !== undefined && (echo !== '' || typed.length > 0))
        io.stdout.write(typed.length > 0 ? `${echo}\n` : echo);
      atPrompt = true;
      let line: string | undefined;
      try {
        line = await reader.next();
      } catch (e) {
        // A line too long to read: said, and the next one is read.
        fe.error(failureLine(e));
        continue;
      } finally {
        atPrompt = false;
      }
      // End of input (Ctrl-D on an empty line, the connection closed) ends the session.
      if (line === undefined) {
        io.stdout.write('\n');
        return 'ended';
      }
      const asked = helpRequest(line);
      if (asked !== undefined) {
        const items = await helpAt(session.registry, session.context.name, asked, {
          services: session.services,
        });
        for (const l of formatHelp(items, session.terminal.width)) io.stdout.write(`${l}\n`);
      } else {
        await session.execute(line, fe);
      }
      if (session.ended) return 'ended';
      if (!session.terminal.automation) return 'editor';
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    reader.release();
  }
}
