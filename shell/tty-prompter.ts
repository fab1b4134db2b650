// The operator's side of a command on a TTY: y/N and password questions on vorpal's prompt, progress on the status line.
import type { ProgressHandle, Prompter, TerminalSettings } from '../contexts/env.js';
import { terminalText } from '../contexts/errors.js';
import type { Pager } from './pager.js';
import { progressLine } from './progress.js';
import type { Typeahead } from './typeahead.js';
import { tame, type VorpalUi } from './vorpal.js';

/** What the TTY prompter works with. */
export interface TtyPrompterParts {
  readonly ui: VorpalUi;
  readonly pager: Pager;
  readonly typeahead: Typeahead;
  /** The running command's abort signal: Ctrl-C cancels a question with the command. */
  readonly signal: () => AbortSignal | undefined;
  readonly terminal: () => TerminalSettings;
  readonly write: (text: string) => void;
}

/** Redraws of a progress bar at most this often. */
const PROGRESS_INTERVAL_MS = 100;

/** The prompter of the TTY front-end. */
export function ttyPrompter(parts: TtyPrompterParts): Prompter {
  const { ui, pager, typeahead, write } = parts;
  // A question on vorpal's prompt; resolves undefined when Ctrl-C cancels the command.
  const ask = (options: Record<string, unknown>): Promise<string | undefined> =>
    new Promise((resolve) => {
      const signal = parts.signal();
      if (signal?.aborted) return resolve(undefined);
      const onAbort = (): void => {
        ui.cancel();
        typeahead.hold();
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      tame(
        ui.prompt({ name: 'answer', ...options }, (result) => {
          signal?.removeEventListener('abort', onAbort);
          typeahead.hold();
          resolve(String(result.answer ?? ''));
        }),
      );
      typeahead.open();
    });
  return {
    async confirm(question) {
      pager.clearStatus();
      const lines = question.split('\n');
      const last = lines.pop()!;
      for (const l of lines) write(`${l}\n`);
      const answer = await ask({ type: 'input', message: last });
      return answer !== undefined && /^\s*(y|yes)\s*$/i.test(answer);
    },
    async password(message) {
      pager.clearStatus();
      return ask({ type: 'password', message });
    },
    progress(label): ProgressHandle {
      let last = 0;
      return {
        update: (p) => {
          const now = Date.now();
          if (now - last < PROGRESS_INTERVAL_MS) return;
          last = now;
          const t = parts.terminal();
          pager.status(progressLine(label, p, t.width, t.ascii));
        },
        // The text may quote a server (a failure's reason): escaped, and cut to one line of the terminal.
        note: (text) => pager.status(terminalText(text).slice(0, parts.terminal().width - 1)),
        done: () => pager.clearStatus(),
      };
    },
  };
}
