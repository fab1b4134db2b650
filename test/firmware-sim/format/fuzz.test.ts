// Property-based tests: random and mutated packages only ever give a reading or a typed FormatError.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { FormatError, type PackageReading, verifyPackage } from '../../../firmware-sim/format/index.js';
import { packageBytes, readBytes, vendorTrust } from '../../helpers/format-fixtures.js';

let signed: Buffer;
let openwrt: Buffer;
let original: PackageReading;

before(async () => {
  signed = await packageBytes();
  openwrt = await packageBytes({ layout: 'ipk-tar-gz', sign: undefined as never });
  original = await readBytes(signed);
});

/** Reads and verifies; a FormatError is a fine outcome, anything else fails the property. */
async function outcome(bytes: Buffer, chunkSize: number): Promise<string> {
  let reading: PackageReading;
  try {
    reading = await withTimeout(readBytes(bytes, {}, chunkSize), 5000);
  } catch (error) {
    if (error instanceof FormatError) {
      assert.doesNotMatch(error.message, /\n/);
      return error.code;
    }
    throw error;
  }
  const verdict = verifyPackage(reading, vendorTrust);
  if (verdict.status === 'Signed') {
    // Only bytes the signature does not cover (ar header dates and owners, the untrusted comment
    // line of the signature) may differ.
    const covered = (r: PackageReading) =>
      r.members.filter((m) => m.name !== '_manifest.sig').map((m) => m.sha256);
    assert.deepEqual(covered(reading), covered(original));
  }
  return verdict.status;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`read did not finish within ${ms} ms (hang)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One edit of a byte string. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 600 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(bytes: Buffer, edits: readonly Mutation[]): Buffer {
  let out = Buffer.from(bytes);
  for (const edit of edits) {
    const at = out.length === 0 ? 0 : edit.at % out.length;
    switch (edit.kind) {
      case 'flip':
        if (out.length > 0) out[at]! ^= 1 << edit.bit;
        break;
      case 'set':
        if (out.length > 0) out[at] = edit.byte;
        break;
      case 'cut':
        out = out.subarray(0, at);
        break;
      case 'insert':
        out = Buffer.concat([out.subarray(0, at), edit.bytes, out.subarray(at)]);
        break;
      case 'delete':
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + edit.length)]);
        break;
      case 'duplicate':
        out = Buffer.concat([out.subarray(0, at + edit.length), out.subarray(at)]);
        break;
    }
  }
  return out;
}

describe('fuzz', () => {
  test('random bytes give a FormatError, never a crash or a hang', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4096 }),
        fc.integer({ min: 1, max: 512 }),
        async (bytes, chunk) => {
          const result = await outcome(Buffer.from(bytes), chunk);
          assert.match(result, /^WMOPKG_/);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('random bytes behind a valid magic give a FormatError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        const result = await outcome(Buffer.concat([Buffer.from('!<arch>\n'), bytes]), 997);
        assert.match(result, /^WMOPKG_/);
      }),
      { numRuns: 300 },
    );
  });

  test('mutated signed packages: a typed error or a verdict, and Signed only if the content is intact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 2048 }),
        async (edits, chunk) => {
          await outcome(mutate(signed, edits), chunk);
        },
      ),
      { numRuns: 400 },
    );
  });

  test('mutated OpenWrt ipks: a typed error or a verdict, never Signed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (edits) => {
        const result = await outcome(mutate(openwrt, edits), 512);
        assert.notEqual(result, 'Signed');
      }),
      { numRuns: 200 },
    );
  });

  test('the reading does not depend on how the stream is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: signed.length }), async (chunk) => {
        const reading = await readBytes(signed, {}, chunk);
        assert.deepEqual(reading.members, original.members);
        assert.equal(verifyPackage(reading, vendorTrust).status, 'Signed');
      }),
      { numRuns: 100 },
    );
  });
});
