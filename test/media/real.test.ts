// The real drive list of the machine running the tests: only what must hold anywhere.
import assert from 'node:assert/strict';
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { test } from 'node:test';
import { createMediaResolver, DEFAULT_MEDIA_LABELS, listDrives } from '../../media/index.js';

/** The whole-disk name under `/` from sysfs (`vda`, `sda`, `mmcblk0`), or undefined for overlay, tmpfs, … */
async function rootDisk(): Promise<string | undefined> {
  const dev = (await stat('/', { bigint: true })).dev;
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  try {
    const node = await realpath(`/sys/dev/block/${major}:${minor}`);
    // A partition's sysfs directory sits inside its disk's: …/block/sda/sda2.
    const partition = await stat(`${node}/partition`).then(
      () => true,
      () => false,
    );
    return basename(partition ? dirname(node) : node);
  } catch {
    return undefined;
  }
}

test('the real drive list: no crash, nothing virtual or holding / is external, drivelist agrees', async () => {
  const drives = await listDrives();
  for (const drive of drives) {
    if (/^\/dev\/(zram|loop|ram)/.test(drive.device)) assert.notEqual(drive.role, 'external', drive.device);
    for (const p of drive.partitions) {
      if (p.mountpoint === '/') assert.equal(drive.role, 'system', `${drive.device} holds /`);
    }
  }
  const root = await rootDisk();
  if (root !== undefined) {
    const disk = drives.find((d) => basename(d.device) === root);
    if (disk !== undefined) assert.equal(disk.role, 'system', `${disk.device} holds / (from sysfs)`);
  }
  // drivelist's own list() runs lsblk too: the same drives, and none it calls virtual is external here.
  const drivelist = await import('drivelist');
  const theirs = await drivelist.list();
  assert.deepEqual(drives.map((d) => d.device).sort(), theirs.map((d) => d.device).sort());
  for (const d of theirs.filter((d) => d.isVirtual)) {
    assert.notEqual(drives.find((m) => m.device === d.device)?.role, 'external', d.device);
  }
});

test('the default resolver on this machine lists the default label without throwing', async () => {
  const [status] = await createMediaResolver().list(DEFAULT_MEDIA_LABELS);
  assert.equal(status?.matches, 'any external device, first partition');
  assert.equal(typeof status?.available, 'boolean');
  if (status?.available === false) assert.match(status.reason ?? '', /^no |is not mounted$|^no partition/);
});
