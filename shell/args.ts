// The command line of `edgesh`: `edgesh [--device DIR] [--user NAME] [-c LINE]… [-y] [--accept-new-host-keys] …`.
import { parseArgs } from 'node:util';
import { CliError } from '../contexts/errors.js';
import { DEFAULT_DEVICE_DIR } from '../firmware-sim/api.js';

/** What the command line asks for. */
export interface EdgeshArgs {
  readonly device: string;
  readonly user: string | undefined;
  readonly commands: readonly string[];
  readonly yes: boolean;
  readonly acceptNewHostKeys: boolean;
  readonly echo: boolean;
  readonly exitOnError: boolean;
  readonly help: boolean;
}

/** Printed by `edgesh --help`. */
export const USAGE = `Usage: edgesh [--device DIR] [--user NAME] [-c LINE]... [-y] [--accept-new-host-keys]
              [--echo] [--exit-on-error]

  --device DIR      device state directory (default: $EDGESH_DEVICE, else ./.device)
  --user NAME       CLI user (default: the logged-in user)
  -c LINE           run LINE and exit; repeatable; ';' separates commands
  -y, --yes         answer every confirmation of a command with yes (not a host key)
  --accept-new-host-keys
                    add the key of an SSH server not in known_hosts without asking
                    (a changed key is always refused)
  --echo            print "PROMPT COMMAND" before each command's output
  --exit-on-error   stop at the first command that fails
  -h, --help        show this help

With a terminal on stdin and stdout and no -c, the shell is interactive; otherwise it reads
commands from stdin (script mode). Exit status: 0 if every command succeeded, else the status
of the class of the first failure, named at the end of its error line: 1 failed, 2 usage,
3 unknown-command, 4 not-found, 5 not-confirmed, 6 refused, 7 transfer, 8 locked, 9 storage,
70 internal, 130 interrupted (docs/automation.md).`;

/** Parses `argv` (without node and the script). Throws `CliError` (`CLI_USAGE`) with a one-line message. */
export function parseEdgeshArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): EdgeshArgs {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (e) {
    throw new CliError('CLI_USAGE', `${(e as Error).message.split('\n')[0]} (see edgesh --help)`);
  }
  return {
    device: values.device ?? (env.EDGESH_DEVICE || DEFAULT_DEVICE_DIR),
    user: values.user,
    commands: values.command ?? [],
    yes: values.yes === true,
    acceptNewHostKeys: values['accept-new-host-keys'] === true,
    echo: values.echo === true,
    exitOnError: values['exit-on-error'] === true,
    help: values.help === true,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      device: { type: 'string' },
      user: { type: 'string' },
      command: { type: 'string', short: 'c', multiple: true },
      yes: { type: 'boolean', short: 'y' },
      'accept-new-host-keys': { type: 'boolean' },
      echo: { type: 'boolean' },
      'exit-on-error': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
