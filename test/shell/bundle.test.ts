// The installed binary: the bundle of the build (scripts/bundle.ts), its code cache, and what a start loads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadVendorSecretKey } from '../../firmware-sim/index.js';
import { PtyShell, typeFirstSession } from '../../lab/pty.js';
import { buildPackage, file } from '../helpers/package-fixtures.js';
import { BIN, DEVICE_SERVICES, ROOT, testEnv } from '../helpers/run-edgesh.js';

const DIST = join(ROOT, 'dist');
const BUNDLE = join(DIST, 'bundle/edgesh.cjs');
/** What both launchers share (bin/launch-bundle.cts), and the code cache it runs with (common/code-cache.cts). */
const LAUNCH = join(DIST, 'bin/launch-bundle.cjs');
const CODE_CACHE = join(DIST, 'common/code-cache.cjs');

/** The launchers' shared files, copied into `dir` laid out as dist/ is (its bin/ made already). */
function copyLaunch(dir: string): void {
  copyFileSync(LAUNCH, join(dir, 'bin/launch-bundle.cjs'));
  mkdirSync(join(dir, 'common'), { recursive: true });
  copyFileSync(CODE_CACHE, join(dir, 'common/code-cache.cjs'));
}

let root: string;
let device: string;

/** Runs `program` (the installed binary by default) in the test environment on the real device. */
function edgesh(
  args: readonly string[],
  options: { program?: string; env?: Record<string, string>; node?: readonly string[]; device?: string } = {},
): { stdout: string; stderr: string; status: number | null } {
  const dir = options.device ?? device;
  const r = spawnSync(
    process.execPath,
    [...(options.node ?? []), options.program ?? BIN, '--device', dir, '--user', 'admin', ...args],
    { env: testEnv({ EDGESH_SERVICES: '', ...options.env }), encoding: 'utf8', timeout: 20_000 },
  );
  if (r.error !== undefined) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** A copy of the launcher and of the bundle with its cache, in `dir` laid out as dist/ is. */
function copyInstall(dir: string, options = { launcher: true }): { launcher: string; cache: string } {
  const launcher = join(dir, 'bin/edgesh-start.cjs');
  if (options.launcher) {
    mkdirSync(join(dir, 'bin'));
    copyFileSync(BIN, launcher);
    copyLaunch(dir);
  }
  mkdirSync(join(dir, 'bundle'));
  let cache = '';
  for (const name of readdirSync(join(DIST, 'bundle'))) {
    copyFileSync(join(DIST, 'bundle', name), join(dir, 'bundle', name));
    if (/^edgesh\..*\.v8cache$/.test(name)) cache = join(dir, 'bundle', name);
  }
  return { launcher, cache };
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'edgesh-bundle-test-'));
  device = join(root, 'device');
  const made = edgesh(['-c', 'whoami']);
  assert.equal(made.status, 0, made.stderr);
});
after(() => rm(root, { recursive: true, force: true }));

