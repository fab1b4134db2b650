// The manual's examples end to end: the real binary on a real device, real packages, real media layer;
// only the server at the manual's unroutable 192.0.2.1 is a mock transport.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
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
import type { E2EConfig } from '../helpers/e2e-services.js';
import { ROOT, type RunResult, runEdgesh } from '../helpers/run-edgesh.js';

const E2E_SERVICES = join(ROOT, 'dist/test/helpers/e2e-services.js');
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
    for (const line of lines.slice(1, 5)) {
      assert.match(
        line,
        /^Reinstalled pkgname 5\.26\.0-rev0 \(Signed, key [0-9a-f]{16}\)\. Changes are applied after reboot\.$/,
      );
    }
    assert.equal(lines[5], 'Media label my-usb: usb device, first partition.');
    assert.match(lines[6]!, /^Reinstalled pkgname 5\.26\.0-rev0/);
    assert.equal(lines[7], 'Reboot the device (y/N)?y');
    assert.match(lines[10]!, /^│pkgname {2}5\.26\.0-rev0 {2}Signed {8}activated {2,}│$/);
    const show = r.stdout.slice(r.stdout.indexOf('╒ Packages'));
    assert.ok(
      show.startsWith(
        [
          '╒ Packages ═══════════════════════════════════════════════════════════╕',
          '│NAME     VERSION      PERSISTENT  VERIFICATION  DESCRIPTION          │',
          '│pkgname  5.26.0-rev0  False       Signed        Example              │',
          '└─────────────────────────────────────────────────────────────────────┘',
          'Remove package pkgname (y/N)?y',
          'Removed… Changes are applied after reboot.',
          'Remove all packages (y/N)?y',
          'Removing all packages… Changes are applied after reboot.',
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
    assert.equal(r.status, 1, 'the declined downgrade is an error for a script');
    assert.match(
      r.stdout,
      /^Upgraded pkgname from 5\.26\.0-rev0 to 5\.27\.0 \(Signed, key [0-9a-f]{16}\)\. Changes are applied after reboot\.$/m,
    );
    assert.match(r.stdout, /^Downgrade pkgname from 5\.27\.0 to 4\.0 \(y\/N\)\?n$/m);
    assert.match(r.stdout, /^Version: +5\.27\.0$/m);
    assert.match(r.stdout, /^Reinstalled pkgname 5\.27\.0 /m);
    const log = r.stdout.split('\n').filter((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /.test(l));
    assert.deepEqual(
      log.map((l) => l.slice(20).replace(/ \(.*/, '')),
      [
        'install pkgname 5.26.0-rev0',
        'upgrade pkgname 5.26.0-rev0 -> 5.27.0',
        'install pkgname refused',
        'reinstall pkgname 5.27.0',
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
    assert.equal(r.status, 1);
    const errors = r.stderr.trim().split('\n');
    assert.match(errors[0]!, /^Warning: unsigned is Unsigned/);
    assert.match(errors[1]!, /^Warning: untrusted is Untrusted .*unknown key/);
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
    assert.equal(r.status, 1);
    const errors = r.stderr.trim().split('\n');
    assert.equal(errors.length, 2, r.stderr);
    assert.match(
      errors[0]!,
      /^Error: allow-untrusted refused: secure boot is on; install an unlock token for serial /,
    );
    assert.match(errors[1]!, /^Error: .*(serial|another device)/i);
    assert.match(
      r.stdout,
      new RegExp(`^Unlock token installed for serial ${config.serial} \\(key [0-9a-f]{16}\\)`, 'm'),
    );
    assert.match(r.stdout, /^allow-untrusted is on\. Changes are applied after reboot\.$/m);
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
    assert.equal(r.status, 1);
    const errors = r.stderr.trim().split('\n');
    assert.equal(errors.length, bad.length, r.stderr);
    for (const line of errors) assert.match(line, /^Error: /);
    assert.doesNotMatch(r.stdout, /│[a-z]/, 'nothing installed');
  });
});

function readdirNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
