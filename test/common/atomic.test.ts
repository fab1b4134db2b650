// Crash-safe writes: a file prepared ahead is nowhere until placed, placed whole, and leaves no temporary file either way.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { prepareFile, writeFilesAtomic } from '../../common/atomic.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgesh-atomic-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('a prepared file is only a temporary file until placed; discarded, nothing is left', async () => {
  const sub = await mkdtemp(join(dir, 'discard-'));
  const file = prepareFile(join(sub, 'a'), Buffer.alloc(3 * 1024 * 1024, 1));
  await file.ready;
  const names = await readdir(sub);
  assert.equal(names.length, 1);
  assert.match(names[0]!, new RegExp(`^\\.tmp-a\\.new\\.${process.pid}\\.[0-9a-f]+$`));
  await file.discard();
  assert.deepEqual(await readdir(sub), []);
});

test('writeFilesAtomic places prepared files with the others, and refuses one meant for another place', async () => {
  const sub = await mkdtemp(join(dir, 'place-'));
  const big = Buffer.alloc(2 * 1024 * 1024, 7);
  const prepared = prepareFile(join(sub, 'big'), big);
  await writeFilesAtomic(
    sub,
    new Map<string, Uint8Array | string | typeof prepared>([
      ['big', prepared],
      ['small', 'text\n'],
    ]),
  );
  assert.deepEqual((await readdir(sub)).sort(), ['big', 'small']);
  assert.deepEqual(await readFile(join(sub, 'big')), big);
  // Discarding a placed file leaves it.
  await prepared.discard();
  assert.deepEqual((await readdir(sub)).sort(), ['big', 'small']);
  const elsewhere = prepareFile(join(dir, 'elsewhere'), 'x');
  await assert.rejects(writeFilesAtomic(sub, new Map([['elsewhere', elsewhere]])), /is not elsewhere/);
  await elsewhere.discard();
  assert.ok(!(await readdir(dir)).some((n) => n.startsWith('.tmp-')));
});

test('a prepared file that cannot be written fails when placed and leaves nothing', async () => {
  const file = prepareFile(join(dir, 'missing-dir', 'a'), 'x');
  await assert.rejects(file.place(), { code: 'ENOENT' });
  await file.discard();
});
