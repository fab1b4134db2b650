// Interop of the .wmopkg format with the real tools: dpkg-deb, signify-openbsd, GNU ar and tar (CI only).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  PackageReader,
  readPackageFile,
  trustStoreOf,
  verifyPackage,
} from '../../firmware-sim/format/index.js';

const WMOPKG = resolve(fileURLToPath(import.meta.url), '../../../bin/wmopkg.js');
let dir: string;

function run(command: string, args: string[], options: { input?: string; cwd?: string } = {}) {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? dir,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function wmopkg(...args: string[]) {
  return run(process.execPath, [WMOPKG, ...args]);
}

const CONTROL = `Package: interop
Version: 2.1.0-r3
Architecture: all
Maintainer: Example <dev@example.com>
Description: Interop check
 Built by wmopkg, read by dpkg-deb.
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wmopkg-interop-'));
  for (const tool of ['dpkg-deb', 'signify-openbsd', 'ar', 'tar']) {
    assert.equal(
      spawnSync('sh', ['-c', `command -v ${tool}`]).status,
      0,
      `${tool} must be installed (see .ci/packages.d)`,
    );
  }
  await mkdir(join(dir, 'tree/CONTROL'), { recursive: true });
  await mkdir(join(dir, 'tree/usr/share/interop'), { recursive: true });
  await writeFile(join(dir, 'tree/CONTROL/control'), CONTROL);
  await writeFile(join(dir, 'tree/CONTROL/postinst'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  await writeFile(join(dir, 'tree/usr/share/interop/readme.txt'), 'hello from interop\n');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('interop with standard tools', () => {
  test('dpkg-deb --info and --contents read a signed .wmopkg', () => {
    assert.equal(wmopkg('keygen', '-n', '-p', 'ours.pub', '-s', 'ours.sec').status, 0);
    const built = wmopkg('build', '-o', 'root', '-g', 'root', '--sign', 'ours.sec', 'tree');
    assert.equal(built.status, 0, built.stderr);
    const info = run('dpkg-deb', ['--info', 'interop.wmopkg']);
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /new Debian package, version 2\.0/);
    assert.match(info.stdout, /^ Package: interop$/m);
    assert.match(info.stdout, /^ Version: 2\.1\.0-r3$/m);
    assert.match(info.stdout, /postinst/);
    const contents = run('dpkg-deb', ['--contents', 'interop.wmopkg']);
    assert.equal(contents.status, 0, contents.stderr);
    assert.match(contents.stdout, /root\/root\s+19 .* \.\/usr\/share\/interop\/readme\.txt$/m);
    const field = run('dpkg-deb', ['--field', 'interop.wmopkg', 'Version']);
    assert.equal(field.stdout.trim(), '2.1.0-r3');
  });

  test('wmopkg contents writes permissions as dpkg-deb --contents does, setuid, setgid and sticky included', async () => {
    const work = join(dir, 'modes');
    await mkdir(join(work, 'CONTROL'), { recursive: true });
    await writeFile(join(work, 'CONTROL/control'), CONTROL.replace('interop', 'modes'));
    for (const [path, mode] of [
      ['usr/bin/su', 0o4755],
      ['usr/bin/nox', 0o6644],
      ['usr/bin/grp', 0o2711],
    ] as const) {
      await mkdir(join(work, path, '..'), { recursive: true });
      await writeFile(join(work, path), 'x');
      await chmod(join(work, path), mode);
    }
    await mkdir(join(work, 'tmp'));
    await chmod(join(work, 'tmp'), 0o1777);
    const built = wmopkg('build', '-o', 'root', '-g', 'root', '--out', 'modes.wmopkg', 'modes');
    assert.equal(built.status, 0, built.stderr);
    const modes = (listing: string) =>
      listing
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => `${l.split(/\s+/)[0]} ${l.split(/\s+/).at(-1)}`)
        .sort();
    const ours = wmopkg('contents', 'modes.wmopkg');
    const dpkg = run('dpkg-deb', ['--contents', 'modes.wmopkg']);
    assert.equal(dpkg.status, 0, dpkg.stderr);
    assert.deepEqual(modes(ours.stdout), modes(dpkg.stdout));
    assert.ok(modes(ours.stdout).includes('-rwsr-xr-x ./usr/bin/su'), ours.stdout);
    assert.ok(modes(ours.stdout).includes('drwxrwxrwt ./tmp/'), ours.stdout);
  });

  test('signify-openbsd -V accepts our _manifest.sig for _manifest', async () => {
    await mkdir(join(dir, 'members'));
    execFileSync('ar', ['x', '../interop.wmopkg'], { cwd: join(dir, 'members') });
    const manifest = await readFile(join(dir, 'members/_manifest'), 'utf8');
    assert.match(manifest, /^wmopkg-manifest: 1\npackage: interop\n/);
    const r = run('signify-openbsd', [
      '-V',
      '-p',
      'ours.pub',
      '-x',
      'members/_manifest.sig',
      '-m',
      'members/_manifest',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Signature Verified/);
    // and refuses a manifest that was changed
    await writeFile(join(dir, 'members/_manifest'), manifest.replace('2.1.0-r3', '2.1.0-r4'));
    assert.notEqual(
      run('signify-openbsd', [
        '-V',
        '-p',
        'ours.pub',
        '-x',
        'members/_manifest.sig',
        '-m',
        'members/_manifest',
      ]).status,
      0,
    );
  });

  test('a key pair made by signify-openbsd -G signs with wmopkg, and both tools verify', async () => {
    const gen = run('signify-openbsd', [
      '-G',
      '-n',
      '-p',
      'theirs.pub',
      '-s',
      'theirs.sec',
      '-c',
      'made by signify',
    ]);
    assert.equal(gen.status, 0, gen.stderr);
    assert.equal(wmopkg('sign', 'interop.wmopkg', '-s', 'theirs.sec', '--out', 'theirs.wmopkg').status, 0);
    const verify = wmopkg('verify', 'theirs.wmopkg', '-p', 'theirs.pub');
    assert.equal(verify.status, 0, verify.stdout);
    await mkdir(join(dir, 'theirs'));
    execFileSync('ar', ['x', '../theirs.wmopkg'], { cwd: join(dir, 'theirs') });
    const r = run('signify-openbsd', [
      '-V',
      '-p',
      'theirs.pub',
      '-x',
      'theirs/_manifest.sig',
      '-m',
      'theirs/_manifest',
    ]);
    assert.equal(r.status, 0, r.stderr);
  });

  test('encrypted keys: signify-openbsd -G with a passphrase works in wmopkg, and ours works in signify', async () => {
    // Without a terminal, signify reads the passphrase from stdin (setsid drops the controlling tty).
    const gen = run('setsid', ['signify-openbsd', '-G', '-p', 'enc-theirs.pub', '-s', 'enc-theirs.sec'], {
      input: 'sesame\nsesame\n',
    });
    assert.equal(gen.status, 0, gen.stderr);
    await writeFile(join(dir, 'pass'), 'sesame\n');
    const signed = wmopkg(
      'sign',
      'interop.wmopkg',
      '-s',
      'enc-theirs.sec',
      '--passphrase-file',
      'pass',
      '--out',
      'enc.wmopkg',
    );
    assert.equal(signed.status, 0, signed.stderr);
    assert.equal(wmopkg('verify', 'enc.wmopkg', '-p', 'enc-theirs.pub').status, 0);

    assert.equal(
      wmopkg('keygen', '-p', 'enc-ours.pub', '-s', 'enc-ours.sec', '--passphrase-file', 'pass').status,
      0,
    );
    await writeFile(join(dir, 'message'), 'a message\n');
    const sign = run(
      'setsid',
      ['signify-openbsd', '-S', '-s', 'enc-ours.sec', '-m', 'message', '-x', 'message.sig'],
      {
        input: 'sesame\n',
      },
    );
    assert.equal(sign.status, 0, sign.stderr);
    assert.equal(run('signify-openbsd', ['-V', '-p', 'enc-ours.pub', '-m', 'message']).status, 0);
  });

  test('an ipk made the ipkg-build way (GNU ar, debian-binary data control) is read as Unsigned', async () => {
    const work = join(dir, 'ipk');
    await mkdir(join(work, 'control'), { recursive: true });
    await mkdir(join(work, 'data/etc'), { recursive: true });
    await writeFile(join(work, 'control/control'), CONTROL.replace('interop', 'legacy'));
    await writeFile(join(work, 'data/etc/legacy.conf'), 'x=1\n');
    await writeFile(join(work, 'debian-binary'), '2.0\n');
    execFileSync(
      'tar',
      ['--format=gnu', '--owner=0', '--group=0', '-czf', 'control.tar.gz', '-C', 'control', '.'],
      { cwd: work },
    );
    execFileSync(
      'tar',
      ['--format=gnu', '--owner=0', '--group=0', '-czf', 'data.tar.gz', '-C', 'data', '.'],
      { cwd: work },
    );
    execFileSync('ar', ['-crf', 'legacy.wmopkg', 'debian-binary', 'data.tar.gz', 'control.tar.gz'], {
      cwd: work,
    });
    const reading = await readPackageFile(join(work, 'legacy.wmopkg'));
    assert.deepEqual(
      reading.members.map((m) => m.name),
      ['debian-binary', 'data.tar.gz', 'control.tar.gz'],
    );
    assert.equal(reading.control.package, 'legacy');
    assert.equal(verifyPackage(reading, trustStoreOf([])).status, 'Unsigned');
    const r = wmopkg('verify', join(work, 'legacy.wmopkg'), '-p', 'ours.pub');
    assert.equal(r.status, 4, r.stdout);

    // OpenWrt's layout: the three members in an outer tar.gz.
    execFileSync(
      'tar',
      [
        '--format=gnu',
        '--owner=0',
        '--group=0',
        '-czf',
        'openwrt.wmopkg',
        './debian-binary',
        './data.tar.gz',
        './control.tar.gz',
      ],
      {
        cwd: work,
      },
    );
    const outer = await readPackageFile(join(work, 'openwrt.wmopkg'));
    assert.equal(outer.layout, 'tar.gz');
    assert.equal(verifyPackage(outer, trustStoreOf([])).status, 'Unsigned');
    const listing = wmopkg('contents', join(work, 'openwrt.wmopkg'));
    assert.match(listing.stdout, /\.\/etc\/legacy\.conf$/m);

    // dpkg-deb --build with gzip makes a .deb that reads as Unsigned too; its default (xz) is refused.
    await mkdir(join(work, 'deb/DEBIAN'), { recursive: true });
    await writeFile(join(work, 'deb/DEBIAN/control'), CONTROL.replace('interop', 'fromdpkg'));
    execFileSync('dpkg-deb', ['-Zgzip', '--root-owner-group', '--build', 'deb', 'fromdpkg.wmopkg'], {
      cwd: work,
    });
    assert.equal(
      verifyPackage(await readPackageFile(join(work, 'fromdpkg.wmopkg')), trustStoreOf([])).status,
      'Unsigned',
    );
    execFileSync('dpkg-deb', ['-Zxz', '--build', 'deb', 'xz.wmopkg'], { cwd: work });
    await assert.rejects(readPackageFile(join(work, 'xz.wmopkg')), /only gzip/);
  });

  test('signify-openbsd -V -e accepts an unlock token made by wmopkg unlock-token', async () => {
    assert.equal(
      wmopkg('unlock-token', '-s', 'ours.sec', '--serial', 'WM0001', '--out', 'token.lic').status,
      0,
    );
    const r = run('signify-openbsd', ['-V', '-e', '-p', 'ours.pub', '-x', 'token.lic', '-m', 'token.txt']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(await readFile(join(dir, 'token.txt'), 'utf8'), 'wmopkg-unlock: 1\nserial: WM0001\n');
  });

  test('a package stream larger than 4 GiB keeps exact 64-bit sizes', async () => {
    // A synthetic stream: a valid control, then a 4.5 GiB data member of zeros behind a gzip magic.
    const real = await readFile(join(dir, 'interop.wmopkg'));
    const reading = await readPackageFile(join(dir, 'interop.wmopkg'));
    const control = reading.members.find((m) => m.name === 'control.tar.gz')!;
    const size = 4.5 * 1024 ** 3;
    const header = (name: string, length: number) =>
      Buffer.from(
        `${name.padEnd(16)}${'0'.padEnd(12)}0     0     100644  ${String(length).padEnd(10)}\`\n`,
        'latin1',
      );
    const reader = new PackageReader();
    const hash = createHash('sha256');
    await reader.write(Buffer.from('!<arch>\n'));
    await reader.write(Buffer.concat([header('debian-binary', 4), Buffer.from('2.0\n')]));
    const controlBytes = real.subarray(control.offset!, control.offset! + control.size);
    await reader.write(
      Buffer.concat([
        header('control.tar.gz', control.size),
        controlBytes,
        control.size % 2 ? Buffer.from('\n') : Buffer.alloc(0),
      ]),
    );
    await reader.write(header('data.tar.gz', size));
    const block = Buffer.alloc(8 * 1024 * 1024);
    block.set([0x1f, 0x8b, 0x08]);
    for (let sent = 0; sent < size; sent += block.length) {
      const chunk = block.subarray(0, Math.min(block.length, size - sent));
      hash.update(chunk);
      await reader.write(chunk);
      if (sent === 0) block.fill(0, 0, 3);
    }
    const result = await reader.end();
    const data = result.members.find((m) => m.name === 'data.tar.gz')!;
    assert.equal(data.size, size);
    assert.equal(data.sha256, hash.digest('hex'));
    assert.equal(result.size, 8 + 60 + 4 + 60 + control.size + (control.size % 2) + 60 + size);
  });
});
