// What a fleet of simulated devices is: its options, and the record `DIR/fleet.json` keeps of it.

/** How `startFleet` is asked to start a fleet. */
export interface FleetOptions {
  /** Number of devices, 1–1000. */
  readonly count: number;
  /** The fleet's directory (created, or replaced when it holds an earlier fleet). */
  readonly dir: string;
  /** Without root: device K listens on 127.0.0.1:basePort+K. */
  readonly basePort: number;
  /** The repository whose `dist/` the devices run and whose `ansible/` the fleet's ansible.cfg names. */
  readonly repo: string;
  /** Progress lines for the operator; silent when absent. */
  readonly log?: (line: string) => void;
}

/** One device of a running fleet. */
export interface FleetDevice {
  /** `edge-001`: the device's host name and its inventory name. */
  readonly name: string;
  readonly serial: string;
  /** The device state directory (`EDGESH_DEVICE` of its logins). */
  readonly deviceDir: string;
  readonly address: string;
  readonly port: number;
  /** The public host key, `ssh-ed25519 AAAA…`. */
  readonly hostKey: string;
  /** sshd's pid file. */
  readonly pidFile: string;
}

/** `DIR/fleet.json`: what was started, for `stop`, for tests and for benchmarks. */
export interface FleetRecord {
  readonly format: 1;
  readonly dir: string;
  /** Root mode: per-device loopback addresses on port 22, a login user of the fleet's own. */
  readonly root: boolean;
  /** The SSH user of every device. */
  readonly user: string;
  /** Whether the fleet created `user` (then `stop` deletes it). */
  readonly createdUser: boolean;
  /** The login shell wrapper; in root mode a line of /etc/shells. */
  readonly shell: string;
  /** The client's private key, accepted by every device. */
  readonly clientKey: string;
  /** The vendor's signing key pair every device trusts (signify format, no passphrase). */
  readonly vendorSecretKey: string;
  readonly vendorPublicKey: string;
  readonly inventory: string;
  readonly knownHosts: string;
  readonly sshConfig: string;
  readonly ansibleConfig: string;
  /** Ansible's HOME: `.ssh/known_hosts` in it is where Ansible's paramiko looks for host keys. */
  readonly ansibleHome: string;
  readonly devices: readonly FleetDevice[];
}

/** The login user of a fleet started as root. */
export const FLEET_USER = 'edgesh-fleet';

/** Largest fleet: addresses 127.0.1.1 to 127.0.4.238 as root, 1,000 ports otherwise. */
export const MAX_DEVICES = 1000;

/** Device names: `edge-001`, as many digits as the largest number needs (at least three). */
export function deviceName(k: number, count: number): string {
  return `edge-${String(k).padStart(Math.max(3, String(count).length), '0')}`;
}

/** Root mode: device K (from 1) on 127.0.1.1–127.0.1.254, then 127.0.2.1, … (never .0 or .255). */
export function deviceAddress(k: number): string {
  const i = k - 1;
  return `127.0.${1 + Math.floor(i / 254)}.${(i % 254) + 1}`;
}
