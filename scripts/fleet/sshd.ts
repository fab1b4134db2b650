// One real OpenSSH sshd per fleet device: its host key, its configuration, starting it, and stopping it.
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ed25519KeyPair } from './ssh-key.js';

const run = promisify(execFile);

/** Where the OpenSSH daemon is on Debian. */
export const SSHD = '/usr/sbin/sshd';

/** What one device's sshd needs to know. */
export interface SshdSite {
  /** The device's directory for its sshd: host key, configuration, pid file, log. */
  readonly sshDir: string;
  readonly address: string;
  readonly port: number;
  /** The only user allowed to log in. */
  readonly user: string;
  /** Absolute path of the authorized_keys file every device shares. */
  readonly authorizedKeys: string;
  /** The device state directory, handed to edgesh as `EDGESH_DEVICE`. */
  readonly deviceDir: string;
  /**
   * Without root sshd cannot give the user another login shell: the wrapper is then run as
   * `ForceCommand` (it turns `SSH_ORIGINAL_COMMAND` into `-c`, as sshd does for a login shell).
   */
  readonly forceCommand?: string;
}

/** The files of one device's sshd. */
export function sshdFiles(sshDir: string): { key: string; config: string; pid: string; log: string } {
  return {
    key: join(sshDir, 'ssh_host_ed25519_key'),
    config: join(sshDir, 'sshd_config'),
    pid: join(sshDir, 'sshd.pid'),
    log: join(sshDir, 'sshd.log'),
  };
}

/**
 * Makes an ed25519 key pair in OpenSSH's format (`path`, mode 0600, and `path.pub`); resolves with the
 * public key line without its comment (`ssh-ed25519 AAAA…`).
 */
export async function makeKey(path: string, comment: string): Promise<string> {
  const pair = ed25519KeyPair(comment);
  await writeFile(path, pair.private, { mode: 0o600 });
  await writeFile(`${path}.pub`, `${pair.public}\n`, { mode: 0o644 });
  const [type, blob] = pair.public.split(' ');
  return `${type} ${blob}`;
}

/**
 * The configuration of a device's sshd: only key logins of one user, the device's directory in the
 * session's environment by `SetEnv` (it overrides what a client sends), no privileged port juggling
 * beyond what the address needs. `LANG`/`LC_*` are accepted, as a device's sshd would.
 */
export function sshdConfig(site: SshdSite): string {
  const files = sshdFiles(site.sshDir);
  const lines = [
    '# A simulated edgesh device (written by npm run fleet).',
    `Port ${site.port}`,
    `ListenAddress ${site.address}`,
    `HostKey ${files.key}`,
    `PidFile ${files.pid}`,
    `AuthorizedKeysFile ${site.authorizedKeys}`,
    `AllowUsers ${site.user}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PermitRootLogin no',
    // The fleet's directory may lie anywhere, a sticky /tmp included, which StrictModes refuses; the
    // fleet writes authorized_keys itself, mode 0644, in a directory only its owner can write.
    'StrictModes no',
    'UseDNS no',
    'AcceptEnv LANG LC_*',
    `SetEnv EDGESH_DEVICE=${site.deviceDir}`,
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'AllowTcpForwarding no',
    'AllowAgentForwarding no',
    'PermitTunnel no',
  ];
  if (site.forceCommand !== undefined) lines.push(`ForceCommand ${site.forceCommand}`);
  return `${lines.join('\n')}\n`;
}

/** Writes the configuration, checks it (`sshd -t`) and starts the daemon; it writes its pid file. */
export async function startSshd(site: SshdSite): Promise<void> {
  const files = sshdFiles(site.sshDir);
  await writeFile(files.config, sshdConfig(site), { mode: 0o644 });
  // sshd detaches and writes its pid file; its log goes to a file of its own (no syslog needed).
  await run(SSHD, ['-f', files.config, '-E', files.log]);
}

/**
 * Resolves once the sshd of `site` listens: sshd writes its pid file after its socket is bound, so a
 * pid file naming a live process says so without a test connection (each of which costs sshd a
 * re-exec). Rejects with sshd's own words when it gave up (`Bind to port 22 on 127.0.1.1 failed:
 * Address already in use.`: sshd detaches before it binds, so its exit status says nothing), or
 * after `timeoutMs`.
 */
export async function waitStarted(site: SshdSite, timeoutMs = 10_000): Promise<void> {
  const files = sshdFiles(site.sshDir);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pid = await readPid(files.pid);
    if (pid !== undefined && alive(pid)) return;
    const log = await readFile(files.log, 'utf8').catch(() => '');
    const failure = log.split('\n').find((line) => /Cannot bind|^Bind to port|fatal/i.test(line));
    if (failure !== undefined) throw new Error(`sshd on ${site.address}:${site.port}: ${failure.trim()}`);
    if (Date.now() > deadline) {
      throw new Error(`sshd did not start on ${site.address}:${site.port} (see ${files.log})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function readPid(pidFile: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(pidFile, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a TCP connection to address:port succeeds now. */
export function canConnect(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

/**
 * Stops the sshd listeners whose pid files are `pidFiles`, and the sessions they started: each
 * connection's sshd gets SIGTERM (its edgesh then gets the hang-up it cleans up after, within 3 s),
 * and the listener too; waits until all are gone (up to `timeoutMs`, then SIGKILL). A pid file of a
 * process that is gone, or of one that is not an sshd, is left alone.
 */
export async function stopSshds(pidFiles: readonly string[], timeoutMs = 5000): Promise<void> {
  const listeners: number[] = [];
  for (const file of pidFiles) {
    const pid = await readPid(file);
    if (pid !== undefined && (await isSshd(pid))) listeners.push(pid);
  }
  if (listeners.length === 0) return;
  const pids = [...(await childrenOf(new Set(listeners))), ...listeners];
  for (const p of pids) signal(p, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive)) {
    if (Date.now() > deadline) {
      for (const p of pids) signal(p, 'SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Pids whose parent is one of `parents` (the per-connection processes of sshd listeners); one pass over /proc. */
async function childrenOf(parents: ReadonlySet<number>): Promise<number[]> {
  const children: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^[0-9]+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // The command name in parentheses may hold blanks: the parent pid is the second field after it.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parents.has(ppid)) children.push(Number(name));
  }
  return children;
}

/** Whether `pid` is an sshd listener (its command line starts with sshd's path or name). */
async function isSshd(pid: number): Promise<boolean> {
  try {
    const argv0 = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0] ?? '';
    return /(^|\/)sshd\b/.test(argv0) || argv0.startsWith('sshd:');
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone meanwhile
  }
}
