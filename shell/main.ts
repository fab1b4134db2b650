// `edgesh`: parses the command line, opens the device, and hands the session to a front-end.
import { errorLine } from '../contexts/errors.js';
import { registry } from '../contexts/index.js';
import { parseEdgeshArgs, USAGE } from './args.js';
import { runScript } from './script.js';
import { loadServices } from './services.js';
import { Session } from './session.js';
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
  const user = cliUser(args.user);
  let session: Session;
  try {
    const services = await loadServices({ deviceDir: args.device, user, sessionId: sessionId() });
    const info = await services.device.info();
    session = new Session({
      services,
      registry,
      user,
      id: sessionId(),
      hostname: info.hostname,
      terminal: initialTerminal(interactive),
      interactive,
    });
  } catch (e) {
    process.stderr.write(`${errorLine(e)}\n`);
    return 1;
  }
  // A command may wait on something that holds no handle of its own (a prompt on a paused stdin,
  // a stalled stream): keep the process up until the session is over.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    if (interactive) {
      const { runTty } = await import('./tty.js');
      return await runTty(session);
    }
    const onSigint = (): void => {
      if (!session.interrupt()) process.exit(130);
    };
    process.on('SIGINT', onSigint);
    try {
      return await runScript(session, args);
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  } finally {
    clearInterval(keepAlive);
    await session.services.close();
  }
}
