// readPackageFile (and its blocking form for worker threads) in turn on different files: the read buffers passed on from one file to the next never mix their bytes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readPackage, readPackageFile } from '../../../firmware-sim/format/index.js';
import { readPackageFileBlocking } from '../../../firmware-sim/format/reader.js';
import { buildPackage, file } from '../../helpers/package-fixtures.js';

let dir: string;
let large: string;
let small: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgesh-read-file-'));
  // Several read chunks (1 MiB each), so that the last one leaves the buffers partly filled.
  large = await buildPackage(dir, {
    name: 'large',
    data: [file('./opt/l', randomBytes(3 * 1024 * 1024 + 517))],
  });
  small = await buildPackage(dir, { name: 'small', data: [file('./opt/s', randomBytes(700))] });
});
after(() => rm(dir, { recursive: true, force: true }));

/** The reading of the file's bytes handed over at once, in memory. */
async function inMemory(path: string) {
  const bytes = await readFile(path);
  return readPackage(
    (async function* () {
      yield bytes;
    })(),
  );
}

for (const [how, read] of [
  ['overlapped reads', readPackageFile],
  ['blocking reads', readPackageFileBlocking],
] as const) {
  test(`${how}: large, small, a failed read, large again: each reading is its own file`, async () => {
    const expectLarge = await inMemory(large);
    const expectSmall = await inMemory(small);
    assert.deepStrictEqual(await read(large), expectLarge);
    assert.deepStrictEqual(await read(small), expectSmall);
    const cut = join(dir, 'cut.wmopkg');
    await buildPackage(
      dir,
      { name: 'cut', data: [file('./opt/c', randomBytes(2 * 1024 * 1024))] },
      'cut.wmopkg',
    );
    await truncate(cut, 1024 * 1024 + 100);
    await assert.rejects(read(cut), /truncated/);
    assert.deepStrictEqual(await read(large), expectLarge);
    assert.deepStrictEqual(await read(small), expectSmall);
  });
}

test('a blocking read and overlapped ones at once each get their own buffers', async () => {
  const [a, b, c] = await Promise.all([
    readPackageFileBlocking(large),
    readPackageFile(small),
    readPackageFile(large),
  ]);
  assert.deepStrictEqual(a, await inMemory(large));
  assert.deepStrictEqual(b, await inMemory(small));
  assert.deepStrictEqual(c, await inMemory(large));
});

test('two files read at once each get their own buffers', async () => {
  const [a, b] = await Promise.all([readPackageFile(large), readPackageFile(small)]);
  assert.deepStrictEqual(a, await inMemory(large));
  assert.deepStrictEqual(b, await inMemory(small));
});
