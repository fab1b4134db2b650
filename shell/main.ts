// `edgesh`: parses the command line, opens the device, and hands the session to a front-end.
import type { Services } from '../contexts/env.js';
import { errorLine } from '../contexts/errors.js';
import { parseEdgeshArgs, USAGE } from './args.js';
import { loadServices, peekHostname } from './services.js';
import type { Session } from './session.js';
import { initialTerminal } from './terminal.js';
import { cliUser, sessionId } from './user.js';

/** Runs edgesh and resolves with its exit status (0 all good, 1 a command failed, 2 bad command line). */
export async function main(argv: readonly string[]): Promise<number> {
  let args: ReturnType<typeof parseEdgeshArgs>;
  try {
    args = parseEdgeshArgs(argv);
  } catch (e) {
    process.stderr.write(`${errorLine(e)}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const interactive =
    args.commands.length === 0 && process.stdin.isTTY === true && process.stdout.isTTY === true;
  // A bug in a callback must not print a stack trace, and must not end an interactive session.
  const onBug = (e: unknown): void => {
    process.stderr.write(`${errorLine(e instanceof Error ? e : new Error(String(e)))}\n`);
    if (process.env.EDGESH_DEBUG === '1' && e instanceof Error && e.stack)
      process.stderr.write(`${e.stack}\n`);
    if (!interactive) process.exit(1);
  };
  process.on('uncaughtException', onBug);
  process.on('unhandledRejection', onBug);
  if (args.commands.some((c) => /pass/i.test(c))) await hideSecrets(args.commands);
  const user = cliUser(args.user);
  const id = sessionId();
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
  if (interactive) {
    const quick = await peekHostname(args.device);
    if (quick !== undefined) {
      firstPrompt = `${quick}:/>`;
      process.stdout.write(`${firstPrompt} `);
      loadGrammar();
    }
  }
  let services: Services;
  let hostname: string;
  try {
    services = await loading;
    hostname = (await services.device.info()).hostname;
  } catch (e) {
    if (firstPrompt !== undefined) process.stdout.write('\n');
    process.stderr.write(`${errorLine(e)}\n`);
    return 1;
  }
  const openSession = async (): Promise<Session> => {
    const [{ registry }, { Session }] = await loadGrammar();
    return new Session({
      services,
      registry,
      user,
      id,
      hostname,
      terminal: initialTerminal(interactive),
      interactive,
    });
  };
  // A command may wait on something that holds no handle of its own (a prompt on a paused stdin,
  // a stalled stream): keep the process up until the session is over.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    if (interactive) {
      if (firstPrompt === undefined) {
        firstPrompt = `${hostname}:/>`;
        process.stdout.write(`${firstPrompt} `);
      }
      const { runTty } = await import('./tty.js');
      return await runTty({ firstPrompt, openSession });
    }
    const [session, { runScript }] = await Promise.all([openSession(), import('./script.js')]);
    // Ctrl-C aborts the running command; a second one, or one between commands, ends the script.
    const onSigint = (): void => {
      if (session.signal?.aborted || !session.interrupt()) process.exit(130);
    };
    process.on('SIGINT', onSigint);
    try {
      return await runScript(session, args);
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  } finally {
    clearInterval(keepAlive);
    await services.close();
  }
}

/**
 * A password in a `-c` line (`ssh host 'package install … password X'`) is visible to every user
 * in the process list: the command line the process shows is replaced by one with `password ****`.
 */
async function hideSecrets(commands: readonly string[]): Promise<void> {
  const [{ redact }, { registry }, { splitCommands }] = await Promise.all([
    import('../contexts/parser.js'),
    import('../contexts/index.js'),
    import('../contexts/tokenize.js'),
  ]);
  const shown = commands.map((c) =>
    splitCommands(c)
      .map((part) => redact(registry, 'exec', part))
      .join('; '),
  );
  process.title = ['edgesh', ...shown.map((c) => `-c '${c}'`)].join(' ');
}
