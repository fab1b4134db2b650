// `wmopkg` for the firmware lifecycle: build checks of firmware and hotfix packages, and `wmopkg removal`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readPackageFile, removalOf } from '../../firmware-sim/format/index.js';

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

/** A build tree: CONTROL/control and, unless `files` is false, one file. */
async function tree(name: string, control: string, files = true): Promise<string> {
  const root = join(dir, name);
  await mkdir(join(root, 'CONTROL'), { recursive: true });
  await writeFile(join(root, 'CONTROL/control'), control);
  if (files) {
    await mkdir(join(root, 'etc'), { recursive: true });
    await writeFile(join(root, 'etc/os-release'), 'VERSION="5.27.0"\n');
  }
  return root;
}

const FIRMWARE = (arch: string) => `Package: firmware
Version: 5.27.0
Architecture: ${arch}
Maintainer: Example <fw@example.com>
Tags: firmware
Description: The firmware
`;

function oneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, /^Error: /);
  assert.match(lines[0]!, pattern);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wmopkg-kinds-'));
  assert.equal(wmopkg(['keygen', '-n', '-p', 'vendor.pub', '-s', 'vendor.sec', '-c', 'vendor']).status, 0);
});
after(() => rm(dir, { recursive: true, force: true }));

describe('wmopkg build of firmware and hotfix packages', () => {
  test('a firmware names its architecture and has files; unsigned, it is built with a warning', async () => {
    let r = wmopkg(['build', '-o', 'root', '-g', 'root', await tree('fw-all', FIRMWARE('all'))]);
    assert.equal(r.status, 1);
    oneLineError(r.stderr, /a firmware package must name the architecture of its hardware, not "all"/);
    r = wmopkg(['build', '-o', 'root', '-g', 'root', await tree('fw-empty', FIRMWARE('arm64'), false)]);
    assert.equal(r.status, 1);
    oneLineError(r.stderr, /a firmware package needs the firmware's files; the tree has none/);
    r = wmopkg(['build', '-o', 'root', '-g', 'root', await tree('fw', FIRMWARE('arm64'))]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /^Warning: a device accepts a firmware package only when it is signed by its vendor key/,
    );
    r = wmopkg([
      'build',
      '-o',
      'root',
      '-g',
      'root',
      '--sign',
      'vendor.sec',
      '--out',
      'signed.wmopkg',
      join(dir, 'fw'),
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  test('a firmware may depend on an earlier firmware only', async () => {
    const control = FIRMWARE('arm64').replace(
      'Tags: firmware\n',
      'Tags: firmware\nDepends: firmware (>= 5.20), busybox\n',
    );
    const r = wmopkg(['build', '-o', 'root', '-g', 'root', await tree('fw-deps', control)]);
    assert.equal(r.status, 1);
    oneLineError(r.stderr, /may depend on an earlier firmware only, not on "busybox"/);
  });

  test('a hotfix depends on exactly one firmware version; two kinds at once are refused', async () => {
    const hotfix = (depends: string) =>
      `Package: fix-1\nVersion: 1\nArchitecture: all\nMaintainer: M <m@example.com>\nTags: hotfix\n${depends}Description: A fix\n`;
    let r = wmopkg(['build', '-o', 'root', '-g', 'root', await tree('hf-none', hotfix(''))]);
    oneLineError(
      r.stderr,
      /a hotfix must depend on exactly one firmware version \(Depends: firmware \(= VERSION\)\)$/,
    );
    r = wmopkg([
      'build',
      '-o',
      'root',
      '-g',
      'root',
      await tree('hf-range', hotfix('Depends: firmware (>= 5.26)\n')),
    ]);
    oneLineError(r.stderr, /exactly one firmware version .*not "firmware \(>= 5\.26\)"/);
    r = wmopkg([
      'build',
      '-o',
      'root',
      '-g',
      'root',
      await tree('hf', hotfix('Depends: firmware (= 5.26.0)\n')),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const both = hotfix('Depends: firmware (= 5.26.0)\n').replace('Tags: hotfix', 'Tags: hotfix, firmware');
    r = wmopkg(['build', '-o', 'root', '-g', 'root', await tree('hf-both', both)]);
    oneLineError(
      r.stderr,
      /Tags names hotfix and firmware; a package is at most one of firmware, hotfix, removal/,
    );
  });
});

describe('wmopkg removal', () => {
  test('writes PKGNAME-remove.wmopkg, signed, Tags: removal, no files; --backup writes PKGNAME-remove-backup.wmopkg', async () => {
    let r = wmopkg(['removal', 'hello', '--sign', 'vendor.sec']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^hello-remove\.wmopkg: removes hello at the next boot \(signed with key [0-9a-f]{16}\)$/m,
    );
    let reading = await readPackageFile(join(dir, 'hello-remove.wmopkg'));
    assert.equal(reading.control.package, 'hello-remove');
    assert.equal(reading.control.get('Tags'), 'removal');
    assert.equal(reading.control.get('Maintainer'), 'vendor');
    assert.deepEqual(removalOf(reading.control), { target: 'hello', backup: false });
    assert.ok(reading.signature);
    r = wmopkg(['verify', 'hello-remove.wmopkg', '-p', 'vendor.pub']);
    assert.equal(r.status, 0, r.stdout);
    r = wmopkg(['contents', 'hello-remove.wmopkg']);
    assert.deepEqual(r.stdout.trim().split('\n').length, 1, r.stdout);
    r = wmopkg([
      'removal',
      'hello',
      '--backup',
      '--sign',
      'vendor.sec',
      '--maintainer',
      'Ops <ops@example.com>',
    ]);
    assert.equal(r.status, 0, r.stderr);
    reading = await readPackageFile(join(dir, 'hello-remove-backup.wmopkg'));
    assert.deepEqual(removalOf(reading.control), { target: 'hello', backup: true });
    assert.equal(reading.control.get('Maintainer'), 'Ops <ops@example.com>');
  });

  test('needs --sign and a package name that stays a name with -remove added', () => {
    let r = wmopkg(['removal', 'hello']);
    assert.equal(r.status, 2);
    oneLineError(r.stderr, /missing --sign KEY\.sec/);
    r = wmopkg(['removal', 'x'.repeat(60), '--sign', 'vendor.sec']);
    assert.equal(r.status, 1);
    oneLineError(r.stderr, /bad package name "x{60}"/);
    r = wmopkg(['removal', '../etc', '--sign', 'vendor.sec']);
    oneLineError(r.stderr, /bad package name/);
  });

  test('is reproducible with SOURCE_DATE_EPOCH', async () => {
    const { readFile } = await import('node:fs/promises');
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    wmopkg(['removal', 'motd', '--sign', 'vendor.sec', '--out', 'a.wmopkg'], env);
    wmopkg(['removal', 'motd', '--sign', 'vendor.sec', '--out', 'b.wmopkg'], env);
    assert.deepEqual(await readFile(join(dir, 'a.wmopkg')), await readFile(join(dir, 'b.wmopkg')));
  });
});
