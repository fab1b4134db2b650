// One CLI session: the context stack, terminal settings, history, and running a line through the parser.
import type { Prompter, Services, TerminalSettings } from '../contexts/env.js';
import { CliError, isLayerError, promptHostname, terminalText } from '../contexts/errors.js';
import type {
  Args,
  Command,
  CommandEnv,
  Context,
  LineFilter,
  Registry,
  SessionApi,
} from '../contexts/grammar.js';
import { formatJson } from '../contexts/json.js';
import { parseLine, redact } from '../contexts/parser.js';
import { classOf, type ErrorClass, failureLine } from './exit-status.js';
import { asideOutput, FilteredOutput, type OutputSink } from './output.js';

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

/** The outcome of one line: `ok`, or the class of its failure (shell/exit-status.ts). */
export type LineResult = 'ok' | ErrorClass;

/** How a session starts. */
export interface SessionOptions {
  readonly services: Services;
  readonly registry: Registry;
  readonly user: string;
  readonly id: string;
  readonly hostname: string;
  readonly terminal: TerminalSettings;
  readonly interactive: boolean;
  /** `--accept-new-host-keys`. */
  readonly acceptNewHostKeys?: boolean;
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
  readonly acceptNewHostKeys: boolean;
  private stack: string[] = ['exec'];
  private readonly lines: string[] = [];
  private running:
    | {
        readonly controller: AbortController;
        readonly finished: Promise<void>;
        readonly fe: FrontEnd;
        /** Set while the command must not be stopped: what Ctrl-C prints instead. */
        shield?: string | undefined;
        /** `| json`: stdout holds the command's document alone. */
        readonly json: boolean;
      }
    | undefined;
  private done = false;
  private unasked = false;
  private status: number | undefined;

