// The firmware lifecycle through the real binary on a real device: a golden transcript of a whole
// upgrade from the simulated stick (UPDATE_GOLDEN=1 rewrites it), and removal packages by media and by http.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startHttpServer } from '../helpers/http-server.js';
import { BIN, ROOT, runEdgesh, testEnv } from '../helpers/run-edgesh.js';

const E2E_SERVICES = join(ROOT, 'dist/test/helpers/e2e-services.js');
const GOLDEN = join(ROOT, 'test/golden/firmware-upgrade.txt');
let temp: string;

before(() => {
  temp = mkdtempSync(join(tmpdir(), 'edgesh-firmware-'));
  writeFileSync(join(temp, 'server.json'), JSON.stringify({ files: {} }));
});
after(() => rmSync(temp, { recursive: true, force: true }));

/** The real binary on a real device with the real media layer (the simulated stick, no real drives). */
function edgesh(device: string, lines: readonly string[]) {
  return runEdgesh({
    device,
    stdin: `${lines.join('\n')}\n`,
    env: { EDGESH_SERVICES: E2E_SERVICES, EDGESH_E2E_CONFIG: join(temp, 'server.json') },
  });
}

/**
 * What changes from one run to the next on a real device, made fixed: times, the vendor key's number
 * (a new key per device), the serial. Everything else is compared as printed.
 */
function normalized(text: string): string {
  return text
    .replace(/\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\b/g, '2026-11-21 10:00:00')
    .replace(/\b[0-9a-f]{16}\b/g, '0123456789abcdef')
    .replace(/\bWM[0-9A-F]{10}\b/g, 'WM0123456789');
}

const UPGRADE = [
  'package',
  'install media external fix-1.wmopkg',
  'install media external hello.wmopkg',
  'do reboot',
  'y',
  'install media external firmware-5.27.0.wmopkg',
  'do show version | exclude Uptime',
  'do reboot',
  'y',
  'do show version | exclude Uptime',
  'show',
  'do show log | include "hotfix|firmware|switch"',
  'do boot firmware fallback',
  'y',
  'do reboot',
  'y',
  'do show version | exclude Uptime',
];

test('golden firmware-upgrade: a whole upgrade from the stick, the hotfix gone, firmware fallback, on the real device', () => {
  const r = edgesh(join(temp, 'upgrade'), UPGRADE);
  const text = [
    '# a whole firmware upgrade from the stick, the hotfix gone, firmware fallback (real device; times, key numbers and the serial normalized)',
    '$ edgesh --user admin',
    '--- stdin',
    ...UPGRADE,
    '--- stdout',
    normalized(r.stdout).replace(/\n$/, ''),
    '--- stderr',
    r.stderr.replace(/\n$/, ''),
    `--- exit status ${r.status}`,
    '',
  ].join('\n');
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(GOLDEN)) writeFileSync(GOLDEN, text);
  assert.equal(text, readFileSync(GOLDEN, 'utf8'));
  assert.equal(r.status, 0, r.stderr);
});

describe('removal packages through the shell', () => {
  test('by media: from the stick, the package goes at the next reboot; the removal package is never listed', () => {
    const device = join(temp, 'media');
    const r = edgesh(device, [
      'package',
      'install media external hello.wmopkg',
      'do reboot',
      'y',
      'install media external hello-remove.wmopkg',
      'show',
      'do reboot',
      'y',
      'show',
      'do show log | include "^.{19} Remove package"',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(
      r.stdout,
      /^Removal package hello-remove \(Signed, key [0-9a-f]{16}\): hello 1\.2\.0 removed\. Changes are applied after reboot\.$/m,
    );
    assert.match(r.stdout, /│hello- {2}1\.2\.0/);
    assert.match(r.stdout, /^Deactivated hello 1\.2\.0 \(removed\)\.$/m);
    assert.doesNotMatch(r.stdout, /│hello-remove/);
    assert.match(r.stdout, / Remove package from hello-remove\.wmopkg: OK$/m);
    assert.ok(!existsSync(join(device, 'rootfs/usr/bin/hello')));
  });

  test('by http: the real http transport from a server on loopback, with backup', async () => {
    const device = join(temp, 'http');
    let r = edgesh(device, ['package install persistent media external mgmt-agent.wmopkg', 'reboot', 'y']);
    assert.equal(r.status, 0, r.stderr);
    const server = await startHttpServer({
      files: {
        'mgmt-agent-remove-backup.wmopkg': readFileSync(
          join(device, 'media/usb0/mgmt-agent-remove-backup.wmopkg'),
        ),
      },
    });
    try {
      const run = await edgeshAsync(device, [
        '-c',
        `package install proto http 127.0.0.1:${server.port} mgmt-agent-remove-backup.wmopkg`,
        '-c',
        'show backup',
      ]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(
        run.stdout,
        /^Removal package mgmt-agent-remove-backup \(Signed, key [0-9a-f]{16}\): mgmt-agent 2\.4\.1 removed, also from the backup\./m,
      );
      assert.match(run.stdout, /^The backup is empty/m);
      assert.deepEqual(
        server.requests.map((q) => q.path),
        ['/mgmt-agent-remove-backup.wmopkg'],
      );
    } finally {
      await server.close();
    }
    r = edgesh(device, ['show log | include "Remove package"', 'package show']);
    assert.match(r.stdout, / Remove package with backup from mgmt-agent-remove-backup\.wmopkg: OK$/m);
    assert.match(r.stdout, /│mgmt-agent- {2}2\.4\.1/);
  });
});

/**
 * The binary with the real services (transports included), run without blocking this process: the
 * http server it talks to lives here.
 */
function edgeshAsync(
  device: string,
  args: readonly string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--device', device, '--user', 'admin', ...args], {
      env: testEnv({ EDGESH_SERVICES: '' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
