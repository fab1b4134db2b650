// The edgesh.device collection with Debian's Ansible (from .ci/run): built and installed as a user would, documented, its own tests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from '../helpers/run-edgesh.js';

const source = join(ROOT, 'ansible', 'ansible_collections', 'edgesh', 'device');
const temp = mkdtempSync(join(tmpdir(), 'edgesh-ansible-'));
const installed = join(temp, 'collections');
/** Ansible sees only the installed collection (and Debian's, which it always finds). */
const env = {
  ...process.env,
  HOME: temp,
  ANSIBLE_COLLECTIONS_PATH: installed,
  ANSIBLE_LOCAL_TEMP: join(temp, 'tmp'),
  ANSIBLE_NOCOLOR: '1',
};
after(() => rmSync(temp, { recursive: true, force: true }));

/** The Python that runs Ansible (the shebang of `ansible`): the one that can import it. */
function ansiblePython(): string {
  const which = spawnSync('sh', ['-c', 'command -v ansible'], { encoding: 'utf8' }).stdout.trim();
  const shebang = readFileSync(which, 'utf8').split('\n')[0] ?? '';
  const python = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(shebang);
  assert.ok(python, `no shebang in ${which}`);
  // `#!/usr/bin/env python3` names the interpreter in its argument.
  return python[1]!.endsWith('/env') ? python[2]! : python[1]!;
}

function run(command: string, args: readonly string[], cwd = temp) {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  if (r.error !== undefined) throw r.error;
  return r;
}

before(() => {
  const built = run('ansible-galaxy', ['collection', 'build', '--output-path', join(temp, 'dist'), source]);
  assert.equal(built.status, 0, built.stderr + built.stdout);
  const [artifact] = readdirSync(join(temp, 'dist'));
  assert.equal(artifact, 'edgesh-device-1.1.0.tar.gz');
  const done = run('ansible-galaxy', [
    'collection',
    'install',
    '--offline',
    '--no-deps',
    '-p',
    installed,
    join(temp, 'dist', artifact!),
  ]);
  assert.equal(done.status, 0, done.stderr + done.stdout);
});

test('the installed collection is listed, and ansible-doc documents each module and the cliconf plugin', () => {
  const list = run('ansible-galaxy', ['collection', 'list', '-p', installed]);
  assert.match(list.stdout, /^edgesh\.device +1\.1\.0 *$/m);
  const docs: Record<string, RegExp[]> = {
    'edgesh.device.package': [
      /^- state$/m,
      /choices: \[present, absent, latest\]/,
      /^- reboot$/m,
      /^EXAMPLES:/m,
      /^RETURN VALUES:/m,
    ],
    'edgesh.device.reboot': [
      /^- expect$/m,
      /^- force$/m,
      /^- boot_timeout$/m,
      /^EXAMPLES:/m,
      /^RETURN VALUES:/m,
    ],
    'edgesh.device.facts': [/^- gather_subset$/m, /ansible_net_reboot_pending/, /^EXAMPLES:/m],
    'edgesh.device.feed': [
      /^- url$/m,
      /^- persistent$/m,
      /choices: \[present, absent\]/,
      /^- update$/m,
      /^EXAMPLES:/m,
      /^RETURN VALUES:/m,
    ],
    'edgesh.device.updater': [
      /^- requests$/m,
      /^- exclusive$/m,
      /^- approval$/m,
      /^- delay$/m,
      /choices: \[auto, manual\]/,
      /^EXAMPLES:/m,
      /^RETURN VALUES:/m,
    ],
  };
  for (const [name, patterns] of Object.entries(docs)) {
    const r = run('ansible-doc', [name]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^> ${name.toUpperCase().replace(/\./g, '\\.')} `, 'm'));
    assert.ok(
      r.stdout.includes(join(installed, 'ansible_collections')),
      `${name} comes from the installed copy`,
    );
    assert.match(
      r.stdout,
      /has a corresponding action plugin/,
      `${name} runs through the collection's action plugin`,
    );
    for (const p of patterns) assert.match(r.stdout, p, `${name}: ${p}`);
  }
  const cliconf = run('ansible-doc', ['-t', 'cliconf', 'edgesh.device.edgesh']);
  assert.equal(cliconf.status, 0, cliconf.stderr);
  assert.match(cliconf.stdout, /is its boot\s+configuration/);
});

test("the collection's unit tests pass in the installed copy", () => {
  const r = run(
    ansiblePython(),
    ['-m', 'unittest', 'discover', '-s', 'tests/unit', '-p', 'test_*.py'],
    join(installed, 'ansible_collections', 'edgesh', 'device'),
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^Ran \d+ tests? in /m);
  assert.match(r.stderr, /^OK$/m);
});

test('the rollout playbook is found by its collection name and is a valid playbook', () => {
  const r = run('ansible-playbook', ['--syntax-check', 'edgesh.device.rollout']);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^playbook: .*\/ansible_collections\/edgesh\/device\/playbooks\/rollout\.yml$/m);
});
