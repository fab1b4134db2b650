// The device lock between sessions: two processes at once, a bounded wait naming the holder, a dead holder.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeviceError, openDevice } from '../../firmware-sim/index.js';
import { installFile, makeTestDevice, type TestDevice, tempFiles } from '../helpers/device-fixtures.js';
import { runChild, startChild } from '../helpers/device-process.js';
import { buildPackage, file } from '../helpers/package-fixtures.js';

describe('the device lock', () => {
  let t: TestDevice;
  let paths: string[];
  before(async () => {
    t = await makeTestDevice();
    paths = [];
    for (const name of ['one', 'two', 'three']) {
      paths.push(
        await buildPackage(t.root, {
          name,
          data: Array.from({ length: 50 }, (_, i) =>
            file(`./opt/${name}/f${i}`, `${name} ${i}\n`.repeat(500)),
          ),
          sign: t.vendorKey,
        }),
      );
    }
  });
  after(() => t.cleanup());

  test('two processes installing at once: both get through, one after the other', async () => {
    const [a, b] = await Promise.all([
      runChild(t.dir, t.vendorDir, 'install', ['one', paths[0]!]),
      runChild(t.dir, t.vendorDir, 'install', ['two', paths[1]!]),
    ]);
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    assert.deepEqual(await t.device.names(), ['one', 'two']);
    assert.deepEqual(await tempFiles(t.dir), []);
    const installs = (await t.device.eventLog()).filter((l) => / install (one|two) 1\.0\.0 /.test(l));
    assert.equal(installs.length, 2);
  });

  test('the second session waits a bounded time, then names the holder', async () => {
    const holder = startChild(t.dir, t.vendorDir, 'install-stall', ['three', paths[2]!], {
      CHILD_USER: 'alice',
      CHILD_SESSION: 'ssh-7',
    });
    try {
      await holder.waitFor('holding');
      const waiting = await openDevice(t.dir, {
        session: { user: 'bob', id: 'ssh-8' },
        vendorDir: t.vendorDir,
        lockWaitMs: 200,
      });
      const started = Date.now();
      await assert.rejects(installFile(waiting, paths[0]!), (error: unknown) => {
        assert.ok(error instanceof DeviceError);
        assert.equal(error.code, 'DEVICE_LOCKED');
        assert.match(
          error.message,
          new RegExp(
            `^device busy: a package operation by session ssh-7 of user alice \\(pid ${holder.pid}\\) since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d is in progress; try again when it is done$`,
          ),
        );
        return true;
      });
      const waited = Date.now() - started;
      assert.ok(waited >= 150 && waited < 5000, `waited ${waited} ms`);
      assert.ok((await tempFiles(t.dir)).length === 1, 'the holder is downloading');
      // The holder dies without releasing anything: the next session takes over and cleans up.
      holder.kill('SIGKILL');
      const end = await holder.done;
      assert.equal(end.signal, 'SIGKILL');
      await installFile(waiting, paths[0]!);
      assert.deepEqual(await tempFiles(t.dir), []);
      assert.deepEqual(await waiting.names(), ['one', 'two']);
      assert.ok(
        (await waiting.eventLog()).some((l) => l.includes('recovery: removed 1 unfinished downloads')),
      );
    } finally {
      holder.kill('SIGKILL');
      await holder.done;
    }
  });

  test('calls of one process queue instead of failing', async () => {
    const results = await Promise.all([
      installFile(t.device, paths[2]!),
      t.device.boot(),
      installFile(t.device, paths[1]!, { name: 'two-again' }),
      t.device.remove('one'),
    ]);
    assert.equal(results.length, 4);
    assert.deepEqual(await t.device.names(), ['three', 'two', 'two-again']);
  });
});

describe('a downgrade question does not hold the lock', () => {
  let t: TestDevice;
  const versions: Record<string, string> = {};
  before(async () => {
    t = await makeTestDevice({ lockWaitMs: 300 });
    for (const version of ['1.0', '2.0', '3.0']) {
      versions[version] = await buildPackage(
        t.root,
        { name: 'ver', version, data: [file('./opt/ver', version)], sign: t.vendorKey },
        `ver-${version}.wmopkg`,
      );
    }
  });
  after(() => t.cleanup());

  /** Starts a downgrade to 1.0 that waits for its answer; `answer` resolves the question. */
  function askDowngrade() {
    let answer!: (yes: boolean) => void;
    let asked!: (question: string) => void;
    const question = new Promise<string>((resolve) => {
      asked = resolve;
    });
    const install = installFile(t.device, versions['1.0']!, {
      name: 'ver',
      confirmDowngrade: (from, to) => {
        asked(`${from} -> ${to}`);
        return new Promise<boolean>((resolve) => {
          answer = resolve;
        });
      },
    });
    install.catch(() => {});
    return { question, install, answer: (yes: boolean) => answer(yes) };
  }

  test('another session works while the question waits; the answer installs', async () => {
    await installFile(t.device, versions['2.0']!, { name: 'ver' });
    const other = await openDevice(t.dir, {
      session: { user: 'bob', id: 'ssh-9' },
      vendorDir: t.vendorDir,
      lockWaitMs: 300,
    });
    const pending = askDowngrade();
    assert.equal(await pending.question, '2.0 -> 1.0');
    await other.setAllowUntrusted(false);
    // A failing operation of the other session runs recovery: the verified download must survive it.
    await assert.rejects(installFile(other, t.dir), (error: unknown) => error instanceof DeviceError);
    assert.equal((await tempFiles(t.dir)).length, 1, 'the verified download waits for the answer');
    pending.answer(true);
    const result = await pending.install;
    assert.equal(result.version, '1.0');
    assert.equal(result.previousVersion, '2.0');
    assert.equal((await t.device.details('ver')).version, '1.0');
    assert.deepEqual(await tempFiles(t.dir), []);
  });

  test('the package changed while waiting: nothing is installed', async () => {
    await installFile(t.device, versions['2.0']!, { name: 'ver' });
    const other = await openDevice(t.dir, {
      session: { user: 'bob', id: 'ssh-9' },
      vendorDir: t.vendorDir,
    });
    const pending = askDowngrade();
    await pending.question;
    await installFile(other, versions['3.0']!, { name: 'ver' });
    pending.answer(true);
    await assert.rejects(pending.install, (error: unknown) => {
      assert.ok(error instanceof DeviceError);
      assert.equal(error.code, 'DEVICE_CHANGED');
      assert.equal(error.message, 'ver changed while waiting for the answer; nothing was installed');
      return true;
    });
    assert.equal((await t.device.details('ver')).version, '3.0');
    assert.deepEqual(await tempFiles(t.dir), []);
  });

  test('a "no" changes nothing and is logged', async () => {
    const pending = askDowngrade();
    await pending.question;
    pending.answer(false);
    await assert.rejects(pending.install, (error: unknown) => {
      assert.ok(error instanceof DeviceError);
      assert.equal(error.code, 'DEVICE_DOWNGRADE_REFUSED');
      return true;
    });
    assert.equal((await t.device.details('ver')).version, '3.0');
    assert.match(
      (await t.device.eventLog()).at(-1)!,
      / install ver refused .*: downgrade of ver from 3\.0 to 1\.0 not confirmed/,
    );
    assert.deepEqual(await tempFiles(t.dir), []);
  });
});
