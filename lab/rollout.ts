// A rollout over a fleet of `npm run fleet`: the signed package and the http server it comes from, devices made to fail, Ansible's run.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSecretKey } from '../firmware-sim/format/index.js';
import { type RunningHttpServer, startHttpServer } from './http-server.js';
import { buildPackage, file } from './packages.js';

/** What a rollout needs of a fleet (scripts/fleet/types.ts's FleetRecord has it). */
export interface Fleet {
  /** The vendor's secret key every device trusts. */
  readonly vendorSecretKey: string;
  /** Ansible's HOME and configuration for the fleet. */
  readonly ansibleHome: string;
  readonly ansibleConfig: string;
}

/** A device of the fleet: its state directory. */
export interface FleetDevice {
  readonly deviceDir: string;
}

/** The package of a rollout, served over http on loopback. */
export interface RolloutSource {
  readonly name: string;
  readonly version: string;
  /** The file's path on the server (`rollout_src`). */
  readonly src: string;
  /** `127.0.0.1:PORT` (`rollout_server`). */
  readonly server: string;
  readonly size: number;
  readonly http: RunningHttpServer;
  close(): Promise<void>;
}

/**
 * Builds `name` `version` for arm64 (every fleet device's architecture), signed with the fleet's vendor
 * key and holding `payload` bytes of random data (a full disk needs a package larger than the space
 * left), and serves it over http on 127.0.0.1 on a port of the system's choice.
 */
export async function serveRollout(
  record: Fleet,
  options: { readonly name: string; readonly version: string; readonly payload: number },
): Promise<RolloutSource> {
  const dir = await mkdtemp(join(tmpdir(), 'edgesh-rollout-'));
  try {
    const key = parseSecretKey(await readFile(record.vendorSecretKey));
    const path = await buildPackage(dir, {
      name: options.name,
      version: options.version,
      architecture: 'arm64',
      description: `${options.name} for the whole fleet`,
      data: [file(`./opt/${options.name}/payload`, randomBytes(options.payload))],
      sign: key,
    });
    const data = await readFile(path);
    const src = `${options.name}.wmopkg`;
    const http = await startHttpServer({ files: { [src]: data }, host: '127.0.0.1' });
    return {
      name: options.name,
      version: options.version,
      src,
      server: `127.0.0.1:${http.port}`,
      size: data.length,
      http,
      close: () => http.close(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A device of another architecture (`armhf`): an arm64 package is refused before anything is stored. */
export async function makeWrongArchitecture(device: FleetDevice): Promise<void> {
  const path = join(device.deviceDir, 'device.json');
  const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  await writeFile(path, `${JSON.stringify({ ...config, architectures: ['armhf'] }, null, 2)}\n`);
}

/**
 * A device whose storage is nearly full (root only): its directory moves onto a tmpfs of its own,
 * owner and modes kept, and a file of other data (`var/filler`) leaves `room` bytes free. Returns what
 * undoes it (the device's files back on the disk as they are then, the filler gone).
 */
export async function makeDiskFull(device: FleetDevice, room: number): Promise<() => Promise<void>> {
  const save = await mkdtemp(join(tmpdir(), 'edgesh-full-disk-'));
  const filler = join(device.deviceDir, 'var', 'filler');
  // The mount's own directory gets the device directory's owner and mode (mkdtemp's 0700 would lock
  // the device's user out of its own storage).
  const own = await stat(device.deviceDir);
  const restore = async (): Promise<void> => {
    await chown(device.deviceDir, own.uid, own.gid);
    await chmod(device.deviceDir, own.mode & 0o7777);
  };
  await run('cp', ['-a', `${device.deviceDir}/.`, `${save}/`]);
  await run('mount', ['-t', 'tmpfs', '-o', `size=${16 * 1024 * 1024},mode=755`, 'tmpfs', device.deviceDir]);
  // cp -a keeps owners (fs.cp does not): the device runs as the fleet's user.
  await run('cp', ['-a', `${save}/.`, `${device.deviceDir}/`]);
  await restore();
  const free = statfsSync(device.deviceDir);
  await writeFile(filler, Buffer.alloc(Math.max(0, free.bavail * free.bsize - room)));
  return async () => {
    try {
      await rm(filler, { force: true });
      await run('cp', ['-a', `${device.deviceDir}/.`, `${save}/`]);
      await run('umount', [device.deviceDir]);
      await run('cp', ['-a', `${save}/.`, `${device.deviceDir}/`]);
      await restore();
    } finally {
      await rm(save, { recursive: true, force: true });
    }
  };
}

/** What one host did in a playbook run (Ansible's recap). */
export interface HostStats {
  readonly ok: number;
  readonly changed: number;
  readonly failures: number;
  readonly unreachable: number;
}

/** A playbook run with Ansible's JSON output. */
export interface PlaybookRun {
  readonly status: number;
  readonly stderr: string;
  /** The recap of every host. */
  readonly stats: Readonly<Record<string, HostStats>>;
  /** Every task's result per host, by task name. */
  readonly results: ReadonlyArray<{
    readonly task: string;
    readonly hosts: Readonly<Record<string, unknown>>;
  }>;
}

/**
 * Runs `playbook` (a file or a collection's `ns.coll.name`) on the fleet with `vars`, as the fleet
 * prints it should be run (its HOME and ansible.cfg), and Ansible's JSON output. Asynchronous: an
 * http server of this process must answer the devices meanwhile.
 */
export async function runPlaybook(
  record: Fleet,
  playbook: string,
  vars: Readonly<Record<string, string | number>>,
  timeoutMs = 600_000,
): Promise<PlaybookRun> {
  const args = [playbook, ...Object.entries(vars).flatMap(([k, v]) => ['-e', `${k}=${v}`])];
  const env = {
    ...process.env,
    HOME: record.ansibleHome,
    ANSIBLE_CONFIG: record.ansibleConfig,
    ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json',
    ANSIBLE_NOCOLOR: '1',
  };
  const { status, stdout, stderr } = await run('ansible-playbook', args, { env, timeoutMs, check: false });
  const start = stdout.indexOf('{');
  if (start < 0) throw new Error(`ansible-playbook printed no JSON (status ${status}):\n${stderr}${stdout}`);
  const doc = JSON.parse(stdout.slice(start)) as {
    stats: Record<string, HostStats>;
    plays: Array<{ tasks: Array<{ task: { name: string }; hosts: Record<string, unknown> }> }>;
  };
  return {
    status,
    stderr,
    stats: doc.stats,
    results: doc.plays.flatMap((p) => p.tasks.map((t) => ({ task: t.task.name, hosts: t.hosts }))),
  };
}

/** Runs a program to its end; rejects on a failure unless `check` is false. */
export function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; check?: boolean } = {},
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    // Past its time the program is ended; 10 s later it is killed and its pipes are let go, since a
    // process it left behind (ansible-connection, say) could hold them open for ever.
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => {
        child.kill('SIGKILL');
        child.stdout.destroy();
        child.stderr.destroy();
      }, 10_000).unref();
    }, options.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const status = code ?? 128;
      if (options.check !== false && status !== 0) {
        reject(new Error(`${command} ${args.join(' ')}: ${signal ?? `exit ${status}`}\n${stderr}`));
      } else {
        resolve({ status, stdout, stderr });
      }
    });
  });
}
