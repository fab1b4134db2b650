// The manual's examples end to end: the real binary on a real device, real packages, real media layer;
// only the server at the manual's unroutable 192.0.2.1 is a mock transport.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, type SecretKey, writePackage } from '../../firmware-sim/format/index.js';
import { defaultVendorDir, loadVendorSecretKey } from '../../firmware-sim/index.js';
import { PtyShell } from '../helpers/pty.js';
import { BIN, DEVICE_SERVICES, ROOT, type RunResult, runEdgesh, testEnv } from '../helpers/run-edgesh.js';
import type { WorldConfig as E2EConfig } from '../helpers/world.js';

const E2E_SERVICES = DEVICE_SERVICES;
let temp: string;
let vendorKey: SecretKey;

/** A device of its own for each scenario, created by a first run of the shell. */
function newDevice(name: string): string {
  const device = join(temp, name);
  const r = edgesh(device, '', ['-c', 'show version']);
  assert.equal(r.status, 0, r.stderr);
  return device;
}

function edgesh(device: string, stdin: string, args: string[] = []): RunResult {
  return runEdgesh({
    device,
    stdin,
    args,
    env: { EDGESH_SERVICES: E2E_SERVICES, EDGESH_E2E_CONFIG: join(temp, 'server.json') },
  });
}

async function pkg(file: string, version: string, options: { key?: SecretKey | null; name?: string } = {}) {
  const path = join(temp, 'srv', file);
  mkdirSync(join(path, '..'), { recursive: true });
  const key = options.key === undefined ? vendorKey : options.key;
  await writePackage(
    {
      control: [
        ['Package', options.name ?? 'pkgname'],
        ['Version', version],
        ['Architecture', 'all'],
        ['Maintainer', 'Example <support@example.com>'],
        ['Description', 'Example'],
      ],
      data: [
        { name: './etc/', type: 'directory' },
        { name: './etc/pkgname.conf', type: 'file', content: `version=${version}\n` },
      ],
      mtime: 1_700_000_000,
      ...(key ? { sign: key } : {}),
    },
    path,
  );
  return path;
}

before(async () => {
  temp = mkdtempSync(join(tmpdir(), 'edgesh-e2e-'));
  writeFileSync(join(temp, 'server.json'), JSON.stringify({ files: {} }));
  // Every device of this file shares one vendor key pair: the first device makes it, the others reuse it.
  const first = newDevice('first');
  vendorKey = await loadVendorSecretKey(defaultVendorDir(first));
  const files: Record<string, string> = {
    'pkgname.wmopkg': await pkg('pkgname.wmopkg', '5.26.0-rev0'),
    'new/pkgname.wmopkg': await pkg('new/pkgname.wmopkg', '5.27.0'),
    'old/pkgname.wmopkg': await pkg('old/pkgname.wmopkg', '4.0'),
    'unsigned.wmopkg': await pkg('unsigned.wmopkg', '0.1', { key: null, name: 'unsigned' }),
    'untrusted.wmopkg': await pkg('untrusted.wmopkg', '0.2', {
      key: generateKeyPair('other').secretKey,
      name: 'untrusted',
    }),
  };
  const tampered = readFileSync(files['pkgname.wmopkg']!);
  tampered[tampered.indexOf(Buffer.from('data.tar.gz')) + 200]! ^= 0x40;
  files['tampered.wmopkg'] = join(temp, 'srv/tampered.wmopkg');
  writeFileSync(files['tampered.wmopkg'], tampered);
  const config: E2EConfig = { files };
  writeFileSync(join(temp, 'server.json'), JSON.stringify(config));
});

after(() => rmSync(temp, { recursive: true, force: true }));

/** Every device dir shares the first one's vendor key (the store looks for it beside the device). */
function sharedDevice(name: string): string {
  const device = join(temp, name);
  mkdirSync(defaultVendorDir(device), { recursive: true });
  for (const file of ['vendor.pub', 'vendor.sec']) {
    copyFileSync(join(defaultVendorDir(join(temp, 'first')), file), join(defaultVendorDir(device), file));
  }
  return newDevice(name);
}

