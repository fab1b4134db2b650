// A change of kind (own symlink → directory, own directory → symlink) as a transaction: a crash after any
// step is undone to exactly the rootfs before it.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  applySteps,
  planActivation,
  revertSteps,
  type TxnPaths,
} from '../../firmware-sim/boot/rootfs-txn.js';
import type { UnpackEntry } from '../../firmware-sim/boot/unpack.js';
import type { ActiveRecord } from '../../firmware-sim/store/records.js';
import { snapshot } from '../helpers/device-fixtures.js';

/** rootfs as version 1.0 of `app` left it: `lib` a symlink, `data` a directory of its own. */
async function version1(root: string): Promise<void> {
  await mkdir(join(root, 'opt/app/data/sub'), { recursive: true });
  await mkdir(join(root, 'opt/app/lib.real'), { recursive: true });
  await symlink('lib.real', join(root, 'opt/app/lib'));
  await writeFile(join(root, 'opt/app/lib.real/so.1'), 'one\n');
  await writeFile(join(root, 'opt/app/data/x'), 'x\n');
  await writeFile(join(root, 'opt/app/data/sub/y'), 'y\n');
}

/** The active record of 1.0, as far as planning needs it. */
const old = {
  name: 'app',
  files: ['opt/app/lib', 'opt/app/lib.real/so.1', 'opt/app/data/x', 'opt/app/data/sub/y'],
  dirs: ['opt', 'opt/app', 'opt/app/lib.real', 'opt/app/data', 'opt/app/data/sub'],
  diverted: [],
} as unknown as ActiveRecord;

/** Version 2.0 unpacked: `lib` is a directory now, `data` a symlink; `lib.real` is gone. */
const entries: UnpackEntry[] = [
  { path: 'opt', type: 'directory', mode: 0o755 },
  { path: 'opt/app', type: 'directory', mode: 0o755 },
  { path: 'opt/app/lib', type: 'directory', mode: 0o755 },
  { path: 'opt/app/lib/so.2', type: 'file', mode: 0o644 },
  { path: 'opt/app/data', type: 'symlink', mode: 0o777 },
];

async function stage2(stage: string): Promise<void> {
  await mkdir(join(stage, 'opt/app/lib'), { recursive: true });
  await writeFile(join(stage, 'opt/app/lib/so.2'), 'two\n');
  await symlink('/srv/data', join(stage, 'opt/app/data'));
}

describe('a change of kind as a transaction', () => {
  let root: string;
  let template: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'edgesh-txn-'));
    template = join(root, 'template');
    await version1(join(template, 'rootfs'));
    await stage2(join(template, 'txn/stage'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  const pathsIn = (dir: string): TxnPaths => ({
    rootfs: join(dir, 'rootfs'),
    txn: join(dir, 'txn'),
    stage: join(dir, 'txn/stage'),
    undo: join(dir, 'txn/undo'),
    backup: join(dir, 'backup/app'),
    planFile: join(dir, 'txn/plan.json'),
  });

  test('the plan takes the old content out before the new kind moves in, and records the new shape', async () => {
    const plan = planActivation(join(template, 'rootfs'), entries, old, new Map());
    assert.deepEqual(plan.steps, [
      ['drop', 'opt/app/lib'],
      ['tree', 'opt/app/lib'],
      ['drop', 'opt/app/data/sub/y'],
      ['drop', 'opt/app/data/x'],
      ['rmdir', 'opt/app/data/sub'],
      ['rmdir', 'opt/app/data'],
      ['new', 'opt/app/data'],
      ['drop', 'opt/app/lib.real/so.1'],
      ['rmdir', 'opt/app/lib.real'],
    ]);
    assert.deepEqual(plan.files, ['opt/app/lib/so.2', 'opt/app/data']);
    assert.deepEqual(plan.dirs, ['opt', 'opt/app', 'opt/app/lib']);
  });

  test('applied whole it gives the new tree; cut after any step and undone, exactly the old one', async () => {
    const original = await snapshot(join(template, 'rootfs'));
    const plan = planActivation(join(template, 'rootfs'), entries, old, new Map());
    for (let done = 0; done <= plan.steps.length; done++) {
      const copy = join(root, `cut-${done}`);
      await cp(template, copy, { recursive: true, verbatimSymlinks: true });
      applySteps(pathsIn(copy), plan.steps.slice(0, done));
      if (done === plan.steps.length) {
        assert.deepEqual(
          [...(await snapshot(join(copy, 'rootfs'))).entries()],
          [
            ['opt', 'dir 755'],
            ['opt/app', 'dir 755'],
            ['opt/app/data', 'symlink /srv/data'],
            ['opt/app/lib', 'dir 755'],
            ['opt/app/lib/so.2', 'file 644 27dd8ed44a83ff94d557f9fd0412ed5a8cbca69ea04922d88c01184a07300a5a'],
          ],
        );
      }
      revertSteps(pathsIn(copy), plan.steps);
      assert.deepEqual(await snapshot(join(copy, 'rootfs')), original, `undone after ${done} steps`);
      await rm(copy, { recursive: true, force: true });
    }
  });
});
