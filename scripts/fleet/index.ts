// A fleet of simulated devices behind real OpenSSH sshd: start it, stop it, read what runs (npm run fleet).
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { vendorKeyFiles } from '../../firmware-sim/index.js';
import { ansibleConfig, type ClientSite, inventory, knownHosts, sshConfig } from './client-files.js';
import { DeviceTemplate, newSerials, type Owner } from './devices.js';
import {
  addShell,
  appFor,
  checkReachable,
  deleteUser,
  ensureUser,
  exists,
  isRoot,
  removeShell,
  writeWrapper,
} from './login.js';
import { canConnect, makeKey, type SshdSite, sshdFiles, startSshd, stopSshds, waitStarted } from './sshd.js';
import {
  deviceAddress,
  deviceName,
  FLEET_USER,
  type FleetDevice,
  type FleetOptions,
  type FleetRecord,
  MAX_DEVICES,
} from './types.js';

export * from './types.js';

/** How many ssh-keygen or sshd starts run at once: enough to hide their latency, few for two cores. */
const PARALLEL = 8;

/** Runs `fn` over `items`, at most `limit` at a time; rejects with the first failure. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The record of the fleet in `dir`, or undefined when none was started there. */
export async function readFleet(dir: string): Promise<FleetRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(resolve(dir), 'fleet.json'), 'utf8')) as FleetRecord;
  } catch {
    return undefined;
  }
}

/**
 * Starts `count` devices in `dir`, replacing a fleet that runs there. As root, device K listens on
 * 127.0.1.K:22 and its user's login shell is edgesh; otherwise on 127.0.0.1:basePort+K, with edgesh
 * as sshd's ForceCommand. On failure, what was started is stopped again.
 */