describe('the manual, verbatim, on the real device', () => {
  test('every install example, reboot, show, remove and remove all', () => {
    const device = sharedDevice('manual');
    for (const dir of ['path/on/media', 'relative/path']) {
      mkdirSync(join(device, 'media/usb0', dir), { recursive: true });
      copyFileSync(join(temp, 'srv/pkgname.wmopkg'), join(device, 'media/usb0', dir, 'pkgname.wmopkg'));
    }
    const r = edgesh(
      device,
      [
        'package',
        'install 192.0.2.1 pkgname.wmopkg',
        'install persistent 192.0.2.1 pkgname.wmopkg',
        'install proto ftp 192.0.2.1 pkgname.wmopkg',
        'install proto tftp 192.0.2.1 pkgname.wmopkg',
        'install media external path/on/media/pkgname.wmopkg',
        'do boot media my-usb usb',
        'install media my-usb relative/path/pkgname.wmopkg',
        'do reboot',
        'y',
        'show',
        'remove pkgname',
        'y',
        'install 192.0.2.1 new/pkgname.wmopkg',
        'remove all',
        'y',
        'remove all',
        'y',
      ].join('\n'),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.split('\n');
    assert.match(
      lines[0]!,
      /^Installed pkgname 5\.26\.0-rev0 \(Signed, key [0-9a-f]{16}\)\. Changes are applied after reboot\.$/,
    );
    // The same package again: nothing is stored (docs/automation.md, idempotence); `persistent` sets the
    // flag, and it stays so: only remove clears it.
    assert.match(
      lines[1]!,
      /^Unchanged pkgname 5\.26\.0-rev0 \(Signed, key [0-9a-f]{16}, persistent\): already installed, now persistent\.$/,
    );
    for (const line of lines.slice(2, 5)) {
      assert.match(
        line,
        /^Unchanged pkgname 5\.26\.0-rev0 \(Signed, key [0-9a-f]{16}, persistent\): already installed\.$/,
      );
    }
    assert.equal(lines[5], 'Media label my-usb: usb device, first partition.');
    assert.match(lines[6]!, /^Unchanged pkgname 5\.26\.0-rev0/);
    assert.equal(lines[7], 'Reboot the device (y/N)?y');
    assert.match(lines[10]!, /^│pkgname {2}5\.26\.0-rev0 {2}Signed {8}activated {2,}│$/);
    const show = r.stdout.slice(r.stdout.indexOf('╒ Packages'));
    assert.ok(
      show.startsWith(
        [
          '╒ Packages ═══════════════════════════════════════════════════════════╕',
          '│NAME     VERSION      PERSISTENT  VERIFICATION  DESCRIPTION          │',
          // Installed `persistent` by the second example: the reinstalls after it keep the flag.
          '│pkgname  5.26.0-rev0  True        Signed        Example              │',
          '└─────────────────────────────────────────────────────────────────────┘',
          'Remove package pkgname (y/N)?y',
          'Removed… Changes are applied after reboot.',
        ].join('\n'),
      ),
      show,
    );
    assert.ok(
      show.endsWith(
        [
          'Remove all packages (y/N)?y',
          'Removing all packages… Changes are applied after reboot.',
          // Nothing left: said so, and still a success.
          'Remove all packages (y/N)?y',
          'No packages installed.',
          '',
        ].join('\n'),
      ),
      show,
    );
  });

  test('upgrade names both versions; a downgrade asks, and "n" keeps the installed one', () => {
    const device = sharedDevice('versions');
    const r = edgesh(
      device,
      [
        'package install 192.0.2.1 pkgname.wmopkg',
        'package install 192.0.2.1 new/pkgname.wmopkg',
        'package install 192.0.2.1 old/pkgname.wmopkg',
        'n',
        'package show pkgname | include ^Version',
        'package install 192.0.2.1 new/pkgname.wmopkg',
        'package install 192.0.2.1 old/pkgname.wmopkg',
        'y',
        'show log | include pkgname',
      ].join('\n'),
    );
    assert.equal(r.status, 5, 'the declined downgrade is an error for a script: not-confirmed');
    assert.match(
      r.stdout,
      /^Upgraded pkgname from 5\.26\.0-rev0 to 5\.27\.0 \(Signed, key [0-9a-f]{16}\)\. Changes are applied after reboot\.$/m,
    );
    assert.match(r.stdout, /^Downgrade pkgname from 5\.27\.0 to 4\.0 \(y\/N\)\?n$/m);
    assert.match(r.stdout, /^Version: +5\.27\.0$/m);
    assert.match(r.stdout, /^Unchanged pkgname 5\.27\.0 /m);
    const log = r.stdout.split('\n').filter((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /.test(l));
    assert.deepEqual(
      log.map((l) => l.slice(20).replace(/ \(.*/, '')),
      [
        'install pkgname 5.26.0-rev0',
        'upgrade pkgname 5.26.0-rev0 -> 5.27.0',
        'install pkgname refused',
        'install pkgname 5.27.0',
        'downgrade pkgname 5.27.0 -> 4.0',
      ],
    );
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  test('unsigned and untrusted install with a warning and stay inactive; tampered is refused', () => {
    const device = sharedDevice('trust');
    const r = edgesh(
      device,
      [
        'package install 192.0.2.1 unsigned.wmopkg',
        'package install 192.0.2.1 untrusted.wmopkg',
        'package install 192.0.2.1 tampered.wmopkg',
        'reboot',
        'y',
        'package show',
      ].join('\n'),
    );
    assert.equal(r.status, 6, 'refused');
    const errors = r.stderr.trim().split('\n');
    assert.match(errors[0]!, /^Warning: unsigned is Unsigned/);
    assert.match(errors[1]!, /^Warning: untrusted is Untrusted: .*unknown key/);
    assert.match(errors[2]!, /^Error: .*tampered.*(digest|does not verify)/);
    assert.equal(errors.length, 3);
    // The boot report wraps the reason instead of cutting it.
    const report = r.stdout.replace(/ +│\n│ +/g, ' ');
    assert.match(report, /│unsigned +0\.1 +Unsigned +not activated: unsigned, allow-untrusted is off +│/);
    assert.match(
      report,
      /│untrusted +0\.2 +Untrusted +not activated: untrusted key [0-9a-f]{16}, allow-untrusted is off +│/,
    );
    assert.match(r.stdout, /│unsigned! +0\.1 +False +Unsigned/);
    assert.doesNotMatch(r.stdout, /tampered/);
    assert.equal(readdirNames(join(device, 'rootfs/etc')).includes('pkgname.conf'), false);
  });

  test('factory-reset keeps exactly the persistent package', () => {
    const device = sharedDevice('reset');
    const r = edgesh(
      device,
      [
        'package install persistent 192.0.2.1 pkgname.wmopkg',
        'package install 192.0.2.1 unsigned.wmopkg',
        'factory-reset',
        'y',
        'package show',
      ].join('\n'),
    );
    assert.equal(r.status, 0, r.stderr);
    const table = r.stdout.slice(r.stdout.lastIndexOf('╒ Packages'));
    assert.match(table, /│pkgname +5\.26\.0-rev0 +True +Signed/);
    assert.doesNotMatch(table, /unsigned/);
    assert.equal(readFileSync(join(device, 'rootfs/etc/pkgname.conf'), 'utf8'), 'version=5.26.0-rev0\n');
  });

  test('secure boot: allow-untrusted is refused until the unlock token made by wmopkg for this serial is installed', () => {
    const device = sharedDevice('secure');
    const deviceJson = join(device, 'device.json');
    const config = JSON.parse(readFileSync(deviceJson, 'utf8')) as { serial: string; secureBoot: boolean };
    writeFileSync(deviceJson, JSON.stringify({ ...config, secureBoot: true }, null, 2));
    const wmopkg = (serial: string, out: string) =>
      spawnSync(
        process.execPath,
        [
          join(ROOT, 'dist/bin/wmopkg.js'),
          'unlock-token',
          '-s',
          join(defaultVendorDir(device), 'vendor.sec'),
          '--serial',
          serial,
          '--out',
          out,
        ],
        { encoding: 'utf8' },
      );
    assert.equal(wmopkg('SOMEONE-ELSE', join(device, 'media/usb0/other.lic')).status, 0);
    assert.equal(wmopkg(config.serial, join(device, 'media/usb0/token.lic')).status, 0);
    const r = edgesh(
      device,
      [
        'boot',
        'allow-untrusted',
        'unlock media external other.lic',
        'unlock media external token.lic',
        'allow-untrusted',
        'show',
      ].join('\n'),
    );
    assert.equal(r.status, 6, 'refused');
    const errors = r.stderr.trim().split('\n');
    assert.equal(errors.length, 2, r.stderr);
    assert.match(
      errors[0]!,
      /^Error: line 2: allow-untrusted refused: secure boot is on; install an unlock token for serial /,
    );
    assert.match(errors[1]!, /^Error: line 3: .*(serial|another device)/i);
    assert.match(
      r.stdout,
      new RegExp(`^Unlock token installed for serial ${config.serial} \\(key [0-9a-f]{16}\\)`, 'm'),
    );
    assert.match(r.stdout, /^allow-untrusted is on\. Changes are applied after reboot\.$/m);
  });

  test('a revoked key takes a running package out at the next boot, and the report says why; a damaged boot/config is shown and fails closed', () => {
    const device = sharedDevice('revoke');
    let r = edgesh(device, ['package install 192.0.2.1 pkgname.wmopkg', 'reboot', 'y'].join('\n'));
    assert.equal(r.status, 0, r.stderr);
    const keyNumber = /key ([0-9a-f]{16})/.exec(r.stdout)![1]!;
    writeFileSync(join(device, 'etc/wmopkg/revoked'), `${keyNumber}\n`);
    r = edgesh(device, ['reboot', 'y', 'package show pkgname | include ^Verification'].join('\n'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout.replace(/ +│\n│ +/g, ' '),
      /not activated: revoked key [0-9a-f]{16}, allow-untrusted is off/,
    );
    assert.match(r.stdout, /^Deactivated pkgname 5\.26\.0-rev0 \(.*revoked key.*\)\.$/m);
    assert.match(r.stdout, new RegExp(`^Verification: +Untrusted \\(key ${keyNumber} is revoked\\)$`, 'm'));

    writeFileSync(join(device, 'boot/config'), 'allow-untrusted\nfrobnicate\n');
    r = edgesh(device, ['boot show', 'package show'].join('\n'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^allow-untrusted: +off$/m, 'a damaged configuration fails closed');
    assert.match(
      r.stderr,
      /^Warning: boot\/config line 2: .*frobnicate.*ignored \(allow-untrusted counts as off/m,
    );
    r = edgesh(device, ['boot no allow-untrusted', 'boot show'].join('\n'));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'rewritten cleanly');
    assert.match(r.stdout, /^allow-untrusted: +off$/m);
  });

  test('bad package names get one line each and nothing is installed', () => {
    const device = sharedDevice('names');
    const bad = [
      '../x.wmopkg',
      'x.WMOPKG',
      'noextension',
      'a b.wmopkg',
      `${'a'.repeat(300)}.wmopkg`,
      'x\u0001y.wmopkg',
    ];
    const r = edgesh(
      device,
      `${bad.map((name) => `package install 192.0.2.1 ${name}`).join('\n')}\npackage show\n`,
    );
    assert.equal(r.status, 2, 'usage');
    const errors = r.stderr.trim().split('\n');
    assert.equal(errors.length, bad.length, r.stderr);
    for (const line of errors) assert.match(line, /^Error: .* \[usage\]$/);
    assert.doesNotMatch(r.stdout, /│[a-z]/, 'nothing installed');
  });
});

describe('show PKGNAME on the real device', () => {
  test('State says each thing once; Verification says why a package is not Signed', () => {
    const device = sharedDevice('details');
    const details = (name: string) => `package show ${name} | include "^(State|Verification):"`;
    const r = edgesh(
      device,
      [
        'package install 192.0.2.1 pkgname.wmopkg',
        'package install 192.0.2.1 unsigned.wmopkg',
        'package install 192.0.2.1 untrusted.wmopkg',
        details('pkgname'),
        details('unsigned'),
        details('untrusted'),
        'reboot',
        'y',
        details('pkgname'),
        details('unsigned'),
        details('untrusted'),
        // Alone (the fixtures all hold /etc/pkgname.conf), untrusted is activated with allow-untrusted.
        'package remove pkgname',
        'y',
        'package remove unsigned',
        'y',
        'boot allow-untrusted',
        'reboot',
        'y',
        details('untrusted'),
      ].join('\n'),
    );
    assert.equal(r.status, 0, r.stderr);
    const key = /Untrusted, key ([0-9a-f]{16})/.exec(r.stdout)![1]!;
    const untrusted = `Verification: Untrusted (key ${key} is not trusted)`;
    assert.deepEqual(
      r.stdout
        .split('\n')
        .filter((l) => /^(State|Verification):/.test(l))
        .map((l) => l.replace(/: +/, ': ')),
      [
        'State: pending, takes effect at the next reboot',
        'Verification: Signed',
        'State: pending, will not be activated: unsigned, allow-untrusted is off',
        'Verification: Unsigned (no signature)',
        `State: pending, will not be activated: untrusted key ${key}, allow-untrusted is off`,
        untrusted,
        'State: active',
        'Verification: Signed',
        'State: not active: unsigned, allow-untrusted is off',
        'Verification: Unsigned (no signature)',
        `State: not active: untrusted key ${key}, allow-untrusted is off`,
        untrusted,
        'State: active',
        untrusted,
      ],
    );
  });
});

describe('secure boot on the real device', () => {
  test('allow-untrusted in the configuration without an unlock token: shown as not in force, and install says why', () => {
    const device = sharedDevice('not-in-force');
    const deviceJson = join(device, 'device.json');
    writeFileSync(
      deviceJson,
      JSON.stringify({ ...JSON.parse(readFileSync(deviceJson, 'utf8')), secureBoot: true }),
    );
    // Set by hand (the boot context refuses it): the boot does not honour it.
    appendFileSync(join(device, 'boot/config'), 'allow-untrusted\n');
    const r = edgesh(
      device,
      ['boot show', 'package install 192.0.2.1 untrusted.wmopkg', 'reboot', 'y'].join('\n'),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^allow-untrusted: +on \(not in force: secure boot needs an unlock token\)$/m);
    assert.match(
      r.stderr,
      /^Warning: untrusted is Untrusted: signed by unknown key [0-9a-f]{16}; it will not be activated: allow-untrusted is set, but secure boot does not honour it without an unlock token \(boot unlock\)\.$/m,
    );
    const report = r.stdout.replace(/ +│\n│ +/g, ' ');
    assert.match(report, /not activated: untrusted key [0-9a-f]{16}, allow-untrusted needs an unlock token/);
  });
});

/** One edgesh running on a pipe, on the real device, with the mock server of `config`. */
interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  err(): string;
  out(): string;
}

function start(device: string, config: string, args: readonly string[]): Running {
  const child = spawn(process.execPath, [BIN, '--device', device, '--user', 'alice', ...args], {
    env: testEnv({ EDGESH_SERVICES: E2E_SERVICES, EDGESH_E2E_CONFIG: config }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, err: () => err, out: () => out };
}

/** Polls `check` until it holds; fails after `ms` (a bound only, the tests do not depend on timing). */
async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The store's temporary download files and the lock file: what a cut-short install leaves behind. */
function leftovers(device: string): string[] {
  const store = join(device, 'cfg/packages');
  const temps = readdirNames(store).filter((n) => n.startsWith('.tmp-'));
  return [...temps, ...(existsSync(join(device, 'var/lock/device.lock')) ? ['var/lock/device.lock'] : [])];
}

function downloading(device: string): boolean {
  return readdirNames(join(device, 'cfg/packages')).some(
    (n) => n.startsWith('.tmp-') && n.includes('download'),
  );
}

/** A mock server whose big.wmopkg sends 512 bytes, then hangs: the transfer runs until stopped. */
function stallConfig(): string {
  const file = join(temp, 'stall.json');
  const base = JSON.parse(readFileSync(join(temp, 'server.json'), 'utf8')) as E2EConfig;
  const config: E2EConfig = {
    ...base,
    stalled: { 'big.wmopkg': { file: base.files?.['pkgname.wmopkg'] ?? '', after: 512 } },
    lockWaitMs: 300,
  };
  writeFileSync(file, JSON.stringify(config));
  return file;
}

describe('a hang-up or SIGTERM during a transfer, on the real device', () => {
  for (const [signal, status] of [
    ['SIGHUP', 129],
    ['SIGTERM', 143],
  ] as const) {
    test(`${signal} in script mode aborts the install, cleans up, exits ${status}`, async () => {
      const device = sharedDevice(`signal-${signal}`);
      const run = start(device, stallConfig(), [
        '-c',
        'package install 192.0.2.1 big.wmopkg',
        '-c',
        'whoami',
      ]);
      try {
        await until('the download to start', () => downloading(device));
        assert.ok(existsSync(join(device, 'var/lock/device.lock')), 'the install holds the lock');
        run.child.kill(signal);
        assert.deepEqual(await run.exited, { code: status, signal: null });
        assert.deepEqual(leftovers(device), []);
        assert.equal(
          run.err(),
          'Error: installation of big cancelled; nothing was installed [interrupted]\n',
        );
        assert.equal(run.out(), '', 'the script stops: whoami does not run');
      } finally {
        run.child.kill('SIGKILL');
      }
      const after = edgesh(device, '', ['-c', 'package show', '-c', 'show log']);
      assert.equal(after.status, 0, after.stderr);
      assert.doesNotMatch(after.stdout, /big/);
    });
  }

  test('SIGHUP on an interactive terminal (the SSH connection dropped) aborts and cleans up too', async () => {
    const device = sharedDevice('signal-tty');
    const shell = new PtyShell(['--device', device, '--user', 'alice'], {
      EDGESH_SERVICES: E2E_SERVICES,
      EDGESH_E2E_CONFIG: stallConfig(),
    });
    try {
      await shell.waitFor('example:/>');
      shell.type('package install 192.0.2.1 big.wmopkg\r');
      await until('the download to start', () => downloading(device));
      shell.signal('SIGHUP');
      assert.equal(await shell.exited(), 129);
      assert.deepEqual(leftovers(device), []);
    } finally {
      shell.kill();
    }
  });

  test('SIGHUP with no command running ends at once with 129', async () => {
    const device = sharedDevice('signal-idle');
    const shell = new PtyShell(['--device', device], { EDGESH_SERVICES: E2E_SERVICES });
    try {
      await shell.waitFor('example:/>');
      shell.signal('SIGHUP');
      assert.equal(await shell.exited(), 129);
    } finally {
      shell.kill();
    }
  });

  test('a second session waiting for the lock is told who holds it, the pid once', async () => {
    const device = sharedDevice('lock');
    const config = stallConfig();
    const holder = start(device, config, ['-c', 'package install 192.0.2.1 big.wmopkg']);
    try {
      await until('the download to start', () => downloading(device));
      const other = runEdgesh({
        device,
        args: ['--user', 'bob', '-c', 'package install 192.0.2.1 pkgname.wmopkg'],
        env: { EDGESH_SERVICES: E2E_SERVICES, EDGESH_E2E_CONFIG: config },
      });
      assert.equal(other.status, 8, 'locked');
      const pid = holder.child.pid!;
      assert.match(
        other.stderr,
        new RegExp(
          `^Error: device busy: a package operation by session pid ${pid} of user alice since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d is in progress; try again when it is done \\[locked\\]\n$`,
        ),
      );
      holder.child.kill('SIGTERM');
      assert.equal((await holder.exited).code, 143);
      assert.deepEqual(leftovers(device), []);
    } finally {
      holder.child.kill('SIGKILL');
    }
  });
});

describe('text from the device is escaped before it reaches the terminal', () => {
  test('a host name with an escape sequence, in the prompt of script mode and of the terminal', async () => {
    const device = sharedDevice('hostile');
    const deviceJson = join(device, 'device.json');
    const hostname = 'ex\u001b[31mample\u0007';
    writeFileSync(deviceJson, JSON.stringify({ ...JSON.parse(readFileSync(deviceJson, 'utf8')), hostname }));
    const r = edgesh(device, '', ['--echo', '-c', 'show version | include Hostname']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      'ex\\x1b[31mample\\x07:/> show version | include Hostname\nHostname:         ex\\x1b[31mample\\x07\n',
    );
    const shell = new PtyShell(['--device', device], { EDGESH_SERVICES: E2E_SERVICES });
    try {
      await shell.waitFor('ex\\x1b[31mample\\x07:/>');
      assert.ok(!shell.output.includes('\u001b[31m'), 'no raw escape sequence');
    } finally {
      shell.kill();
    }
  });
});

function readdirNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
