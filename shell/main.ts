// `edgesh`: parses the command line, opens the device, and hands the session to a front-end.
import { constants } from 'node:os';
import { resolve } from 'node:path';
import type { Services } from '../contexts/env.js';
import { CliError, promptHostname, terminalText } from '../contexts/errors.js';
import { parseEdgeshArgs, USAGE } from './args.js';
import { exitStatusOf, failureLine } from './exit-status.js';
import { isNewDevice, loadServices, peekHostname } from './services.js';
import type { Session } from './session.js';
import { automationFromEnv, initialTerminal } from './terminal.js';
import { cliUser, sessionId } from './user.js';

/**
 * How long a hang-up or SIGTERM waits for the running command to clean up (remove its temporary
 * file, release the device lock) before the process ends anyway.
 */
export const TERMINATE_GRACE_MS = 3000;

/**
 * Runs edgesh and resolves with its exit status: 0 all good; the status of the class of the first
 * failure (shell/exit-status.ts: 2 a bad command line or usage, 3 an unknown command, …); 128 + the
 * signal's number after SIGHUP or SIGTERM.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let args: ReturnType<typeof parseEdgeshArgs>;
  try {
    args = parseEdgeshArgs(argv);
  } catch (e) {
    process.stderr.write(`${failureLine(e)}\n`);
    return exitStatusOf(e);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const interactive =
    args.commands.length === 0 && process.stdin.isTTY === true && process.stdout.isTTY === true;
  // The session once it exists, for the signal handlers.
  let current: Session | undefined;
  let terminating: number | undefined;
  // A bug in a callback must not print a stack trace, and must not end an interactive session.
  const onBug = (e: unknown): void => {
    if (terminating !== undefined) return; // the terminal may be gone; the grace timer ends the process
    process.stderr.write(`${failureLine(e instanceof Error ? e : new Error(String(e)))}\n`);
    if (process.env.EDGESH_DEBUG === '1' && e instanceof Error && e.stack)
      process.stderr.write(`${e.stack}\n`);
    if (!interactive) process.exit(exitStatusOf(e));
  };
  process.on('uncaughtException', onBug);
  process.on('unhandledRejection', onBug);
  // SIGHUP (the SSH connection or the terminal went away) and SIGTERM end the shell as they would by
  // default, but only after the running command was aborted like Ctrl-C aborts it and cleaned up
  // (temporary file, device lock), within TERMINATE_GRACE_MS; the status is still 128 + signal.
  const onTerminate = (signal: 'SIGHUP' | 'SIGTERM'): void => {
    const status = 128 + constants.signals[signal];
    if (terminating !== undefined) return;
    terminating = status;
    quietOutput();
    if (current === undefined || !current.busy) process.exit(status);
    setTimeout(() => process.exit(status), TERMINATE_GRACE_MS).unref();
    void current
      .terminate(status, new CliError('CLI_ABORTED', `interrupted (${signal})`))
      .then(() => process.exit(status));
  };
  process.on('SIGHUP', onTerminate);
  process.on('SIGTERM', onTerminate);
  if (args.commands.length > 0) await hideSecrets(args.commands);
  const user = cliUser(args.user);
  const id = sessionId();
  // On a terminal the first start says where the device it creates lives (`npm start`: ./.device).
  const announce = interactive && isNewDevice(args.device);
  const loading = loadServices({ deviceDir: args.device, user, sessionId: id });
  loading.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  // The grammar (all contexts) loads while the device opens; on a TTY after the first prompt is drawn.
  let grammar:
    | Promise<readonly [typeof import('../contexts/index.js'), typeof import('./session.js')]>
    | undefined;
  const loadGrammar = (): NonNullable<typeof grammar> => {
    grammar ??= Promise.all([import('../contexts/index.js'), import('./session.js')] as const);
    grammar.catch(() => {});
    return grammar;
  };
  if (!interactive) loadGrammar();
  // On a terminal the first prompt is drawn as soon as the host name is known, before the device
  // store, the line editor (vorpal) and the grammar are loaded; keys typed meanwhile wait in the
  // terminal, and vorpal redraws the same prompt in the same place.
  let firstPrompt: string | undefined;
  // (A new device has no host name to read yet: its first prompt follows the notice below.)
  if (interactive && !announce) {
    const quick = await peekHostname(args.device);
    if (quick !== undefined) {
      firstPrompt = `${quick}:/>`;
      holdTypeahead();
      process.stdout.write(`${firstPrompt} `);
      loadGrammar();
    }
  }
  let services: Services;
  let hostname: string;
  try {
    services = await loading;
    // From the device's own files: escaped before it reaches the terminal in every prompt.
    hostname = promptHostname((await services.device.info()).hostname);
  } catch (e) {
    if (firstPrompt !== undefined) process.stdout.write('\n');
    process.stderr.write(`${failureLine(e)}\n`);
    return exitStatusOf(e);
  }
  const openSession = async (): Promise<Session> => {
    const [{ registry }, { Session }] = await loadGrammar();
    current = new Session({
      services,
      registry,
      user,
      id,
      hostname,
      // On a terminal, automation mode from the start for TERM=dumb or NO_COLOR (docs/automation.md).
      terminal: initialTerminal(interactive, process.stdout, interactive && automationFromEnv()),
      interactive,
      acceptNewHostKeys: args.acceptNewHostKeys,
    });
    return current;
  };
  // A command may wait on something that holds no handle of its own (a prompt on a paused stdin,
  // a stalled stream): keep the process up until the session is over.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    if (interactive) {
      if (announce) process.stdout.write(newDeviceNotice(args.device));
      if (firstPrompt === undefined) {
        firstPrompt = `${hostname}:/>`;
        holdTypeahead();
        process.stdout.write(`${firstPrompt} `);
      }
      // TERM=dumb or NO_COLOR: automation mode from the first prompt, without the line editor.
      if (automationFromEnv()) {
        const { runPlain } = await import('./plain-tty.js');
        const session = await openSession();
        if ((await runPlain(session, { promptShown: true })) === 'ended') return session.exitStatus ?? 0;
        process.stdout.write(`${session.prompt()} `);
        firstPrompt = session.prompt();
        const opened = session;
        const { runTty } = await import('./tty.js');
        const status = await runTty({ firstPrompt, openSession: async () => opened });
        return opened.exitStatus ?? status;
      }
      const { runTty } = await import('./tty.js');
      const status = await runTty({ firstPrompt, openSession });
      return current?.exitStatus ?? status;
    }
    const [session, { runScript }] = await Promise.all([openSession(), import('./script.js')]);
    // Ctrl-C aborts the running command; a second one, or one between commands, ends the script.
    const onSigint = (): void => {
      if (session.signal?.aborted || !session.interrupt()) process.exit(130);
    };
    process.on('SIGINT', onSigint);
    try {
      const status = await runScript(session, args);
      return session.exitStatus ?? status;
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  } finally {
    clearInterval(keepAlive);
    await services.close();
  }
}

/**
 * Keys typed before the line editor is up wait in the terminal without echo, and the editor draws them
 * on its line. Echoed by the terminal, they landed after the first prompt with a line end, and the
 * editor's redraw of the prompt on the next line looked to a program that waits for the prompt
 * (Ansible's network_cli) like the end of the command it had typed. Automation mode (TERM=dumb,
 * NO_COLOR) keeps the terminal's own echo: it has no editor. Called before the prompt is written:
 * a program answers the prompt as soon as it sees it.
 */
