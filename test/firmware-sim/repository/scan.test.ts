// The update's pass over a fetched index and its gzip reader: the same answers however the index is cut.
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { FeedError, parsePackagesIndex } from '../../../firmware-sim/feeds/index.js';
import { CatalogFile, formatCatalog } from '../../../firmware-sim/repository/catalog-file.js';
import { inflateIndex } from '../../../firmware-sim/repository/fetch.js';
import { scanIndex } from '../../../firmware-sim/repository/scan.js';

const MAX = 64 * 1024 * 1024;

/** An index of `count` stanzas of about 300 bytes, `extra` put into stanza `at`; blank runs vary. */
function index(count: number, extra: { at: number; text: string } | undefined = undefined): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `pkg-${String(i).padStart(5, '0')}`;
    parts.push(
      [
        `Package: ${name}`,
        `Version: 1.${i}-r${i % 7}`,
        ...(i % 3 === 0 ? [`Provides: virtual-${i % 11} (= 1.0)`] : []),
        `Depends: pkg-${String(Math.floor(i / 2)).padStart(5, '0')}`,
        `Filename: pool/${name}.wmopkg`,
        'Architecture: all',
        'Size: 1234',
        `SHA256sum: ${'ab'.repeat(32)}`,
        `Description: package number ${i} — ünïcode in the text`,
        ' a continuation line of the description, long enough to fill the stanza up a bit',
        ...(extra?.at === i ? [extra.text] : []),
      ].join('\n'),
    );
    // One empty line mostly; sometimes a line of blanks or two empty lines (both separate stanzas).
    parts.push(i % 50 === 7 ? '\n \t\n' : i % 50 === 9 ? '\n\n\n' : '\n\n');
  }
  return parts.join('');
}

test('the scan finds each stanza where the parser does, across many slices', async () => {
  const text = index(3000); // about 900 KiB: many 64 KiB slices
  const bytes = Buffer.from(text);
  const summary = scanIndex(bytes);
  const parsed = await parsePackagesIndex(bytes);
  assert.equal(summary.packages, 3000);
  assert.equal(parsed.packages.length, 3000);
  const rows = new CatalogFile(summary.catalog).rows();
  assert.equal(rows.length, 3000);
  for (const [i, [name, start, end]] of rows.entries()) {
    const p = parsed.packages[i]!;
    assert.equal(name, p.name);
    // The range is the stanza: it starts at its first field and ends at its last line.
    const stanza = bytes.subarray(start, end).toString('utf8');
    assert.match(stanza, new RegExp(`^Package: ${name}\nVersion: ${p.version.replaceAll('.', '\\.')}\n`));
    assert.equal(stanza.includes(`Provides: virtual-${i % 11} (= 1.0)`), i % 3 === 0);
    assert.ok(stanza.endsWith('stanza up a bit'), `stanza ${i} ends "${stanza.slice(-20)}"`);
  }
});

test('a bad line deep in the index is refused with its own line number', () => {
  const text = index(3000, { at: 2500, text: 'this is not a field' });
  const line = text.slice(0, text.indexOf('this is not a field')).split('\n').length;
  assert.throws(
    () => scanIndex(Buffer.from(text)),
    (e: unknown) =>
      e instanceof FeedError &&
      e.code === 'FEED_BAD_INDEX' &&
      e.message === `Packages line ${line}: expected "Field: value", got "this is not a field"`,
  );
});

test('a continuation line right after an empty line is refused wherever a slice begins', () => {
  // Every stanza boundary may begin a slice: try the orphan after many of them.
  for (const at of [1, 200, 211, 1999]) {
    const text = index(2000).replace(
      `Package: pkg-${String(at).padStart(5, '0')}\n`,
      ` orphan\nPackage: pkg-${String(at).padStart(5, '0')}\n`,
    );
    const line = text.slice(0, text.indexOf(' orphan')).split('\n').length;
    assert.throws(
      () => scanIndex(Buffer.from(text)),
      (e: unknown) =>
        e instanceof FeedError && e.message === `Packages line ${line}: continuation line before any field`,
      `orphan before stanza ${at}`,
    );
  }
});

