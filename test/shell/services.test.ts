import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadServices, peekHostname } from '../../shell/services.js';
import { DEVICE_SERVICES, WORLD } from '../helpers/run-edgesh.js';

const dir = mkdtempSync(join(tmpdir(), 'edgesh-services-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the first prompt can read the host name from device.json', async () => {
  const saved = process.env.EDGESH_SERVICES;
  delete process.env.EDGESH_SERVICES;
  try {
    assert.equal(await peekHostname(join(dir, 'none')), undefined);
    writeFileSync(join(dir, 'device.json'), JSON.stringify({ hostname: 'edge-7', serial: 'x' }));
    assert.equal(await peekHostname(dir), 'edge-7');
    writeFileSync(join(dir, 'device.json'), JSON.stringify({ hostname: 'bad\u001b[2Jname' }));
    assert.equal(await peekHostname(dir), undefined);
    writeFileSync(join(dir, 'device.json'), '{ not json');
    assert.equal(await peekHostname(dir), undefined);
  } finally {
    if (saved !== undefined) process.env.EDGESH_SERVICES = saved;
  }
});

test('EDGESH_SERVICES (test hook) replaces the real layers', async () => {
  const saved = { services: process.env.EDGESH_SERVICES, config: process.env.EDGESH_E2E_CONFIG };
  process.env.EDGESH_SERVICES = DEVICE_SERVICES;
  process.env.EDGESH_E2E_CONFIG = WORLD.configFile();
  try {
    writeFileSync(join(dir, 'device.json'), JSON.stringify({ hostname: 'real-one' }));
    assert.equal(await peekHostname(dir), undefined);
    const services = await loadServices({
      deviceDir: join(dir, 'hooked'),
      user: 'admin',
      sessionId: 'pid 1',
    });
    assert.equal((await services.device.info()).serial, 'WM0001', 'the hook provisioned the device');
    const media = await services.media();
    const [external] = await media.resolver.list([{ name: 'external', bus: 'any' }]);
    assert.equal(external?.device, '/dev/sdb1', "the hook's drive list, not the machine's");
    await services.close();
  } finally {
    for (const [key, value] of [
      ['EDGESH_SERVICES', saved.services],
      ['EDGESH_E2E_CONFIG', saved.config],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
});
