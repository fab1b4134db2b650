// One CLI session: the context stack, terminal settings, history, and running a line through the parser.
import type { CommandEnv, Prompter, Services, SessionApi, TerminalSettings } from '../contexts/env.js';
import { CliError, errorLine, isLayerError } from '../contexts/errors.js';
import type { Context, LineFilter } from '../contexts/grammar.js';
import { parseLine, type Registry, redact } from '../contexts/parser.js';
import { FilteredOutput, type OutputSink } from './output.js';

/** What a front-end (script mode, vorpal TTY, a test) lends the session for one command. */
export interface FrontEnd {
  readonly interactive: boolean;
  readonly prompter: Prompter;
  /** Where command output goes (through the pager on a TTY). */
  readonly sink: OutputSink;
  /** Writes one error line to stderr. */
  error(line: string): void;
  /** Waits until everything written has been shown (the pager is done); then prompts may follow. */
  settle?(): Promise<void>;
  /** A command starts: the pager counts from here. */
  begin?(): void;
}

/** The outcome of one line. */
export type LineResult = 'ok' | 'failed';

/** How a session starts. */
export interface SessionOptions {
  readonly services: Services;
  readonly registry: Registry;
  readonly user: string;
  readonly id: string;
  readonly hostname: string;
  readonly terminal: TerminalSettings;
  readonly interactive: boolean;
}

/** A session: one user at one terminal or script, one context stack. */
export class Session {
  readonly services: Services;
  readonly registry: Registry;
  readonly user: string;
  readonly id: string;
  readonly hostname: string;
  readonly terminal: TerminalSettings;
  readonly interactive: boolean;
  private stack: string[] = ['exec'];
  private readonly lines: string[] = [];
  private running: AbortController | undefined;
  private done = false;

  constructor(options: SessionOptions) {
    this.services = options.services;
    this.registry = options.registry;
    this.user = options.user;
    this.id = options.id;
    this.hostname = options.hostname;
    this.terminal = options.terminal;
    this.interactive = options.interactive;
  }

  /** The context the next line is read in. */
  get context(): Context {
    return this.registry.contexts[this.stack[this.stack.length - 1]!]!;
  }

  /** `example:/>`, `example:/package/#>`. */
  prompt(): string {
    return `${this.hostname}:${this.context.path}>`;
  }

  /** Whether `exit` at the top level (or Ctrl-D) ended the session. */
  get ended(): boolean {
    return this.done;
  }

  /** Lines entered so far, passwords masked. */
  history(): readonly string[] {
    return this.lines;
  }

  /** The line as history and logs may keep it (`password ****`). */
  redact(line: string): string {
    return redact(this.registry, this.context.name, line);
  }

  /** Aborts the running command (Ctrl-C); false when nothing runs. */
  interrupt(): boolean {
    if (this.running === undefined) return false;
    this.running.abort(new CliError('CLI_ABORTED', 'interrupted (Ctrl-C)'));
    return true;
  }

  /** The abort signal of the running command, if one runs. */
  get signal(): AbortSignal | undefined {
    return this.running?.signal;
  }

  /** Whether a command is running now. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** `exit` from the front-end (Ctrl-D): leaves the context, at the top ends the session. */
  exit(): void {
    if (this.stack.length > 1) this.stack.pop();
    else this.done = true;
  }

  /** Runs one line typed in the current context. Never throws: errors are printed as one line. */
  async execute(line: string, fe: FrontEnd): Promise<LineResult> {
    if (line.trim() !== '') this.lines.push(this.redact(line));
    let parsed: ReturnType<typeof parseLine>;
    try {
      parsed = parseLine(this.registry, this.context.name, line);
    } catch (e) {
      this.report(e, fe, false);
      return 'failed';
    }
    const inv = parsed.invocation;
    if (inv.kind === 'empty') return 'ok';
    if (inv.kind === 'enter') {
      this.stack = ['exec', inv.context];
      return 'ok';
    }
    const controller = new AbortController();
    this.running = controller;
    fe.begin?.();
    const filters: LineFilter[] = parsed.filters.map((f) => f.command.filter!(f.args));
    const out = new FilteredOutput(filters, fe.sink);
    const settle = async (): Promise<void> => fe.settle?.();
    const ui: Prompter = {
      confirm: async (q) => {
        await settle();
        return fe.prompter.confirm(q);
      },
      password: async (p) => {
        await settle();
        return fe.prompter.password(p);
      },
      progress: (label) => fe.prompter.progress(label),
    };
    const env: CommandEnv = {
      services: this.services,
      session: this.api(),
      out,
      ui,
      context: inv.context,
      signal: controller.signal,
    };
    try {
      if (inv.command.run === undefined) throw new Error(`command ${inv.command.name} has nothing to run`);
      await inv.command.run(inv.args, env);
      out.end();
      await settle();
      return 'ok';
    } catch (e) {
      out.end();
      await settle();
      this.report(e, fe, controller.signal.aborted);
      return 'failed';
    } finally {
      this.running = undefined;
    }
  }

  private report(e: unknown, fe: FrontEnd, aborted: boolean): void {
    const error = aborted && !isLayerError(e) ? new CliError('CLI_ABORTED', 'interrupted (Ctrl-C)') : e;
    fe.error(errorLine(error));
    if (process.env.EDGESH_DEBUG === '1' && e instanceof Error && e.stack) fe.error(e.stack);
  }

  private api(): SessionApi {
    return {
      user: this.user,
      id: this.id,
      terminal: this.terminal,
      interactive: this.interactive,
      registry: this.registry,
      history: () => this.lines,
      nav: {
        enter: (context) => {
          this.stack = ['exec', context];
        },
        exit: () => this.exit(),
        top: () => {
          this.stack = ['exec'];
        },
      },
    };
  }
}
