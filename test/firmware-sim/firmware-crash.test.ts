// Crash safety of a firmware switch: a real child SIGKILLed at every fault point of the switch (and at
// points of the package pass after it); the next start finds the old slot or the new one, bootable.
import assert from 'node:assert/strict';
import { cp, lstat, readFile, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { layoutOf, openDevice } from '../../firmware-sim/index.js';
import { loadRecords } from '../../firmware-sim/store/packages.js';
import {
  installFile,
  makeTestDevice,
  snapshot,
  type TestDevice,
  tempFiles,
} from '../helpers/device-fixtures.js';
import { runChild } from '../helpers/device-process.js';
import { buildFirmware, buildHotfix, firmwareFiles } from '../helpers/firmware-fixtures.js';
import { dir, file } from '../helpers/package-fixtures.js';

/** What a state directory holds after recovery, before any boot: which firmware runs, and where. */
interface Running {
  readonly version: string;
  readonly slot: string;
  readonly link: string;
  readonly release: string;
}

async function running(deviceDir: string): Promise<Running> {
  const json = JSON.parse(await readFile(join(deviceDir, 'device.json'), 'utf8'));
  const release = await readFile(join(deviceDir, 'rootfs/etc/os-release'), 'utf8');
  return {
    version: json.firmwareVersion,
    slot: json.firmwareSlot,
    link: await readlink(join(deviceDir, 'firmware/current')),
    release: /VERSION="([^"]*)"/.exec(release)?.[1] ?? '?',
  };
}

async function storeNames(deviceDir: string): Promise<string> {
  const { records, problems } = await loadRecords(layoutOf(deviceDir));
  assert.deepEqual(problems, []);
  return [...records.keys()].sort().join(' ');
}

let copies = 0;

