import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { LineReader, MAX_LINE } from '../../shell/line-reader.js';

async function all(reader: LineReader): Promise<string[]> {
  const lines: string[] = [];
  for (let l = await reader.next(); l !== undefined; l = await reader.next()) lines.push(l);
  return lines;
}

test('lines split across chunks, CRLF, a last line without a line end', async () => {
  const input = new PassThrough();
  const reader = new LineReader(input);
  const done = all(reader);
  for (const chunk of ['pack', 'age\r\nshow\n', '\n', 'y', 'es']) input.write(chunk);
  input.end();
  assert.deepEqual(await done, ['package', 'show', '', 'yes']);
});

test('no line is lost when all of them arrive before anyone asks', async () => {
  const input = new PassThrough();
  const reader = new LineReader(input);
  input.end('a\nb\nc\n');
  assert.equal(await reader.next(), 'a');
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(await all(reader), ['b', 'c']);
});

test('end of input answers undefined, again and again', async () => {
  const input = new PassThrough();
  const reader = new LineReader(input);
  input.end();
  assert.equal(await reader.next(), undefined);
  assert.equal(await reader.nextSecret(), undefined);
});

test('a secret from a pipe is simply the next line', async () => {
  const input = new PassThrough();
  const reader = new LineReader(input);
  input.end('install x\nhunter2\nshow\n');
  assert.equal(await reader.next(), 'install x');
  assert.equal(await reader.nextSecret(), 'hunter2');
  assert.equal(await reader.next(), 'show');
});

test('on a TTY a secret is read in raw mode, without echo, and raw mode is left after', async () => {
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    modes: [] as boolean[],
    setRawMode(on: boolean) {
      this.modes.push(on);
    },
  });
  const reader = new LineReader(input);
  const secret = reader.nextSecret();
  input.write('s3c');
  input.write('x\x7fret\rshow\n');
  assert.equal(await secret, 's3cret');
  assert.equal(await reader.next(), 'show');
  assert.deepEqual(input.modes, [true, false]);
});

test('a line longer than MAX_LINE is refused as it streams past; the next line is read; memory stays flat', async () => {
  const input = new PassThrough();
  const reader = new LineReader(input);
  const first = reader.next();
  const chunk = 'x'.repeat(64 * 1024);
  let most = 0;
  // 10 MiB in 64 KiB chunks, as a pipe delivers them, then a short line.
  for (let i = 0; i < 160; i++) {
    input.write(chunk);
    await new Promise((r) => setImmediate(r));
    most = Math.max(most, reader.buffered);
  }
  input.end('\nwhoami\n');
  await assert.rejects(first, (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CLI_LINE_TOO_LONG');
    assert.equal(e.message, `line longer than ${MAX_LINE} characters; skipped`);
    return true;
  });
  assert.ok(most <= MAX_LINE + 1, `held ${most} characters of a line`);
  assert.equal(await reader.next(), 'whoami');
  assert.equal(await reader.next(), undefined);
});

test('a line of exactly MAX_LINE characters is read; one more is refused, also as the last line', async () => {
  const input = new PassThrough();
  const reader = new LineReader(input);
  input.end(`${'a'.repeat(MAX_LINE)}\r\n${'b'.repeat(MAX_LINE + 1)}`);
  assert.equal((await reader.next())?.length, MAX_LINE);
  await assert.rejects(reader.next(), /line longer than/);
  assert.equal(await reader.next(), undefined);
});
