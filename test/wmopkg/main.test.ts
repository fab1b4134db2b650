// `wmopkg` as a user runs it: the real binary in a child process, in a scratch directory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writePackage } from '../../firmware-sim/format/index.js';

const WMOPKG = resolve(fileURLToPath(import.meta.url), '../../../bin/wmopkg.js');
let dir: string;

function wmopkg(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [WMOPKG, ...args], {
    cwd: dir,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    input: '',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A build tree like opkg-build takes: CONTROL/ plus the files. */
async function tree(name: string, control: string, extra: (root: string) => Promise<void> = async () => {}) {
  const root = join(dir, name);
  await mkdir(join(root, 'CONTROL'), { recursive: true });
  await mkdir(join(root, 'usr/bin'), { recursive: true });
  await writeFile(join(root, 'CONTROL/control'), control);
  await writeFile(join(root, 'usr/bin/demo'), '#!/bin/sh\necho demo\n', { mode: 0o755 });
  await extra(root);
  return root;
}

const CONTROL = `Package: demo
Version: 1.0-r1
Architecture: all
Maintainer: Example <dev@example.com>
Description: A demo package
`;

function assertOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  assert.match(lines[0]!, /^Error: /);
  assert.match(lines[0]!, pattern);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wmopkg-tool-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('wmopkg', () => {
  test('keygen, build --sign, verify: Signed with exit 0; another key is Invalid (5); a keys dir without it Untrusted (3)', async () => {
    let r = wmopkg(['keygen', '-n', '-p', 'vendor.pub', '-s', 'vendor.sec', '-c', 'vendor']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^key [0-9a-f]{16}: public vendor\.pub, secret vendor\.sec$/m);
    assert.match(await readFile(join(dir, 'vendor.pub'), 'utf8'), /^untrusted comment: vendor public key\n/);
    r = wmopkg(['keygen', '-n', '-p', 'vendor.pub', '-s', 'vendor.sec']);
    assert.equal(r.status, 2);
    assertOneLineError(r.stderr, /exists; not overwriting/);

    await tree('demo-tree', CONTROL);
    r = wmopkg(['build', '-o', 'root', '-g', 'root', '--sign', 'vendor.sec', 'demo-tree']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /into demo\.wmopkg \(signed with key [0-9a-f]{16}\)/);

    r = wmopkg(['verify', 'demo.wmopkg', '-p', 'vendor.pub']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^demo\.wmopkg: Signed: signature valid/);

    wmopkg(['keygen', '-n', '-p', 'other.pub', '-s', 'other.sec']);
    r = wmopkg(['verify', 'demo.wmopkg', '-p', 'other.pub']);
    assert.equal(r.status, 5);
    assert.match(r.stdout, /Invalid: key number mismatch/);

    await mkdir(join(dir, 'keys'));
    await writeFile(join(dir, 'keys/other'), await readFile(join(dir, 'other.pub')));
    r = wmopkg(['verify', 'demo.wmopkg', '--keys', 'keys']);
    assert.equal(r.status, 3);
    assert.match(r.stdout, /Untrusted: signed by unknown key/);

    await writeFile(join(dir, 'keys/vendor'), await readFile(join(dir, 'vendor.pub')));
    const keyNumber = /key ([0-9a-f]{16})/.exec(wmopkg(['info', 'demo.wmopkg']).stdout)![1]!;
    await writeFile(join(dir, 'revoked'), `# revoked keys\n${keyNumber}\n`);
    r = wmopkg(['verify', 'demo.wmopkg', '--keys', 'keys', '--revoked', 'revoked']);
    assert.equal(r.status, 3);
    assert.match(r.stdout, /revoked key/);
    // A revocation list that cannot be read fails closed, with -p as with --keys.
    await writeFile(join(dir, 'revoked-bad'), 'not a key number\n');
    for (const trust of [
      ['-p', 'vendor.pub'],
      ['--keys', 'keys'],
    ]) {
      r = wmopkg(['verify', 'demo.wmopkg', ...trust, '--revoked', 'revoked-bad']);
      assert.equal(r.status, 3, trust.join(' '));
      assert.match(r.stdout, /Untrusted: revocation list unreadable: revoked-bad line 1/);
    }
  });

  test('build is reproducible with SOURCE_DATE_EPOCH', async () => {
    await tree('repro', CONTROL.replace('demo', 'repro'), async (root) => {
      await link(join(root, 'usr/bin/demo'), join(root, 'usr/bin/demo-hard'));
      await symlink('demo', join(root, 'usr/bin/demo-soft'));
    });
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    assert.equal(wmopkg(['build', '--out', 'a.wmopkg', 'repro'], env).status, 0);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(wmopkg(['build', '--out', 'b.wmopkg', 'repro'], env).status, 0);
    const [a, b] = await Promise.all([readFile(join(dir, 'a.wmopkg')), readFile(join(dir, 'b.wmopkg'))]);
    assert.ok(a.equals(b), 'same bytes');
    const contents = wmopkg(['contents', 'a.wmopkg']).stdout;
    assert.match(contents, /^drwxr-xr-x .* 2023-11-14 22:13 \.\/usr\/$/m);
    assert.match(contents, /^-rwxr-xr-x .* \.\/usr\/bin\/demo$/m);
    assert.match(contents, /\.\/usr\/bin\/demo-hard link to \.\/usr\/bin\/demo$/m);
    assert.match(contents, /\.\/usr\/bin\/demo-soft -> demo$/m);
  });

  test('sign adds a signature to an unsigned package; verify of the unsigned one exits 4', async () => {
    await tree('later', CONTROL.replace('demo', 'later'));
    assert.equal(wmopkg(['build', 'later']).status, 0);
    let r = wmopkg(['verify', 'later.wmopkg', '-p', 'vendor.pub']);
    assert.equal(r.status, 4);
    assert.match(r.stdout, /Unsigned/);
    r = wmopkg(['sign', 'later.wmopkg', '-s', 'vendor.sec', '--out', 'later-signed.wmopkg']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(wmopkg(['verify', 'later-signed.wmopkg', '-p', 'vendor.pub']).status, 0);
    assert.equal(
      wmopkg(['verify', 'later.wmopkg', '-p', 'vendor.pub']).status,
      4,
      'the original is untouched',
    );
  });

  test('an encrypted secret key works with --passphrase-file and refuses without a terminal', async () => {
    await writeFile(join(dir, 'pass'), 'tr0ub4dor\n');
    let r = wmopkg(['keygen', '-p', 'enc.pub', '-s', 'enc.sec', '--passphrase-file', 'pass']);
    assert.equal(r.status, 0, r.stderr);
    r = wmopkg(['sign', 'demo.wmopkg', '-s', 'enc.sec', '--out', 'enc.wmopkg']);
    assert.equal(r.status, 2);
    assertOneLineError(r.stderr, /no terminal: use --passphrase-file/);
    r = wmopkg(['sign', 'demo.wmopkg', '-s', 'enc.sec', '--out', 'enc.wmopkg', '--passphrase-file', 'pass']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(wmopkg(['verify', 'enc.wmopkg', '-p', 'enc.pub']).status, 0);
    await writeFile(join(dir, 'wrong'), 'nope\n');
    r = wmopkg(['sign', 'demo.wmopkg', '-s', 'enc.sec', '--out', 'x.wmopkg', '--passphrase-file', 'wrong']);
    assert.equal(r.status, 1);
    assertOneLineError(r.stderr, /incorrect passphrase/);
    assert.doesNotMatch(r.stderr, /nope|tr0ub4dor/);
  });

  test('unlock-token writes a signify-embedded token naming the serial', async () => {
    const r = wmopkg(['unlock-token', '-s', 'vendor.sec', '--serial', 'WM0042', '--out', 'unlock.lic']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^unlock\.lic: unlock token for serial WM0042, signed with key [0-9a-f]{16}$/m);
    const token = await readFile(join(dir, 'unlock.lic'), 'utf8');
    assert.match(token, /^untrusted comment: .*\n[A-Za-z0-9+/=]+\nwmopkg-unlock: 1\nserial: WM0042\n$/);
    const bad = wmopkg(['unlock-token', '-s', 'vendor.sec', '--serial', 'bad serial!']);
    assert.notEqual(bad.status, 0);
    assertOneLineError(bad.stderr, /serial/);
  });

  test('the wrong key file, or an output in a missing directory, is named plainly', () => {
    let r = wmopkg(['sign', 'demo.wmopkg', '-s', 'vendor.pub']);
    assert.equal(r.status, 1);
    assertOneLineError(r.stderr, /^Error: secret key: this is a public key, not a secret key$/);
    r = wmopkg(['verify', 'demo.wmopkg', '-p', 'vendor.sec']);
    assertOneLineError(r.stderr, /this is a secret key, not a public key/);
    r = wmopkg(['build', '--out', '/nonexistent/x.wmopkg', 'demo-tree']);
    assert.equal(r.status, 1);
    assertOneLineError(
      r.stderr,
      /^Error: cannot write \/nonexistent\/x\.wmopkg: \/nonexistent: no such directory$/,
    );
  });

  test('info prints the control file like dpkg-deb --info', () => {
    const r = wmopkg(['info', 'demo.wmopkg']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^ new wmopkg package, version 2\.0, signed with key [0-9a-f]{16}/);
    assert.match(r.stdout, /^ Package: demo$/m);
    assert.match(r.stdout, /^ Description: A demo package$/m);
  });

  const checks: Array<{
    title: string;
    control?: string;
    extra?: (root: string) => Promise<void>;
    pattern: RegExp;
  }> = [
    {
      title: 'a missing required field',
      control: CONTROL.replace(/^Maintainer.*\n/m, ''),
      pattern: /missing required field Maintainer/,
    },
    {
      title: 'a bad package name',
      control: CONTROL.replace('Package: demo', 'Package: Demo_1'),
      pattern: /bad Package "Demo_1"/,
    },
    {
      title: 'a script that is not executable',
      extra: (root) => writeFile(join(root, 'CONTROL/postinst'), '#!/bin/sh\n', { mode: 0o644 }),
      pattern: /CONTROL\/postinst is not executable/,
    },
    {
      title: 'a conffile that does not exist',
      extra: (root) => writeFile(join(root, 'CONTROL/conffiles'), '/etc/demo.conf\n'),
      pattern: /conffile \/etc\/demo\.conf is not a regular file/,
    },
    {
      title: 'both CONTROL and DEBIAN',
      extra: (root) => mkdir(join(root, 'DEBIAN')),
      pattern: /both CONTROL\/ and DEBIAN\//,
    },
  ];
  for (const [index, { title, control, extra, pattern }] of checks.entries()) {
    test(`build refuses ${title} with one line`, async () => {
      await tree(`bad-${index}`, control ?? CONTROL, extra);
      const r = wmopkg(['build', `bad-${index}`]);
      assert.equal(r.status, 1);
      assertOneLineError(r.stderr, pattern);
    });
  }

  test('build warns about files owned by uid > 99 unless -o is given', async (t) => {
    if (process.getuid?.() !== 0) {
      t.diagnostic('needs root to chown a file; the check is covered in CI, which runs as root');
    }
    await tree('owned', CONTROL.replace('demo', 'owned'));
    const { chown } = await import('node:fs/promises');
    const owned = await chown(join(dir, 'owned/usr/bin/demo'), 1000, 1000).then(
      () => true,
      () => false,
    );
    let r = wmopkg(['build', 'owned']);
    assert.equal(r.status, 0);
    if (owned) assert.match(r.stderr, /Warning: \.\/usr\/bin\/demo is owned by uid 1000/);
    r = wmopkg(['build', '-o', 'root', '-g', 'root', '--out', 'owned2.wmopkg', 'owned']);
    assert.equal(r.stderr, '');
    assert.match(wmopkg(['contents', 'owned2.wmopkg']).stdout, /root\/root/);
  });

  test('usage errors exit 2 with one line; --help works for every command', async () => {
    for (const args of [['frobnicate'], ['verify', 'demo.wmopkg'], ['build'], ['verify', 'x', '--bogus']]) {
      const r = wmopkg(args);
      assert.equal(r.status, 2, args.join(' '));
      assertOneLineError(r.stderr, /./);
    }
    for (const command of ['keygen', 'build', 'sign', 'verify', 'info', 'contents']) {
      const r = wmopkg([command, '--help']);
      assert.equal(r.status, 0);
      assert.match(r.stdout, new RegExp(`^Usage: wmopkg ${command}`));
    }
  });

  test('a corrupt package: verify says Invalid (5), info fails with one line', async () => {
    const bytes = await readFile(join(dir, 'demo.wmopkg'));
    await writeFile(join(dir, 'cut.wmopkg'), bytes.subarray(0, 200));
    let r = wmopkg(['verify', 'cut.wmopkg', '-p', 'vendor.pub']);
    assert.equal(r.status, 5);
    assert.match(r.stdout, /Invalid: truncated/);
    r = wmopkg(['info', 'cut.wmopkg']);
    assert.equal(r.status, 1);
    assertOneLineError(r.stderr, /truncated/);
    r = wmopkg(['info', 'missing.wmopkg']);
    assertOneLineError(r.stderr, /missing\.wmopkg: no such file/);
    await chmod(join(dir, 'cut.wmopkg'), 0o644);
  });
});

describe('wmopkg info and contents of a hostile package', () => {
  const RAW = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/;
  before(async () => {
    await writePackage(
      {
        control: [
          ['Package', 'hostile'],
          ['Version', '1.0'],
          ['Architecture', 'all'],
          ['Maintainer', 'Someone <x@example.com>'],
          ['Description', 'looks \u202egpj.exe \u009b2J'],
          ['X-Note', 'a\tb \u2066isolated\u2069'],
        ],
        controlMembers: [{ name: 'postinst', content: '#!/bin/sh \x1b]0;title\x07\nexit 0\n', mode: 0o755 }],
        data: [
          { name: './usr/', type: 'directory', mode: 0o755 },
          { name: './usr/bin/', type: 'directory', mode: 0o755 },
          { name: './usr/bin/su\x1b]0;pwned\x07', type: 'file', mode: 0o4755, content: 'x' },
          { name: './usr/bin/nox', type: 'file', mode: 0o6644, content: 'x' },
          { name: './srv/', type: 'directory', mode: 0o2755 },
          { name: './tmp/', type: 'directory', mode: 0o1777 },
          { name: './var/', type: 'directory', mode: 0o1770 },
          { name: './clear\r\x1b[2J\u009b1m\u202eevil', type: 'file', mode: 0o644, content: 'x' },
          { name: './link', type: 'symlink', linkname: '\x1b[31mred\x07\u2067' },
        ],
        mtime: 1_700_000_000,
      },
      join(dir, 'hostile.wmopkg'),
    );
  });

  test('contents shows setuid, setgid and sticky bits as dpkg-deb -c does', () => {
    const r = wmopkg(['contents', 'hostile.wmopkg']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^-rwsr-xr-x .* \.\/usr\/bin\/su/m);
    assert.match(r.stdout, /^-rwSr-Sr-- .* \.\/usr\/bin\/nox$/m);
    assert.match(r.stdout, /^drwxr-sr-x .* \.\/srv\/$/m);
    assert.match(r.stdout, /^drwxrwxrwt .* \.\/tmp\/$/m);
    assert.match(r.stdout, /^drwxrwx--T .* \.\/var\/$/m);
  });

  test('contents escapes ESC, OSC, CR, BEL, C1 and bidi controls in names and link targets', () => {
    const r = wmopkg(['contents', 'hostile.wmopkg']);
    assert.equal(r.status, 0, r.stderr);
    for (const line of r.stdout.split('\n')) assert.doesNotMatch(line, RAW, JSON.stringify(line));
    assert.match(r.stdout, / \.\/usr\/bin\/su\\x1b\]0;pwned\\x07$/m);
    assert.match(r.stdout, / \.\/clear\\x0d\\x1b\[2J\\x9b1m\\u202eevil$/m);
    assert.match(r.stdout, / \.\/link -> \\x1b\[31mred\\x07\\u2067$/m);
  });

  test('info escapes them in control fields and script lines', () => {
    const r = wmopkg(['info', 'hostile.wmopkg']);
    assert.equal(r.status, 0, r.stderr);
    for (const line of r.stdout.split('\n')) assert.doesNotMatch(line, RAW, JSON.stringify(line));
    assert.match(r.stdout, /^ Description: looks \\u202egpj\.exe \\x9b2J$/m);
    assert.match(r.stdout, /^ X-Note: a\\x09b \\u2066isolated\\u2069$/m);
    assert.match(r.stdout, /\* {2}postinst {13}#!\/bin\/sh \\x1b\]0;title\\x07$/m);
  });
});