  constructor(options: SessionOptions) {
    this.services = options.services;
    this.registry = options.registry;
    this.user = options.user;
    this.id = options.id;
    this.hostname = promptHostname(options.hostname);
    this.terminal = options.terminal;
    this.interactive = options.interactive;
    this.acceptNewHostKeys = options.acceptNewHostKeys === true;
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

  /**
   * Aborts the running command (Ctrl-C); false when nothing runs. `reason` is what the command
   * reports when it has nothing more precise to say (install says which package was not installed).
   * A command in a part that must not be stopped (`shielded`, a boot) goes on, and the front-end
   * prints why on a line of its own.
   */
  interrupt(reason = new CliError('CLI_ABORTED', 'interrupted (Ctrl-C)')): boolean {
    const running = this.running;
    if (running === undefined) return false;
    if (running.shield !== undefined) running.fe.error(running.shield);
    else running.controller.abort(reason);
    return true;
  }

  /**
   * SIGHUP or SIGTERM: aborts the running command like Ctrl-C and ends the session once it has
   * cleaned up; the process then exits with `status` (`exitStatus`). Resolves when no command runs.
   */
  terminate(status: number, reason: CliError): Promise<void> {
    this.status ??= status;
    this.done = true;
    const running = this.running;
    if (running === undefined) return Promise.resolve();
    running.controller.abort(reason);
    return running.finished;
  }

  /** The exit status a signal asked for (`terminate`), if one did. */
  get exitStatus(): number | undefined {
    return this.status;
  }

  /** The abort signal of the running command, if one runs. */
  get signal(): AbortSignal | undefined {
    return this.running?.controller.signal;
  }

  /** Whether a command is running now. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /**
   * Whether the running command prints a document (`| json`): stdout holds the document alone, so a
   * front-end writes a question (and anything else) to stderr meanwhile.
   */
  get documentOnly(): boolean {
    return this.running?.json === true;
  }

  /** `exit` from the front-end (Ctrl-D): leaves the context, at the top ends the session. */
  exit(): void {
    if (this.stack.length > 1) this.stack.pop();
    else this.done = true;
  }

  /**
   * Whether the last command failed before it asked for a secret it may have asked for (`install`
   * without `password`, the server down): in a script the next line may be that password.
   */
  get secretUnasked(): boolean {
    return this.unasked;
  }

  /**
   * The line as history, `--echo` and the process title may show it: passwords masked; a line that
   * `mayBeSecret` (it follows a `secretUnasked` command) and is no command at all, not at all.
   */
  shownLine(line: string, mayBeSecret = false): string {
    return mayBeSecret && this.noCommand(line) ? '****' : this.redact(line);
  }

  /** Whether the first word of `line` is no command of the current context (nor a prefix of one). */
  private noCommand(line: string): boolean {
    try {
      parseLine(this.registry, this.context.name, line.trim().split(/\s+/)[0] ?? '');
      return false;
    } catch (e) {
      return e instanceof CliError && e.code === 'CLI_UNKNOWN_COMMAND';
    }
  }

  /**
   * Runs one line typed in the current context. Never throws: errors are printed as one line. With
   * `mayBeSecret` (see `shownLine`), a line that is no command is neither run nor repeated.
   */
  async execute(line: string, fe: FrontEnd, mayBeSecret = false): Promise<LineResult> {
    this.unasked = false;
    if (line.trim() !== '') this.lines.push(this.shownLine(line, mayBeSecret));
    let parsed: ReturnType<typeof parseLine>;
    try {
      parsed = parseLine(this.registry, this.context.name, line);
    } catch (e) {
      return this.report(mayBeSecret && this.noCommand(line) ? unaskedAnswer() : e, fe);
    }
    const inv = parsed.invocation;
    if (inv.kind === 'empty') return 'ok';
    if (inv.kind === 'enter') {
      this.stack = ['exec', inv.context];
      return 'ok';
    }
    const controller = new AbortController();
    let asked = false;
    // A question of the command that automation mode did not ask (its failure then says what to do).
    let unasked = false;
    let finish!: () => void;
    this.running = {
      controller,
      finished: new Promise((resolve) => (finish = resolve)),
      fe,
      json: parsed.json,
    };
    fe.begin?.();
    const filters: LineFilter[] = parsed.filters.map((f) => f.command.filter!(f.args));
    const out = new FilteredOutput(filters, fe.sink, controller.signal);
    // Before a question, every line printed so far is on the screen, filters or not.
    const settle = async (): Promise<void> => {
      await out.flush();
      await fe.settle?.();
    };
    // `confirm` on the line answers the command's own questions; in automation mode nothing is asked
    // (a question not asked is a no, a password not asked is none, a new host key is not trusted).
    const confirmed = inv.args.confirm === true;
    const automation = this.terminal.automation;
    // Questions may quote the device or a server (a version, a host key): no escape sequences.
    const ui: Prompter = {
      confirm: async (q, about = 'command') => {
        if (about === 'command' && confirmed) return true;
        if (automation) {
          if (about === 'command') unasked = true;
          return false;
        }
        await settle();
        return fe.prompter.confirm(q.split('\n').map(terminalText).join('\n'), about);
      },
      password: async (p) => {
        if (automation) return undefined;
        asked = true;
        await settle();
        return fe.prompter.password(terminalText(p));
      },
      // Automation mode draws no bar, nor anything else in place.
      progress: (label) => (automation ? undefined : fe.prompter.progress(label)),
      // `confirm` on the line answers as -y does, questions that script mode refuses to ask included.
      ...(fe.prompter.assumeYes || confirmed ? { assumeYes: true } : {}),
    };
    const env: CommandEnv = {
      services: this.services,
      session: this.api(),
      // With `| json` stdout holds the document alone: what else the command prints goes to stderr.
      out: parsed.json ? asideOutput(fe.sink, out) : out,
      ui,
      context: inv.context,
      signal: controller.signal,
    };
    try {
      const command = inv.command;
      if (command.data !== undefined) {
        const doc = await command.data(inv.args, env);
        if (parsed.json) out.line(formatJson(doc));
        else await command.text?.(doc, env);
      } else if (command.run !== undefined) {
        await command.run(inv.args, env);
      } else {
        throw new Error(`command ${command.name} has nothing to run`);
      }
      await out.end();
      await settle();
      return 'ok';
    } catch (e) {
      await out.end().catch(() => {});
      await settle();
      const failure = this.report(unasked ? withConfirmHint(e) : e, fe, controller.signal);
      this.unasked = !asked && !controller.signal.aborted && mayAskSecret(inv.command, inv.args);
      return failure;
    } finally {
      this.running = undefined;
      finish();
    }
  }

  /**
   * Prints a failure as one line. An aborted command says so in one way, whichever layer noticed
   * (a transport's `transfer aborted`, the store's own words): its own `CLI_ABORTED` error when it
   * has one (`installation of NAME cancelled; nothing was installed`), else the abort's reason.
   */
  private report(e: unknown, fe: FrontEnd, signal?: AbortSignal): ErrorClass {
    let error = e;
    if (signal?.aborted && !(e instanceof CliError && e.code === 'CLI_ABORTED')) {
      error = signal.reason instanceof CliError ? signal.reason : new CliError('CLI_ABORTED', 'interrupted');
    }
    // A script's line that is no command is not repeated beyond its first word: it may be a password
    // meant for a prompt that never came (the server was down), and a script's errors go to logs.
    if (!this.interactive && error instanceof CliError && error.brief !== undefined)
      error = new CliError(error.code, error.brief);
    const line = failureLine(error);
    fe.error(this.terminal.ascii ? line.replace(/\u2026/g, '...') : line);
    if (process.env.EDGESH_DEBUG === '1' && e instanceof Error && e.stack) fe.error(e.stack);
    return classOf(error);
  }

  private api(): SessionApi {
    return {
      user: this.user,
      id: this.id,
      terminal: this.terminal,
      interactive: this.interactive,
      acceptNewHostKeys: this.acceptNewHostKeys,
      registry: this.registry,
      history: () => this.lines,
      shielded: async (notice, work) => {
        const running = this.running;
        if (running === undefined) return work();
        running.shield = notice;
        try {
          return await work();
        } finally {
          running.shield = undefined;
        }
      },
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

/**
 * Whether `command` could have asked for a secret it was not given: it declares a `secret: true`
 * option (`password`) that the line left out and that applies to what it names (not after `media`).
 */
function mayAskSecret(command: Command, args: Args): boolean {
  return (command.params ?? []).some(
    (p) =>
      p.kind === 'options' &&
      p.options.some(
        (d) => d.kind === 'value' && d.secret === true && args[d.key] === undefined && !d.skipIf?.(args),
      ),
  );
}

/** What a script says of a line that is no command right after a command that never asked its password. */
function unaskedAnswer(): CliError {
  return new CliError(
    'CLI_UNKNOWN_COMMAND',
    'not a command, and not shown: it may be the password for the line before, which failed before asking for it',
  );
}

/** Codes of a question answered no (`not-confirmed`), whichever layer reports it. */
const NOT_CONFIRMED = new Set(['CLI_NOT_CONFIRMED', 'DEVICE_DOWNGRADE_REFUSED']);

/**
 * A command that failed because automation mode did not ask its question says what to do about it:
 * `not confirmed, nothing was changed (nothing is asked in automation mode: add confirm to the command)`.
 */
function withConfirmHint(e: unknown): unknown {
  if (!isLayerError(e) || !NOT_CONFIRMED.has(e.code)) return e;
  const hinted = new CliError(
    'CLI_NOT_CONFIRMED',
    `${e.message} (nothing is asked in automation mode: add confirm to the command)`,
    { cause: e },
  );
  return hinted;
}
