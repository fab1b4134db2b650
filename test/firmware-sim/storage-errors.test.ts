// A full, read-only or failing storage: every file-system failure of the device is one line with a
// code (DEVICE_NO_SPACE, DEVICE_READ_ONLY, DEVICE_IO naming the path relative to the device), and
// no temporary file stays behind. Faults are injected where a real disk fails (EDGESH_DEVICE_FAULT).
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDevice } from '../../firmware-sim/index.js';
import { faultPoint } from '../../firmware-sim/state/fault.js';
import {
  installFile,
  makeTestDevice,
  rejectsWith,
  type TestDevice,
  tempFiles,
} from '../helpers/device-fixtures.js';

/** Runs `task` with a fault plan in force (counted afresh each time). */
async function withFault<T>(plan: string, task: () => Promise<T>): Promise<T> {
  process.env.EDGESH_DEVICE_FAULT = plan;
  try {
    return await task();
  } finally {
    delete process.env.EDGESH_DEVICE_FAULT;
    // Passing a point with the variable unset forgets the plan, so the same one counts from 1 again.
    faultPoint('test:reset');
  }
}

describe('storage failures', () => {
  let t: TestDevice;
  before(async () => {
    t = await makeTestDevice();
    await installFile(t.device, join(t.dir, 'media/usb0/hello.wmopkg'));
  });
  after(() => t.cleanup());

  test('a full disk while taking the lock: DEVICE_NO_SPACE, no temporary lock file left', async () => {
    await withFault('enospc:lock:', () =>
      rejectsWith(
        t.device.setAllowUntrusted(false),
        'DEVICE_NO_SPACE',
        /^changing the boot configuration: no space left on the device storage$/,
      ),
    );
    await withFault('enospc:lock:', () =>
      rejectsWith(t.device.remove('hello'), 'DEVICE_NO_SPACE', /^removing hello: no space left/),
    );
    assert.deepEqual(await tempFiles(t.dir), []);
    assert.deepEqual(await t.device.names(), ['hello']);
  });

  test('a read-only storage: DEVICE_READ_ONLY naming the path inside the device; reads still work', async () => {
    const message = await withFault('erofs:lock:', () =>
      rejectsWith(
        t.device.boot(),
        'DEVICE_READ_ONLY',
        /^booting: the device storage is read-only \(var\/lock\/device\.lock\)$/,
      ),
    );
    assert.ok(!message.includes(t.dir), message);
    await withFault('erofs:lock:', async () => {
      assert.deepEqual(await t.device.names(), ['hello']);
      assert.equal((await t.device.list()).length, 1);
    });
    assert.deepEqual(await tempFiles(t.dir), []);
  });

  test('any other failure: DEVICE_IO with the relative path and what went wrong', async () => {
    await withFault('eio:lock:', () =>
      rejectsWith(
        t.device.removeAll(),
        'DEVICE_IO',
        /^removing all packages: var\/lock\/device\.lock: i\/o error$/,
      ),
    );
    // A real one: the lock directory replaced by a file.
    await rm(join(t.dir, 'var/lock'), { recursive: true });
    await writeFile(join(t.dir, 'var/lock'), '');
    await rejectsWith(
      t.device.setAllowUntrusted(false),
      'DEVICE_IO',
      /^changing the boot configuration: var\/lock: /,
    );
    await rm(join(t.dir, 'var/lock'));
    await t.device.setAllowUntrusted(false);
    assert.deepEqual(await tempFiles(t.dir), []);
  });

  test('a failing disk while receiving or committing: one line, the store unchanged, nothing left', async () => {
    const motd = join(t.dir, 'media/usb0/motd.wmopkg');
    for (const [plan, code, pattern] of [
      ['eio:install:receive', 'DEVICE_IO', /^installing motd: i\/o error$/],
      ['erofs:install:moved', 'DEVICE_READ_ONLY', /^installing motd: the device storage is read-only$/],
      ['enospc:install:built', 'DEVICE_NO_SPACE', /^installing motd: no space left on the device storage$/],
    ] as const) {
      await withFault(plan, () => rejectsWith(installFile(t.device, motd), code, pattern));
      assert.deepEqual(await t.device.names(), ['hello'], plan);
      assert.deepEqual(await tempFiles(t.dir), [], plan);
    }
  });

  test('a device that cannot be created: one line, not an internal error', async () => {
    const blocker = join(t.root, 'blocker');
    await writeFile(blocker, '');
    await rejectsWith(
      openDevice(join(blocker, 'dev'), { session: { user: 'x', id: 'y' }, vendorDir: t.vendorDir }),
      'DEVICE_IO',
      /^creating the device .*blocker\/dev: (.*blocker: )?(not a directory|file already exists)$/,
    );
    await mkdir(join(t.root, 'ro'));
    await withFault('erofs:lock:', () =>
      rejectsWith(
        openDevice(join(t.root, 'ro'), { session: { user: 'x', id: 'y' }, vendorDir: t.vendorDir }),
        'DEVICE_READ_ONLY',
        /^creating the device .*ro: the device storage is read-only/,
      ),
    );
  });
});