/** Runs `task` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item);
    }),
  );
}

describe('crash safety of a firmware switch: SIGKILL at every fault point', () => {
  let t: TestDevice;
  let template: string;
  let oldSlotA: Map<string, string>;
  const newFirmware = new Map<string, string>();
  let finished: { versions: string; rootfs: Map<string, string>; running: Running };
  let points: string[];
  let killed = 0;

  before(async () => {
    t = await makeTestDevice();
    const usb = (name: string) => join(t.dir, 'media/usb0', name);
    await installFile(t.device, usb('hello.wmopkg'));
    await installFile(t.device, usb('motd.wmopkg'));
    await installFile(t.device, usb('mgmt-agent.wmopkg'), { persistent: true });
    await installFile(t.device, await buildHotfix(t.root, 'fix-1', '5.26.0', t.vendorKey));
    await t.device.boot();
    // Enough files that unpacking passes its fault point several times.
    const data = [
      ...firmwareFiles('5.27.0'),
      dir('./usr/share/'),
      dir('./usr/share/fw/'),
      ...Array.from({ length: 130 }, (_, i) => file(`./usr/share/fw/f${i}`, `5.27.0 file ${i}\n`)),
    ];
    const firmware = await buildFirmware(t.root, '5.27.0', {
      sign: t.vendorKey,
      data,
      postinst: '#!/bin/sh\necho "configured $PKG_VERSION"\n',
    });
    await installFile(t.device, firmware);
    template = join(t.root, 'template');
    await cp(t.dir, template, { recursive: true, verbatimSymlinks: true });
    oldSlotA = await snapshot(join(template, 'firmware/a/rootfs'));
    for (const entry of data)
      if (entry.type === 'file') newFirmware.set(entry.name.slice(2), String(entry.content));
    // One uninterrupted boot, with a trace of the points it passes.
    const traced = await copyOf();
    const trace = join(t.root, 'trace');
    const run = await runChild(traced, t.vendorDir, 'boot', [], { EDGESH_DEVICE_FAULT: `trace:${trace}` });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    points = (await readFile(trace, 'utf8')).split('\n').filter(Boolean);
    finished = await recoverAndBoot(traced);
    assert.deepEqual(finished.running, { version: '5.27.0', slot: 'B', link: 'b', release: '5.27.0' });
  });
  after(() => t.cleanup());

  async function copyOf(): Promise<string> {
    const target = join(t.root, `run-${++copies}`);
    await cp(template, target, { recursive: true, verbatimSymlinks: true });
    return target;
  }

  /** Opens (recovering), checks the slot that runs is whole, then boots; returns the state after the boot. */
  async function recoverAndBoot(deviceDir: string, where = 'the uninterrupted run') {
    const device = await openDevice(deviceDir, {
      session: { user: 'test', id: 'recover' },
      vendorDir: t.vendorDir,
    });
    assert.deepEqual(await tempFiles(deviceDir), [], `${where}: no temporary files after recovery`);
    await assert.rejects(lstat(join(deviceDir, 'firmware/switch.json')), `${where}: no switch journal left`);
    await assert.rejects(lstat(join(deviceDir, 'var/lib/wmopkg/txn')), `${where}: no transaction left`);
    const now = await running(deviceDir);
    if (now.version === '5.26.0') {
      // The old slot: as it was, every file of it.
      assert.deepEqual(now, { version: '5.26.0', slot: 'A', link: 'a', release: '5.26.0' }, where);
      assert.deepEqual(
        await snapshot(join(deviceDir, 'firmware/a/rootfs')),
        oldSlotA,
        `${where}: slot A untouched`,
      );
      assert.match(await storeNames(deviceDir), /firmware-5\.27\.0/, `${where}: the firmware package waits`);
    } else {
      // The new slot: every file of the new firmware is there.
      assert.deepEqual(now, { version: '5.27.0', slot: 'B', link: 'b', release: '5.27.0' }, where);
      for (const [path, content] of newFirmware) {
        if (path === 'etc/motd') continue; // motd (the package) may already have replaced it
        assert.equal(await readFile(join(deviceDir, 'rootfs', path), 'utf8'), content, `${where}: ${path}`);
      }
      assert.doesNotMatch(
        await storeNames(deviceDir),
        /firmware-5\.27\.0/,
        `${where}: the package is consumed`,
      );
    }
    const slot = JSON.parse(await readFile(join(deviceDir, `firmware/${now.link}/slot.json`), 'utf8'));
    assert.equal(slot.state, 'good', `${where}: the running slot is good`);
    await device.boot();
    return {
      versions: await storeNames(deviceDir),
      rootfs: await snapshot(join(deviceDir, 'rootfs')),
      running: await running(deviceDir),
    };
  }

  async function killAt(k: number): Promise<void> {
    const copy = await copyOf();
    const crash = await runChild(copy, t.vendorDir, 'boot', [], { EDGESH_DEVICE_FAULT: `kill:${k}` });
    const where = `a kill at point ${k} of ${points.length} (${points[k - 1]})`;
    assert.equal(crash.signal, 'SIGKILL', `${where}: ${crash.stdout}${crash.stderr}`);
    killed++;
    const state = await recoverAndBoot(copy, where);
    // Old or new after recovery; either way the next boot ends where an uninterrupted one did.
    assert.deepEqual(state.running, finished.running, where);
    assert.equal(state.versions, finished.versions, where);
    assert.deepEqual(state.rootfs, finished.rootfs, `${where}: the boot after recovery left another rootfs`);
    await rm(copy, { recursive: true, force: true });
  }

  test('every point from the journal to the end of the switch', async () => {
    const first = points.findIndex((p) => p.startsWith('firmware:'));
    const last = points.length - 1 - [...points].reverse().findIndex((p) => p.startsWith('firmware:'));
    assert.ok(first >= 0 && last > first, points.join(' '));
    const range = Array.from({ length: last - first + 1 }, (_, i) => first + i + 1);
    const names = range.map((k) => points[k - 1]!);
    for (const needed of [
      'firmware:journal',
      'firmware:wiped',
      'unpack:entry',
      'firmware:postinst',
      'firmware:written',
      'firmware:committed',
      'firmware:pointed',
      'firmware:consumed',
    ]) {
      assert.ok(names.includes(needed), `${needed} is among the points of the switch: ${names.join(' ')}`);
    }
    await pool(range, 2, killAt);
  });

  test('points of the package pass after the switch', async () => {
    const after = points.length - [...points].reverse().findIndex((p) => p.startsWith('firmware:'));
    const rest = Array.from({ length: points.length - after }, (_, i) => after + i + 1);
    const picked = rest.filter((_, i) => i % Math.max(1, Math.floor(rest.length / 4)) === 0);
    await pool(picked, 2, killAt);
  });

  test('at least 18 kills in all', () => {
    assert.ok(killed >= 18, `${killed} kills`);
  });
});
