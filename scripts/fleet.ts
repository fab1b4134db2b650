// `npm run fleet -- N` starts N simulated devices behind real OpenSSH sshd; `npm run fleet -- stop` stops them.
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startFleet, stopFleet } from './fleet/index.js';

const USAGE = `Usage: npm run fleet -- N [--dir DIR] [--base-port PORT]
       npm run fleet -- stop [--dir DIR]

  N                 number of devices to start (1-1000); a fleet running in DIR is replaced
  stop              stop the fleet in DIR (its sshd, their sessions; as root its user)
  --dir DIR         the fleet's directory (default: .fleet in the repository)
  --base-port PORT  without root: device K listens on 127.0.0.1:PORT+K (default 22000)

As root device K listens on 127.0.1.K:22. Writes DIR/inventory.yml, DIR/known_hosts,
DIR/ssh_config and DIR/ansible.cfg (see docs/automation.md).`;

// dist/scripts/fleet.js → the repository.
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function fail(message: string): never {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(2);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string', default: join(repo, '.fleet') },
      'base-port': { type: 'string', default: '22000' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
try {
  parsed = parse();
} catch (e) {
  fail(`${(e as Error).message} (npm run fleet -- --help)`);
}
const { values, positionals } = parsed;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (positionals.length !== 1) fail('expected N or stop (npm run fleet -- --help)');
const what = positionals[0]!;
const dir = values.dir!;
/** A path as the operator would type it from here: relative below the working directory, else absolute. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}
const shown = shownPath(dir);
/** `1 device`, `3 devices`. */
const devices = (n: number): string => `${n} device${n === 1 ? '' : 's'}`;

try {
  if (what === 'stop') {
    const record = await stopFleet(dir);
    process.stdout.write(
      record === undefined
        ? `No fleet in ${shown}.\n`
        : `Stopped ${devices(record.devices.length)} of ${shown}.\n`,
    );
  } else {
    if (!/^[0-9]+$/.test(what)) fail(`expected N or stop, not "${what}"`);
    const basePort = Number(values['base-port']);
    if (!Number.isInteger(basePort) || basePort < 1024 || basePort > 64535) {
      fail(`--base-port must be 1024 to 64535, not "${values['base-port']}"`);
    }
    const record = await startFleet({
      count: Number(what),
      dir,
      basePort,
      repo,
      log: (line) => process.stderr.write(`fleet: ${line}\n`),
    });
    const first = record.devices[0]!;
    const last = record.devices[record.devices.length - 1]!;
    const where = (d: typeof first): string => `${d.address}:${d.port}`;
    const range =
      first === last
        ? `${first.name} (${where(first)})`
        : `${first.name} (${where(first)}) … ${last.name} (${where(last)})`;
    process.stdout.write(`${devices(record.devices.length)}: ${range}, user ${record.user}
  ssh -F ${shownPath(record.sshConfig)} ${first.name} 'show version'
  HOME=${record.ansibleHome} ANSIBLE_CONFIG=${record.ansibleConfig} ansible-playbook edgesh.device.rollout -e …
Stop the fleet with: npm run fleet -- stop${values.dir === join(repo, '.fleet') ? '' : ` --dir ${shown}`}
`);
  }
} catch (e) {
  process.stderr.write(`Error: ${(e as Error).message}\n`);
  process.exit(1);
}
