// Removal packages through the real binary on a real device: from the stick (the media layer) and over
// http (the real transport, against a server on loopback). The upgrade's transcript is a golden.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startHttpServer } from '../../lab/http-server.js';
import { BIN, runEdgesh, testEnv } from '../helpers/run-edgesh.js';

let temp: string;
before(() => {
  temp = mkdtempSync('/tmp/edgesh-removal-');
});
after(() => rmSync(temp, { recursive: true, force: true }));

describe('removal packages through the shell', () => {
  test('by media: from the stick, the package goes at the next reboot; the removal package is never listed', () => {
    const device = join(temp, 'media');
    const r = runEdgesh({
      device,
      stdin: `${[
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
      ].join('\n')}\n`,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(
      r.stdout,
      /^Removal package hello-remove \(Signed, key 5e8c1a3b9d0f2e47\): hello 1\.0\.0 removed\. Changes are applied after reboot\.$/m,
    );
    assert.match(r.stdout, /│hello- {2}1\.0\.0/);
    assert.match(r.stdout, /^Deactivated hello 1\.0\.0 \(removed\)\.$/m);
    assert.doesNotMatch(r.stdout, /│hello-remove/);
    assert.match(r.stdout, / Remove package from hello-remove\.wmopkg: OK$/m);
    assert.ok(!existsSync(join(device, 'rootfs/usr/share/hello')));
  });

  test('by http: the real http transport from a server on loopback, with backup', async () => {
    const device = join(temp, 'http');
    // The device's own simulated stick (no drive in the list) holds mgmt-agent.
    let r = runEdgesh({
      device,
      args: ['-c', 'package install persistent media external mgmt-agent.wmopkg', '-y', '-c', 'reboot'],
      world: { drives: [] },
    });
    assert.equal(r.status, 0, r.stderr);
    const removal = readFileSync(join(device, 'media/usb0/mgmt-agent-remove-backup.wmopkg'));
    const server = await startHttpServer({ files: { 'mgmt-agent-remove-backup.wmopkg': removal } });
    try {
      const run = await realServices(device, [
        '-c',
        `package install proto http 127.0.0.1:${server.port} mgmt-agent-remove-backup.wmopkg`,
        '-c',
        'show backup',
      ]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(
        run.stdout,
        /^Removal package mgmt-agent-remove-backup \(Signed, key 5e8c1a3b9d0f2e47\): mgmt-agent 2\.4\.1 removed, also from the backup\./m,
      );
      assert.match(run.stdout, /^The backup is empty/m);
      assert.deepEqual(
        server.requests.map((q) => q.path),
        ['/mgmt-agent-remove-backup.wmopkg'],
      );
    } finally {
      await server.close();
    }
    r = runEdgesh({ device, args: ['-c', 'show log | include "Remove package"', '-c', 'package show'] });
    assert.match(r.stdout, / Remove package with backup from mgmt-agent-remove-backup\.wmopkg: OK$/m);
    assert.match(r.stdout, /│mgmt-agent- {2}2\.4\.1/);
  });
});

/**
 * The binary with the real services (the transports included), run without blocking this process:
 * the http server it talks to lives here.
 */
function realServices(
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