test('inflateIndex: one member, several members, a trailer that lies, a bomb, corrupt data', async () => {
  const text = Buffer.from(index(2000));
  assert.deepEqual(await inflateIndex(gzipSync(text), MAX), text);
  // Two members: the trailer gives the last member's size only.
  const half = text.length >> 1;
  const two = Buffer.concat([gzipSync(text.subarray(0, half)), gzipSync(text.subarray(half))]);
  assert.deepEqual(await inflateIndex(two, MAX), text);
  const small = Buffer.concat([gzipSync(text), gzipSync(Buffer.from('Package: z\nVersion: 1\n'))]);
  assert.equal((await inflateIndex(small, MAX)).length, text.length + 22);
  // A trailer claiming more than the data: zlib's length check refuses it.
  const lying = Buffer.from(gzipSync(text));
  lying.writeUInt32LE(text.length + 1000, lying.length - 4);
  await assert.rejects(inflateIndex(lying, MAX), (e: unknown) => (e as FeedError).code === 'FEED_BAD_INDEX');
  // More than the cap, whatever the trailer says.
  const bomb = gzipSync(Buffer.alloc(3 * 1024 * 1024));
  await assert.rejects(
    inflateIndex(bomb, 1024 * 1024),
    (e: unknown) => (e as FeedError).code === 'FEED_TOO_LARGE',
  );
  bomb.writeUInt32LE(100, bomb.length - 4);
  await assert.rejects(inflateIndex(bomb, 1024 * 1024), (e: unknown) => e instanceof FeedError);
  await assert.rejects(
    inflateIndex(Buffer.from('not gzip at all, not at all'), MAX),
    (e: unknown) => (e as FeedError).code === 'FEED_BAD_INDEX',
  );
});

/** The catalog formatCatalog makes of the stanzas the scan found (index order, Provides read again): what the scan must write. */
function reference(bytes: Buffer, catalog: Buffer): Buffer {
  const entries = new CatalogFile(catalog)
    .rows()
    .sort((a, b) => a[1] - b[1])
    .map(([name, start, end]) => {
      const provides = /^provides:(.*)$/im.exec(bytes.toString('utf8', start, end))?.[1]?.trim() ?? '';
      return { name, start, end, provides };
    });
  return formatCatalog(entries).catalog;
}

test('the catalog written from bytes is the one formatCatalog makes, whatever the names and values', () => {
  // Plain names in order take the byte path; names out of order, quoted, spaced or non-ASCII at an
  // edge take the string path; values with quotes, backslashes, tabs and non-ASCII edges either way.
  const value = fc.string({
    unit: fc.constantFrom('a', '1', '"', '\\', '\t', ' ', 'é', '\u00a0', '(', ','),
    maxLength: 6,
  });
  const name = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'b', '-', '.', '+', '0'), minLength: 1, maxLength: 4 }),
    value,
  );
  fc.assert(
    fc.property(
      fc.array(fc.record({ name, version: value, provides: fc.option(value), sorted: fc.boolean() }), {
        maxLength: 12,
      }),
      fc.boolean(),
      (stanzas, sort) => {
        const list = sort
          ? [...stanzas].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
          : stanzas;
        const text = list
          .map(
            (s) =>
              `Package: ${s.name}\nVersion: ${s.version}\n${s.provides === null ? '' : `Provides: ${s.provides}\n`}`,
          )
          .join('\n');
        const bytes = Buffer.from(text);
        const summary = scanIndex(bytes);
        assert.deepEqual(summary.catalog, reference(bytes, summary.catalog));
        const names = [...new Set(list.map((s) => s.name.trim()).filter((n) => n !== ''))].sort();
        assert.equal(summary.names.toString(), names.map((n) => `${n}\n`).join(''));
        assert.equal(
          summary.packages,
          names.length === 0 ? 0 : list.filter((s) => s.name.trim() !== '').length,
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('UTF-8 is checked as Node checks it, and before any other rule', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 8 }), (raw) => {
      // Bytes that are not control characters, in a description.
      const tail = Buffer.from(raw.map((b) => (b < 0x20 || b === 0x7f ? 0x41 : b)));
      const bytes = Buffer.concat([
        Buffer.from('Package: a\nVersion: 1\nDescription: '),
        tail,
        Buffer.from('\n'),
      ]);
      if (isUtf8(bytes)) assert.equal(scanIndex(bytes).packages, 1);
      else assert.throws(() => scanIndex(bytes), /^FeedError: Packages: not valid UTF-8$|not valid UTF-8/);
    }),
    { numRuns: 500 },
  );
  // A bad line before invalid UTF-8 or a control character: the index is refused for those first.
  const bad = Buffer.concat([
    Buffer.from('Package: a\nnot a field\nDescription: '),
    Buffer.from([0xc3, 0x28, 0x0a]),
  ]);
  assert.throws(
    () => scanIndex(bad),
    (e: unknown) => (e as FeedError).message === 'Packages: not valid UTF-8',
  );
  assert.throws(
    () => scanIndex(Buffer.from('Package: a\nnot a field\nDescription: \u001b\n')),
    (e: unknown) => (e as FeedError).message === 'Packages line 3: control character',
  );
});
