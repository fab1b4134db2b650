// The feed and updater modules of edgesh.device through ansible-playbook against two devices of `npm run fleet`, as root from .ci/run.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type PlaybookRun, runPlaybook } from '../../lab/rollout.js';
import { type FleetRecord, startFleet, stopFleet } from '../../scripts/fleet/index.js';
import { ROOT } from '../helpers/run-edgesh.js';

assert.equal(process.getuid?.(), 0, 'the Ansible modules interop test runs as root (.ci/run)');

const COUNT = 2;
const temp = mkdtempSync(join(tmpdir(), 'edgesh-modules-interop-'));
chmodSync(temp, 0o755);
let fleet: FleetRecord;
let played: PlaybookRun;

/** The arguments of the feed and updater tasks, asked for as present, then as absent (YAML, indented for a task). */
const ARGS = {
  present: {
    feed: `
        name: main
        url: http://127.0.0.1:9/feed
        persistent: true`,
    updater: `
        requests:
          - { name: a, version: ">= 1.0", priority: 60 }
          - { name: telnetd, kind: uninstall }
        exclusive: true
        approval: true
        delay: 24`,
  },
  absent: {
    feed: `
        name: main
        state: absent`,
    updater: `
        requests: []
        exclusive: true
        approval: false
        delay: 0`,
  },
} as const;

/**
 * Each phase is the feed task, the updater task and a read of the device (cli_command with `| json`):
 * present in check mode, present, present again, absent in check mode, absent, absent again. One
 * playbook run, so that the test costs one start of Ansible.
 */
function playbook(): string {
  const phases = [
    ['present-check', 'present', true],
    ['present', 'present', false],
    ['present-again', 'present', false],
    ['absent-check', 'absent', true],
    ['absent', 'absent', false],
    ['absent-again', 'absent', false],
  ] as const;
  const tasks = phases.flatMap(([phase, state, check]) => [
    `    - name: ${phase} feed
      edgesh.device.feed:${ARGS[state].feed}
      check_mode: ${check}
      diff: true`,
    `    - name: ${phase} updater
      edgesh.device.updater:${ARGS[state].updater}
      check_mode: ${check}
      diff: true`,
    `    - name: ${phase} device
      ansible.netcommon.cli_command:
        command: "package show feeds | json"`,
    `    - name: ${phase} requests
      ansible.netcommon.cli_command:
        command: "updater show | json"`,
  ]);
  return `- hosts: edgesh
  gather_facts: false
  tasks:
${tasks.join('\n')}
`;
}

before(async () => {
  fleet = await startFleet({ count: COUNT, dir: join(temp, 'fleet'), basePort: 22000, repo: ROOT });
  const file = join(temp, 'modules.yml');
  writeFileSync(file, playbook());
  played = await runPlaybook(fleet, file, {}, 300_000);
});

after(async () => {
  await stopFleet(join(temp, 'fleet')).catch(() => {});
  rmSync(temp, { recursive: true, force: true });
});

type HostResult = {
  changed?: boolean;
  failed?: boolean;
  msg?: string;
  commands?: string[];
  diff?: unknown;
  json?: Record<string, unknown>;
  stdout?: string;
};

/** Each host's result of the task named `name`. */
function results(name: string): Array<[string, HostResult]> {
  const task = played.results.find((t) => t.task === name);
  assert.ok(task, `no task ${name}: ${played.stderr.slice(-2000)}`);
  const hosts = Object.entries(task.hosts) as Array<[string, HostResult]>;
  assert.equal(hosts.length, COUNT, name);
  for (const [host, r] of hosts) assert.notEqual(r.failed, true, `${name} on ${host}: ${r.msg}`);
  return hosts;
}

function changed(name: string): boolean[] {
  return results(name).map(([, r]) => r.changed === true);
}

/** The document a cli_command task read: netcommon parses JSON output into `json`. */
function documents(name: string): Array<Record<string, unknown>> {
  return results(name).map(([host, r]) => {
    const doc = r.json ?? (r.stdout === undefined ? undefined : JSON.parse(r.stdout));
    assert.ok(doc, `${name} on ${host}: no document`);
    return doc as Record<string, unknown>;
  });
}

function feeds(name: string): unknown[] {
  return documents(name).map((d) => d.feeds);
}

function explicit(name: string): unknown[] {
  return documents(name).map((d) => {
    const requests = d.requests as Array<{ source: string; kind: string; name: string; priority: number }>;
    const s = d.settings as { approval: boolean; delay_hours: number };
    return {
      requests: requests
        .filter((r) => r.source === 'explicit')
        .map((r) => `${r.kind} ${r.name} ${r.priority}`),
      approval: s.approval,
      delay: s.delay_hours,
    };
  });
}

test('the playbook ran on every device without a failure', () => {
  assert.equal(played.status, 0, played.stderr.slice(-3000));
  assert.deepEqual(Object.keys(played.stats).sort(), ['edge-001', 'edge-002']);
  for (const [host, s] of Object.entries(played.stats)) {
    assert.equal(s.failures, 0, host);
    assert.equal(s.unreachable, 0, host);
  }
});

test('check mode says what would change, with the commands and a diff, and changes nothing', () => {
  assert.deepEqual(changed('present-check feed'), [true, true]);
  assert.deepEqual(changed('present-check updater'), [true, true]);
  for (const [, r] of results('present-check feed')) {
    assert.deepEqual(r.commands, ['package feed persistent main http://127.0.0.1:9/feed']);
    assert.ok(r.diff, 'a diff');
  }
  for (const [, r] of results('present-check updater')) {
    assert.deepEqual(r.commands, [
      'updater install a version ">= 1.0" priority 60',
      'updater uninstall telnetd',
      'updater approval on',
      'updater delay 24',
    ]);
  }
  assert.deepEqual(feeds('present-check device'), [[], []]);
  for (const e of explicit('present-check requests')) {
    assert.deepEqual(e, { requests: [], approval: false, delay: 0 });
  }
});

test('present changes the device once; run again, nothing changes', () => {
  assert.deepEqual(changed('present feed'), [true, true]);
  assert.deepEqual(changed('present updater'), [true, true]);
  for (const list of feeds('present device')) {
    assert.deepEqual(
      (list as Array<{ name: string; url: string; persistent: boolean }>).map((f) => [
        f.name,
        f.url,
        f.persistent,
      ]),
      [['main', 'http://127.0.0.1:9/feed', true]],
    );
  }
  for (const e of explicit('present requests')) {
    assert.deepEqual(e, { requests: ['install a 60', 'uninstall telnetd 50'], approval: true, delay: 24 });
  }
  assert.deepEqual(changed('present-again feed'), [false, false]);
  assert.deepEqual(changed('present-again updater'), [false, false]);
  for (const [, r] of results('present-again updater')) assert.deepEqual(r.commands, []);
});

test('absent in check mode changes nothing; absent removes; run again, nothing changes', () => {
  assert.deepEqual(changed('absent-check feed'), [true, true]);
  assert.deepEqual(changed('absent-check updater'), [true, true]);
  assert.equal(
    feeds('absent-check device').every((f) => (f as unknown[]).length === 1),
    true,
  );
  assert.deepEqual(changed('absent feed'), [true, true]);
  assert.deepEqual(changed('absent updater'), [true, true]);
  assert.deepEqual(feeds('absent device'), [[], []]);
  for (const e of explicit('absent requests'))
    assert.deepEqual(e, { requests: [], approval: false, delay: 0 });
  assert.deepEqual(changed('absent-again feed'), [false, false]);
  assert.deepEqual(changed('absent-again updater'), [false, false]);
});
