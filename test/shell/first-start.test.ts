// The first start on a terminal creates the device and says where; later starts say nothing of it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PtyShell } from '../helpers/pty.js';
import { runEdgesh } from '../helpers/run-edgesh.js';

const temp = mkdtempSync(join(tmpdir(), 'edgesh-first-'));
after(() => rmSync(temp, { recursive: true, force: true }));

async function start(device: string): Promise<string> {
  // The real device (no EDGESH_SERVICES hook), as `npm start` opens it.
  const shell = new PtyShell(['--device', device, '--user', 'admin'], { EDGESH_SERVICES: '' });
  try {
    const text = await shell.waitFor('example:/> ');
    shell.type('exit\r');
    assert.equal(await shell.exited(), 0);
    return text;
  } finally {
    shell.kill();
  }
}

test('the first start on a terminal says where it created the device, before the first prompt', async () => {
  const device = join(temp, 'device');
  const first = await start(device);
  assert.ok(existsSync(join(device, 'device.json')));
  assert.match(
    first,
    new RegExp(
      `^Created a new device in ${device.replace(/[/.]/g, '\\$&')}, with a simulated USB stick of sample packages\\.\\n` +
        'Try: package, then install media external hello\\.wmopkg, then do reboot\\.\\nexample:/> ',
    ),
  );
  assert.doesNotMatch(await start(device), /Created/);
});

test('script mode creates a device without a word on stdout or stderr', () => {
  const r = runEdgesh({ device: join(temp, 'quiet'), args: ['-c', 'whoami'], env: { EDGESH_SERVICES: '' } });
  assert.equal(r.stdout, 'admin\n');
  assert.equal(r.stderr, '');
});
