// What a fleet gives its clients: an Ansible inventory and configuration, a known_hosts, an ssh_config.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { FleetDevice } from './types.js';

/** Everything the client files need to know about the fleet. */
export interface ClientSite {
  readonly dir: string;
  readonly repo: string;
  readonly user: string;
  readonly clientKey: string;
  readonly devices: readonly FleetDevice[];
}

/** A YAML scalar: JSON's double-quoted form is valid YAML and needs no rules of its own. */
function yaml(value: string | number): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** `known_hosts` in OpenSSH's format: `127.0.1.1 ssh-ed25519 …`, `[127.0.0.1]:22001 …` off port 22. */
export function knownHosts(devices: readonly FleetDevice[]): string {
  return devices
    .map((d) => `${d.port === 22 ? d.address : `[${d.address}]:${d.port}`} ${d.hostKey} ${d.name}\n`)
    .join('');
}

/**
 * The inventory: group `edgesh`, one host per device, and the settings of `network_cli` with the
 * collection's plugins. Host keys are checked (against `~/.ssh/known_hosts`, which is
 * `home/.ssh/known_hosts` of the fleet when Ansible runs with the fleet's HOME).
 */
export function inventory(site: ClientSite): string {
  const lines = [
    '# The devices of npm run fleet. Run Ansible with HOME and ANSIBLE_CONFIG of this directory',
    '# (see docs/automation.md): Ansible’s paramiko reads host keys from ~/.ssh/known_hosts only.',
    'edgesh:',
    '  hosts:',
  ];
  for (const d of site.devices) {
    lines.push(`    ${d.name}:`, `      ansible_host: ${yaml(d.address)}`, `      ansible_port: ${d.port}`);
  }
  lines.push(
    '  vars:',
    '    ansible_connection: ansible.netcommon.network_cli',
    '    ansible_network_os: edgesh.device.edgesh',
    // Paramiko, named: Debian's ansible-core does not pull it in when openssh-client is there, and
    // without the setting every host warns that ansible-pylibssh is missing before falling back.
    '    ansible_network_cli_ssh_type: paramiko',
    `    ansible_user: ${yaml(site.user)}`,
    `    ansible_ssh_private_key_file: ${yaml(site.clientKey)}`,
    '    ansible_host_key_checking: true',
    '    ansible_python_interpreter: /usr/bin/python3',
    // For ansible.builtin.ssh (the rollout's connection): OpenSSH reads the user's ~/.ssh of the
    // password file, not $HOME, so the fleet's known_hosts is named.
    `    ansible_ssh_common_args: ${yaml(`-o UserKnownHostsFile=${join(site.dir, 'known_hosts')} -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes`)}`,
  );
  return `${lines.join('\n')}\n`;
}

/** `ansible.cfg` of the fleet: its inventory, the repository's collections first, strict host keys. */
export function ansibleConfig(site: ClientSite): string {
  const collections = [
    join(site.repo, 'ansible'),
    join(homedir(), '.ansible', 'collections'),
    '/usr/share/ansible/collections',
  ];
  return [
    '# Ansible settings for the fleet of npm run fleet (written by it).',
    '[defaults]',
    `inventory = ${join(site.dir, 'inventory.yml')}`,
    `collections_path = ${collections.join(':')}`,
    'host_key_checking = True',
    'interpreter_python = /usr/bin/python3',
    'forks = 10',
    // While tasks run, the main process checks for results every internal_poll_interval (default 1 ms)
    // and builds a template environment each time: over a rollout of seconds per device that is CPU
    // taken from the devices and the workers, for a result noticed a few milliseconds sooner.
    'internal_poll_interval = 0.05',
    'retry_files_enabled = False',
    '',
    '[paramiko_connection]',
    'record_host_keys = False',
    'host_key_auto_add = False',
    'look_for_keys = False',
    '',
  ].join('\n');
}

/** `ssh_config` for OpenSSH clients: `ssh -F DIR/ssh_config edge-001 'show version'`. */
export function sshConfig(site: ClientSite): string {
  const lines = ['# OpenSSH client settings for the fleet of npm run fleet (written by it).'];
  for (const d of site.devices) lines.push(`Host ${d.name}`, `  HostName ${d.address}`, `  Port ${d.port}`);
  lines.push(
    'Host *',
    `  User ${site.user}`,
    `  IdentityFile ${site.clientKey}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${join(site.dir, 'known_hosts')}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    '  LogLevel ERROR',
  );
  return `${lines.join('\n')}\n`;
}