test('the installed binary runs the bundle, compiled from its code cache', () => {
  const r = edgesh(['-c', 'whoami'], { env: { EDGESH_CODE_CACHE: 'report' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'admin\n');
  assert.equal(r.stderr, 'edgesh: code cache accepted\n');
  const source = readFileSync(BUNDLE, 'utf8');
  const name = /\/\/# edgesh-code-cache=(edgesh\.[0-9a-f]{16}\.v8cache)\n$/.exec(source)?.[1];
  assert.ok(name !== undefined && existsSync(join(DIST, 'bundle', name)), 'the bundle names its code cache');
});

test('the installed wmopkg runs its bundle from its code cache, and says what the modules say', async () => {
  const dir = await mkdtemp(join(root, 'wmopkg-'));
  const run = (program: string, args: readonly string[]) => {
    const r = spawnSync(process.execPath, [join(DIST, 'bin', program), ...args], {
      cwd: dir,
      env: testEnv({ EDGESH_CODE_CACHE: 'report' }),
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };
  const installed = (args: readonly string[]) => run('wmopkg-start.cjs', args);
  const modules = (args: readonly string[]) => run('wmopkg.js', args);
  mkdirSync(join(dir, 'tree/CONTROL'), { recursive: true });
  mkdirSync(join(dir, 'tree/opt/b'), { recursive: true });
  writeFileSync(
    join(dir, 'tree/CONTROL/control'),
    'Package: b\nVersion: 1.0\nArchitecture: all\nMaintainer: T <t@example.com>\nDescription: b\n',
  );
  writeFileSync(join(dir, 'tree/opt/b/f'), 'b\n');
  let r = installed(['keygen', '-n', '-p', 'k.pub', '-s', 'k.sec']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, 'wmopkg: code cache accepted\n');
  r = installed(['build', '-o', 'root', '-g', 'root', '--sign', 'k.sec', '--out', 'b.wmopkg', 'tree']);
  assert.equal(r.status, 0, r.stderr);
  for (const args of [
    ['verify', 'b.wmopkg', '-p', 'k.pub'],
    ['info', 'b.wmopkg'],
    ['verify', 'b.wmopkg', '-p', 'missing.pub'],
    ['frobnicate'],
  ]) {
    const bundled = installed(args);
    const plain = modules(args);
    assert.equal(bundled.stderr, `wmopkg: code cache accepted\n${plain.stderr}`, args.join(' '));
    assert.equal(bundled.stdout, plain.stdout, args.join(' '));
    assert.equal(bundled.status, plain.status, args.join(' '));
  }
  assert.equal(installed(['verify', 'b.wmopkg', '-p', 'k.pub']).status, 0);
  assert.equal(installed(['frobnicate']).status, 2);
  const source = readFileSync(join(DIST, 'bundle/wmopkg.cjs'), 'utf8');
  const name = /\/\/# edgesh-code-cache=(wmopkg\.[0-9a-f]{16}\.v8cache)\n$/.exec(source)?.[1];
  assert.ok(name !== undefined && existsSync(join(DIST, 'bundle', name)), 'the bundle names its code cache');
});

test('the code cache of wmopkg.cjs already holds what a signed build compiles, not only a verify', async () => {
  const dir = await mkdtemp(join(root, 'wmopkg-cache-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'bundle'));
  const launcher = join(dir, 'bin/wmopkg-start.cjs');
  copyFileSync(join(DIST, 'bin/wmopkg-start.cjs'), launcher);
  copyLaunch(dir);
  const name = readdirSync(join(DIST, 'bundle')).find((n) => /^wmopkg\..*\.v8cache$/.test(n));
  assert.ok(name !== undefined, 'the build made a code cache for wmopkg.cjs');
  for (const file of ['wmopkg.cjs', name])
    copyFileSync(join(DIST, 'bundle', file), join(dir, 'bundle', file));
  // The packages the bundle requires, found from the copy as from dist/.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const work = join(dir, 'work');
  mkdirSync(join(work, 'tree/CONTROL'), { recursive: true });
  writeFileSync(
    join(work, 'tree/CONTROL/control'),
    'Package: c\nVersion: 1.0\nArchitecture: all\nMaintainer: T <t@example.com>\nDescription: c\n',
  );
  writeFileSync(join(work, 'tree/f'), 'c\n');
  const run = (args: readonly string[], mode: string) => {
    const r = spawnSync(process.execPath, [launcher, ...args], {
      cwd: work,
      env: testEnv({ EDGESH_CODE_CACHE: mode }),
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stderr;
  };
  run(['keygen', '-n', '-p', 'k.pub', '-s', 'k.sec'], 'report');
  const cache = join(dir, 'bundle', name);
  const built = statSync(cache).size;
  // A pipeline's build, writing the cache again at its exit: whatever it compiled that the cache did
  // not hold would make the new cache larger (filled by a verify alone, it grew by a third).
  run(['build', '-o', 'root', '-g', 'root', '--sign', 'k.sec', '--out', 'c.wmopkg', 'tree'], 'write');
  const rewritten = statSync(cache).size;
  assert.ok(
    rewritten <= built * 1.02,
    `wmopkg's code cache grew from ${built} to ${rewritten} bytes in a build`,
  );
  assert.equal(run(['verify', 'c.wmopkg', '-p', 'k.pub'], 'report'), 'wmopkg: code cache accepted\n');
});

test('a one-command script loads no package and not node:crypto: the launcher and the bundle', () => {
  const report = join(root, 'report.cjs');
  writeFileSync(
    report,
    `process.on('exit', () => process.stderr.write('loaded ' + JSON.stringify({ files: Object.keys(require.cache), crypto: process.moduleLoadList.includes('NativeModule crypto') }) + '\\n'));\n`,
  );
  const r = edgesh(['-c', 'whoami', '-c', 'package show'], { node: ['--require', report] });
  assert.equal(r.status, 0, r.stderr);
  const loaded = JSON.parse(/^loaded (.*)$/m.exec(r.stderr)![1]!) as { files: string[]; crypto: boolean };
  // The bundle itself is compiled by the launcher (vm.Script), not required: only these are.
  assert.deepEqual(loaded.files.sort(), [BIN, LAUNCH, CODE_CACHE, report].sort());
  assert.equal(loaded.crypto, false);
});

test('every import.meta.url of the bundle is the URL of its own module in dist/', () => {
  const source = readFileSync(BUNDLE, 'utf8');
  const files = [...source.matchAll(/__edgeshModuleUrl\("([^"]+)"\)/g)].map((m) => m[1]!);
  assert.ok(files.includes('firmware-sim/boot/unpack-sink.js'), 'the unpack worker is found from its module');
  for (const f of files) assert.match(readFileSync(join(DIST, f), 'utf8'), /import\.meta\.url/, f);
  assert.ok(existsSync(join(DIST, 'firmware-sim/boot/unpack-worker.js')));
  assert.doesNotMatch(source.slice(source.indexOf('\n')), /\bimport\(/, 'no import() in the bundle');
});

test('every bundle is ASCII, so that V8 holds its source as one-byte text', () => {
  // One character beyond ASCII (a `…` in a regular expression, which esbuild does not escape) made
  // V8 keep the whole 0.7 MB source as two-byte text, and a start read and copied twice the bytes.
  for (const name of readdirSync(join(DIST, 'bundle')).filter((f) => f.endsWith('.cjs'))) {
    const bytes = readFileSync(join(DIST, 'bundle', name));
    const at = bytes.findIndex((b) => b > 0x7f);
    const line = bytes.subarray(0, Math.max(at, 0)).toString('latin1').split('\n').length;
    assert.equal(at, -1, `${name}: a byte beyond ASCII on line ${line} (write \\uXXXX in the source)`);
  }
});

test('install, reboot and show on a real device through the bundle, the unpack worker included', async () => {
  const key = await loadVendorSecretKey(`${device}.vendor`);
  const data = Array.from({ length: 300 }, (_, i) => file(`opt/many/f${i}`, `file ${i}\n`));
  await buildPackage(join(device, 'media/usb0'), { name: 'many', sign: key, data });
  const r = edgesh([
    '-y',
    '-c',
    'package install media external hello.wmopkg',
    '-c',
    'package install media external many.wmopkg',
    '-c',
    'reboot',
    '-c',
    'package show',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /│hello +1\.2\.0 +False +Signed +/);
  assert.match(r.stdout, /│many +1\.0\.0 +False +Signed +/);
  assert.equal(readdirSync(join(device, 'rootfs/opt/many')).length, 300);
  assert.equal(readFileSync(join(device, 'rootfs/opt/many/f299'), 'utf8'), 'file 299\n');
});

test('a broken or missing code cache only costs the compile', async () => {
  const dir = await mkdtemp(join(root, 'copy-'));
  const { launcher, cache } = copyInstall(dir);
  const run = (): ReturnType<typeof edgesh> =>
    edgesh(['-c', 'whoami'], { program: launcher, env: { EDGESH_CODE_CACHE: 'report' } });
  writeFileSync(cache, Buffer.alloc(4096, 7));
  let r = run();
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'admin\n');
  assert.equal(r.stderr, 'edgesh: code cache rejected\n');
  await rm(cache);
  r = run();
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'admin\n');
  assert.equal(r.stderr, 'edgesh: code cache none\n');
});

test('the EDGESH_SERVICES hook is imported through the launcher, with and without the code cache', async () => {
  const dir = await mkdtemp(join(root, 'hook-'));
  const { launcher, cache } = copyInstall(dir);
  for (const state of ['accepted', 'none']) {
    if (state === 'none') await rm(cache);
    const r = edgesh(['-c', 'package install 192.0.2.1 pkgname.wmopkg'], {
      program: launcher,
      device: join(dir, `hooked-${state}`),
      env: { EDGESH_SERVICES: DEVICE_SERVICES, EDGESH_CODE_CACHE: 'report' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, `edgesh: code cache ${state}\n`);
    assert.match(r.stdout, /^Installed pkgname 5\.26\.0-rev0 /);
  }
});

test('without a bundle, or with one older than tsc output, the launcher runs the modules unbundled', async () => {
  const dir = await mkdtemp(join(root, 'tsc-only-'));
  mkdirSync(join(dir, 'bin'));
  const launcher = join(dir, 'bin/edgesh-start.cjs');
  copyFileSync(BIN, launcher);
  copyLaunch(dir);
  symlinkSync(join(DIST, 'bin/edgesh.js'), join(dir, 'bin/edgesh.js'));
  const run = (): ReturnType<typeof edgesh> =>
    edgesh(['-c', 'whoami'], { program: launcher, env: { EDGESH_CODE_CACHE: 'report' } });
  let r = run();
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'admin\n');
  assert.equal(r.stderr, 'edgesh: unbundled\n');
  // `tsc` alone after a build: dist/ holds newer code than the bundle.
  const { cache } = copyInstall(dir, { launcher: false });
  const bundle = join(dir, 'bundle/edgesh.cjs');
  utimesSync(bundle, 1_700_000_000, 1_700_000_000);
  writeFileSync(join(dir, '.tsbuildinfo'), '{}');
  r = run();
  assert.equal(r.stderr, 'edgesh: unbundled\n');
  assert.equal(r.stdout, 'admin\n');
  utimesSync(join(dir, '.tsbuildinfo'), 1_600_000_000, 1_600_000_000);
  r = run();
  assert.equal(r.stderr, 'edgesh: code cache accepted\n');
  assert.ok(existsSync(cache));
});

test('the TTY front-end loads vorpal from its bundle and code cache, not from node_modules', () => {
  const script = `import(${JSON.stringify(join(DIST, 'shell/vorpal.js'))}).then((m) => {
    m.loadVorpal();
    const files = Object.keys(require.cache).filter((f) => f.includes('node_modules'));
    process.stdout.write(JSON.stringify(files));
    process.exit(0);
  })`;
  const r = spawnSync(process.execPath, ['-e', script], {
    env: testEnv({ EDGESH_CODE_CACHE: 'report' }),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, 'edgesh: vorpal.cjs code cache accepted\n');
  assert.deepEqual(JSON.parse(r.stdout), []);
});

test('the code cache of vorpal.cjs already holds what an interactive start compiles (the build filled it on a pty)', async () => {
  const dir = await mkdtemp(join(root, 'session-'));
  const { launcher } = copyInstall(dir);
  const name = readdirSync(join(dir, 'bundle')).find((n) => /^vorpal\..*\.v8cache$/.test(n));
  assert.ok(name !== undefined, 'the build made a code cache for vorpal.cjs');
  const cache = join(dir, 'bundle', name);
  const built = statSync(cache).size;
  // The same session as the build's warm-up, writing the cache again at its exit: whatever it
  // compiled that the cache did not hold would make the new cache larger (a cache made by loading
  // vorpal alone grew by more than a quarter).
  const args = ['--device', device, '--user', 'admin'];
  const shell = new PtyShell(args, { LANG: 'C.UTF-8', EDGESH_SERVICES: '', EDGESH_CODE_CACHE: 'write' }, [
    process.execPath,
    [launcher, ...args],
  ]);
  try {
    assert.equal(await typeFirstSession(shell, 'admin'), 0);
  } finally {
    shell.kill();
  }
  const rewritten = statSync(cache).size;
  assert.ok(
    rewritten <= built * 1.02,
    `vorpal's code cache grew from ${built} to ${rewritten} bytes in a session`,
  );
});
