// Ctrl-C on a terminal while the real device boots: the boot goes on, the shell says why, the screen stays clean.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writePackage } from '../../firmware-sim/format/index.js';
import { defaultVendorDir, loadVendorSecretKey } from '../../firmware-sim/index.js';
import { PtyShell } from '../helpers/pty.js';
import { DEVICE_SERVICES, runEdgesh } from '../helpers/run-edgesh.js';
import type { WorldConfig } from '../helpers/world.js';

let temp: string;
let device: string;
let env: Record<string, string>;
const started = (): string => join(temp, 'boot-started');
const gate = (): string => join(temp, 'boot-gate');

/** A signed package whose postinst holds the boot until the test opens the gate. */
before(async () => {
  temp = mkdtempSync(join(tmpdir(), 'edgesh-tty-boot-'));
  device = join(temp, 'device');
  env = { EDGESH_SERVICES: DEVICE_SERVICES, EDGESH_E2E_CONFIG: join(temp, 'server.json') };
  writeFileSync(env.EDGESH_E2E_CONFIG!, JSON.stringify({ files: {} }));
  assert.equal(runEdgesh({ device, env, args: ['-c', 'show version'] }).status, 0);
  const key = await loadVendorSecretKey(defaultVendorDir(device));
  const file = join(temp, 'gate.wmopkg');
  await writePackage(
    {
      control: [
        ['Package', 'gate'],
        ['Version', '1.0'],
        ['Architecture', 'all'],
        ['Maintainer', 'Example <support@example.com>'],
        ['Description', 'Holds the boot until a file exists'],
      ],
      controlMembers: [
        {
          name: 'postinst',
          content: `#!/bin/sh\ntouch '${started()}'\nwhile [ ! -e '${gate()}' ]; do sleep 0.05; done\n`,
          mode: 0o755,
        },
      ],
      data: [{ name: './etc/', type: 'directory' }],
      mtime: 1_700_000_000,
      sign: key,
    },
    file,
  );
  const config: WorldConfig = { files: { 'gate.wmopkg': file } };
  writeFileSync(env.EDGESH_E2E_CONFIG!, JSON.stringify(config));
  const r = runEdgesh({ device, env, args: ['-c', 'package install 192.0.2.1 gate.wmopkg'] });
  assert.equal(r.status, 0, r.stderr);
});

after(() => rmSync(temp, { recursive: true, force: true }));

async function until(what: string, check: () => boolean): Promise<void> {
  const end = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('Ctrl-C during reboot: "boot in progress, cannot be interrupted" on a line of its own, no ^C, the boot completes', async () => {
  const shell = new PtyShell(['--device', device, '--user', 'admin'], env);
  try {
    await shell.waitFor('example:/>');
    const m = shell.mark();
    shell.type('reboot\r');
    await shell.waitFor('Reboot the device (y/N)?', m);
    shell.type('y\r');
    await until('the boot to run the postinst', () => existsSync(started()));
    shell.type('\x03');
    await shell.waitFor('boot in progress, cannot be interrupted', m);
    // Typed during the boot: waits for the next prompt, not echoed into the report.
    shell.type('whoami\r');
    writeFileSync(gate(), '');
    const text = await shell.waitFor(/gate +1\.0[^\n]*activated[\s\S]*example:\/> [\s\S]*\nadmin\n/, m);
    const lines = text.split('\n');
    assert.ok(lines.includes('boot in progress, cannot be interrupted'), text);
    assert.doesNotMatch(text, /\^C/);
    assert.doesNotMatch(text, /interrupted \(Ctrl-C\)|cancelled/);
    // The typed-ahead command ran after the report, as the next line of the prompt.
    assert.ok(text.indexOf('whoami') > text.indexOf('activated'), text);
  } finally {
    shell.kill();
  }
});

test('Ctrl-C at the reboot question still cancels it', async () => {
  const shell = new PtyShell(['--device', device, '--user', 'admin'], env);
  try {
    await shell.waitFor('example:/>');
    const m = shell.mark();
    shell.type('reboot\r');
    await shell.waitFor('Reboot the device (y/N)?', m);
    shell.type('\x03');
    await shell.waitFor(/Error: interrupted \(Ctrl-C\) \[interrupted\]\n.*example:\/>/s, m);
  } finally {
    shell.kill();
  }
});