function holdTypeahead(): void {
  if (process.stdin.isTTY && !automationFromEnv()) process.stdin.setRawMode(true);
}

/** What the first start on a terminal says about the device it created, before the first prompt. */
function newDeviceNotice(deviceDir: string): string {
  return (
    `Created a new device in ${terminalText(resolve(deviceDir))}, with a simulated USB stick of sample packages.\n` +
    'Try: package, then install media external hello.wmopkg, then do reboot.\n'
  );
}

/** After a hang-up the terminal is gone: output that cannot be written any more is not an error. */
function quietOutput(): void {
  for (const stream of [process.stdin, process.stdout, process.stderr]) {
    stream.removeAllListeners('error');
    stream.on('error', () => {});
  }
}

/**
 * A password in a `-c` line (`ssh host 'package install … password X'`) is visible to every user
 * in the process list: the command line the process shows is replaced by one with `password ****`.
 */
async function hideSecrets(commands: readonly string[]): Promise<void> {
  const { mayHoldSecret, redact, registry, splitCommands } = await import('../contexts/index.js');
  if (!commands.some(mayHoldSecret)) return;
  const shown = commands.map((c) =>
    splitCommands(c)
      .map((part) => redact(registry, 'exec', part))
      .join('; '),
  );
  process.title = ['edgesh', ...shown.map((c) => `-c '${c}'`)].join(' ');
}