export async function startFleet(options: FleetOptions): Promise<FleetRecord> {
  const { count } = options;
  if (!Number.isInteger(count) || count < 1 || count > MAX_DEVICES) {
    throw new Error(`the number of devices must be 1 to ${MAX_DEVICES}, not ${count}`);
  }
  const log = options.log ?? (() => {});
  const dir = resolve(options.dir);
  const repo = resolve(options.repo);
  const root = isRoot();
  await clearDir(dir);
  const started = Date.now();

  const devices: FleetDevice[] = [];
  const names = Array.from({ length: count }, (_, i) => deviceName(i + 1, count));
  const serials = newSerials(count);
  for (let k = 1; k <= count; k++) {
    const name = names[k - 1]!;
    const base = join(dir, 'devices', name);
    devices.push({
      name,
      serial: serials[k - 1]!,
      deviceDir: join(base, 'device'),
      address: root ? deviceAddress(k) : '127.0.0.1',
      port: root ? 22 : options.basePort + k,
      hostKey: '',
      pidFile: sshdFiles(join(base, 'ssh')).pid,
    });
  }
  const busy = devices[0]!;
  if (await canConnect(busy.address, busy.port)) {
    throw new Error(
      `${busy.address}:${busy.port} is in use already (another fleet? npm run fleet -- stop --dir DIR)`,
    );
  }

  const shell = join(dir, 'bin', 'edgesh');
  const clientKey = join(dir, 'client', 'id_ed25519');
  const vendorDir = join(dir, 'vendor');
  const home = join(dir, 'home');
  for (const d of ['bin', 'client', 'devices', join('home', '.ssh'), 'login']) {
    await mkdir(join(dir, d), { recursive: true, mode: 0o755 });
  }
  let user = userInfo().username;
  let createdUser = false;
  let owner: Owner | undefined;
  const record = (): FleetRecord => ({
    format: 1,
    dir,
    root,
    user,
    createdUser,
    shell,
    clientKey,
    vendorSecretKey: vendorKeyFiles(vendorDir).secret,
    vendorPublicKey: vendorKeyFiles(vendorDir).public,
    inventory: join(dir, 'inventory.yml'),
    knownHosts: join(dir, 'known_hosts'),
    sshConfig: join(dir, 'ssh_config'),
    ansibleConfig: join(dir, 'ansible.cfg'),
    ansibleHome: home,
    devices,
  });
  // Written before anything runs, so that `stop` finds whatever a failed start left running.
  const save = (): Promise<void> =>
    writeFile(join(dir, 'fleet.json'), `${JSON.stringify(record(), null, 2)}\n`);
  await save();
  try {
    if (root) {
      const ids = await ensureUser(FLEET_USER, shell, join(dir, 'login'));
      user = FLEET_USER;
      createdUser = ids.created;
      owner = { uid: ids.uid, gid: ids.gid };
      await save();
      await checkReachable(user, dir);
      await addShell(shell);
      await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
    }
    const app = root ? await appFor(user, repo, process.execPath, join(dir, 'app')) : repo;
    await writeWrapper(shell, process.execPath, app);

    const template = await DeviceTemplate.create(join(dir, 'template'), vendorDir);
    const clientPublic = await makeKey(clientKey, 'edgesh fleet client');
    // `restrict` takes away forwarding of every kind; a pty stays, for interactive sessions.
    await writeFile(join(dir, 'client', 'authorized_keys'), `restrict,pty ${clientPublic}\n`, {
      mode: 0o644,
    });
    log(`creating ${count} device${count === 1 ? '' : 's'} in ${dir}`);
    const sites = new Map<string, SshdSite>();
    const hostKeys = new Map<string, string>();
    await eachLimited(devices, PARALLEL, async (device) => {
      const sshDir = join(dir, 'devices', device.name, 'ssh');
      await mkdir(sshDir, { recursive: true, mode: 0o755 });
      await template.write(device.deviceDir, { hostname: device.name, serial: device.serial }, owner);
      hostKeys.set(device.name, await makeKey(sshdFiles(sshDir).key, device.name));
      sites.set(device.name, {
        sshDir,
        address: device.address,
        port: device.port,
        user,
        authorizedKeys: join(dir, 'client', 'authorized_keys'),
        deviceDir: device.deviceDir,
        ...(root ? {} : { forceCommand: shell }),
      });
    });
    devices.forEach((device, i) => {
      devices[i] = { ...device, hostKey: hostKeys.get(device.name)! };
    });
    log(`starting ${count} sshd`);
    await eachLimited(devices, PARALLEL, async (device) => {
      const site = sites.get(device.name)!;
      await startSshd(site);
      await waitStarted(site);
    });
    const site: ClientSite = { dir, repo, user, clientKey, devices };
    await writeFile(join(dir, 'known_hosts'), knownHosts(devices));
    await writeFile(join(home, '.ssh', 'known_hosts'), knownHosts(devices));
    await writeFile(join(dir, 'inventory.yml'), inventory(site));
    await writeFile(join(dir, 'ssh_config'), sshConfig(site));
    await writeFile(join(dir, 'ansible.cfg'), ansibleConfig(site));
    await save();
    log(`${count} device${count === 1 ? '' : 's'} up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return record();
  } catch (error) {
    await stopFleet(dir).catch(() => {});
    throw error;
  }
}

/**
 * Stops the fleet in `dir`: every sshd and the sessions they started; as root also the /etc/shells
 * line and the user the fleet created. The directory stays (device states, sshd logs) until the next
 * start. Resolves with the record, or undefined when no fleet was started in `dir`.
 */
export async function stopFleet(dir: string): Promise<FleetRecord | undefined> {
  const record = await readFleet(dir);
  if (record === undefined) return undefined;
  await stopSshds(record.devices.map((device) => device.pidFile));
  if (record.root) {
    await removeShell(record.shell);
    if (record.createdUser) await deleteUser(record.user);
  }
  return record;
}

/**
 * Empties `dir` for a new fleet: a fleet running there is stopped first. A directory that holds
 * something else is refused rather than deleted.
 */
async function clearDir(dir: string): Promise<void> {
  if (!(await exists(dir))) return;
  const entries = await readdir(dir);
  if (entries.length === 0) return;
  if (!entries.includes('fleet.json')) {
    throw new Error(`${dir} is not empty and holds no fleet (fleet.json): choose another --dir`);
  }
  await stopFleet(dir);
  await rm(dir, { recursive: true, force: true });
}
