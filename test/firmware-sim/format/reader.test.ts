// The reader against valid packages of every layout, and against every malformed case of SPEC §9.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  FormatError,
  type FormatErrorCode,
  formatManifest,
  formatSignature,
  generateKeyPair,
  keyNumberHex,
  parseManifest,
  signMessage,
  trustStoreOf,
  verifyPackage,
} from '../../../firmware-sim/format/index.js';
import {
  controlFields,
  membersOf,
  packageBytes,
  type RawMember,
  rawAr,
  readBytes,
  vendor,
  vendorTrust,
} from '../../helpers/format-fixtures.js';

let signed: Buffer;
let members: RawMember[];

before(async () => {
  signed = await packageBytes();
  members = await membersOf(signed);
});

const member = (name: string): RawMember => members.find((m) => m.name === name)!;

async function expectCode(bytes: Buffer, code: FormatErrorCode, pattern?: RegExp): Promise<FormatError> {
  const error = await readBytes(bytes).then(
    () => assert.fail(`expected ${code}, the package was read`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof FormatError, `expected a FormatError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.doesNotMatch(error.message, /\n/, 'one line');
  if (pattern) assert.match(error.message, pattern);
  return error;
}

describe('valid packages', () => {
  test('a signed package reads and verifies as Signed, every member hashed', async () => {
    const reading = await readBytes(signed);
    assert.equal(reading.layout, 'ar');
    assert.deepEqual(
      reading.members.map((m) => m.name),
      ['debian-binary', 'control.tar.gz', 'data.tar.gz', '_manifest', '_manifest.sig'],
    );
    assert.equal(
      reading.members[0]!.sha256,
      'd526eb4e878a23ef26ae190031b4efd2d58ed66789ac049ea3dbaf74c9df7402',
    );
    assert.equal(reading.control.package, 'hello');
    assert.equal(reading.control.summary, 'Says hello');
    assert.equal(reading.size, signed.length);
    const verdict = verifyPackage(reading, vendorTrust);
    assert.equal(verdict.status, 'Signed', verdict.reason);
    assert.equal(verdict.keyNumber, keyNumberHex(vendor.publicKey.keyNumber));
  });

  test('the manifest is exactly the SPEC §5 text', async () => {
    const reading = await readBytes(signed);
    const text = reading.manifest!.bytes.toString();
    const lines = text.split('\n');
    assert.equal(lines[0], 'wmopkg-manifest: 1');
    assert.equal(lines[1], 'package: hello');
    assert.equal(lines[2], 'version: 1.2.0-r1');
    assert.equal(lines[3], 'architecture: all');
    assert.equal(
      lines[4],
      'debian-binary sha256:d526eb4e878a23ef26ae190031b4efd2d58ed66789ac049ea3dbaf74c9df7402 size:4',
    );
    assert.match(lines[5]!, /^control\.tar\.gz sha256:[0-9a-f]{64} size:\d+$/);
    assert.match(lines[6]!, /^data\.tar\.gz sha256:[0-9a-f]{64} size:\d+$/);
    assert.equal(lines[7], '');
    assert.equal(lines.length, 8);
  });

  test('the data member is streamed to onData byte for byte, whatever the chunk size', async () => {
    const data = member('data.tar.gz').data as Buffer;
    for (const chunkSize of [1, 3, 60, 61, 4096, signed.length]) {
      const seen: Buffer[] = [];
      let ended = false;
      await readBytes(
        signed,
        {
          onData: (c) => void seen.push(Buffer.from(c)),
          onDataEnd: () => {
            ended = true;
          },
        },
        chunkSize,
      );
      assert.ok(Buffer.concat(seen).equals(data), `chunk size ${chunkSize}`);
      assert.ok(ended);
    }
  });

  const layouts = [
    ['deb', 'a package without manifest (dpkg-deb, opkg-build)'],
    ['ipk-old-order', 'the old ipkg-build member order (debian-binary, data, control)'],
    ['ipk-tar-gz', 'an OpenWrt ipk with an outer tar.gz'],
  ] as const;
  for (const [layout, title] of layouts) {
    test(`${title} is read as Unsigned`, async () => {
      const bytes = await packageBytes({ layout, sign: undefined as never });
      const reading = await readBytes(bytes);
      assert.equal(reading.layout, layout === 'ipk-tar-gz' ? 'tar.gz' : 'ar');
      assert.equal(reading.control.package, 'hello');
      assert.equal(verifyPackage(reading, vendorTrust).status, 'Unsigned');
    });
  }

  test('a manifest without signature is Unsigned; with a wrong digest it is Invalid', async () => {
    const unsigned = rawAr(members.filter((m) => m.name !== '_manifest.sig'));
    assert.equal(verifyPackage(await readBytes(unsigned), vendorTrust).status, 'Unsigned');
  });
});

describe('malformed containers', () => {
  test('truncation at every member boundary and inside every header', async () => {
    const reading = await readBytes(signed);
    const cases: Array<[number, FormatErrorCode | 'Unsigned']> = [
      [0, 'WMOPKG_TRUNCATED'],
      [4, 'WMOPKG_BAD_MAGIC'],
    ];
    for (const m of reading.members) {
      const headerStart = m.offset! - 60;
      const afterData = m.offset! + m.size + (m.size % 2);
      // After data, and again after the manifest, the rest is optional: a valid unsigned package.
      const optionalNext = m.name === 'data.tar.gz' || m.name === '_manifest';
      const midHeader: FormatErrorCode =
        m.name === '_manifest' || m.name === '_manifest.sig' ? 'WMOPKG_TRAILING_DATA' : 'WMOPKG_TRUNCATED';
      cases.push([headerStart + 30, midHeader]);
      cases.push([m.offset!, 'WMOPKG_TRUNCATED']);
      cases.push([m.offset! + Math.floor(m.size / 2), 'WMOPKG_TRUNCATED']);
      if (m.name !== '_manifest.sig')
        cases.push([afterData, optionalNext ? 'Unsigned' : 'WMOPKG_MISSING_MEMBER']);
    }
    for (const [length, expected] of cases) {
      const bytes = signed.subarray(0, length);
      if (expected === 'Unsigned') {
        assert.equal(
          verifyPackage(await readBytes(bytes), vendorTrust).status,
          'Unsigned',
          `cut at ${length}`,
        );
      } else {
        const error = await expectCode(bytes, expected);
        if (expected === 'WMOPKG_TRUNCATED' && length > 8)
          assert.ok(error.offset !== undefined, `offset at ${length}`);
      }
    }
  });

  const table: Array<{ title: string; input: () => Buffer; code: FormatErrorCode; pattern?: RegExp }> = [
    { title: 'wrong magic', input: () => rawAr(members, '!<arcx>\n'), code: 'WMOPKG_BAD_MAGIC' },
    {
      title: 'a text file',
      input: () => Buffer.from('hello world, not a package\n'),
      code: 'WMOPKG_BAD_MAGIC',
    },
    {
      title: 'duplicate member',
      input: () => rawAr([member('debian-binary'), member('control.tar.gz'), member('control.tar.gz')]),
      code: 'WMOPKG_DUPLICATE_MEMBER',
      pattern: /control\.tar\.gz/,
    },
    {
      title: 'missing data member',
      input: () => rawAr([member('debian-binary'), member('control.tar.gz')]),
      code: 'WMOPKG_MISSING_MEMBER',
      pattern: /data\.tar\.gz/,
    },
    {
      title: 'missing control member',
      input: () => rawAr([member('debian-binary'), member('data.tar.gz')]),
      code: 'WMOPKG_MISSING_MEMBER',
      pattern: /control\.tar\.gz/,
    },
    {
      title: 'control before debian-binary',
      input: () => rawAr([member('control.tar.gz'), member('debian-binary'), member('data.tar.gz')]),
      code: 'WMOPKG_MEMBER_ORDER',
    },
    {
      title: '_manifest before data',
      input: () =>
        rawAr([
          member('debian-binary'),
          member('control.tar.gz'),
          member('_manifest'),
          member('data.tar.gz'),
        ]),
      code: 'WMOPKG_MEMBER_ORDER',
    },
    {
      title: '_manifest.sig without _manifest',
      input: () =>
        rawAr([
          member('debian-binary'),
          member('control.tar.gz'),
          member('data.tar.gz'),
          member('_manifest.sig'),
        ]),
      code: 'WMOPKG_MEMBER_ORDER',
    },
    {
      title: 'debian-binary not 2.0',
      input: () => rawAr([{ name: 'debian-binary', data: '3.0\n' }, ...members.slice(1)]),
      code: 'WMOPKG_BAD_VERSION_MEMBER',
    },
    {
      title: 'debian-binary without its newline',
      input: () => rawAr([{ name: 'debian-binary', data: '2.0' }, ...members.slice(1)]),
      code: 'WMOPKG_BAD_VERSION_MEMBER',
    },
    {
      title: 'trailing garbage after the signature',
      input: () => Buffer.concat([signed, Buffer.from('garbage')]),
      code: 'WMOPKG_TRAILING_DATA',
    },
    {
      title: 'trailing garbage after data in an unsigned package',
      input: () =>
        Buffer.concat([
          rawAr(members.slice(0, 3)),
          Buffer.from('this is not a member header at all, just junk..........\n'),
        ]),
      code: 'WMOPKG_TRAILING_DATA',
    },
    {
      title: 'a zero-size member',
      input: () =>
        rawAr([member('debian-binary'), { name: 'control.tar.gz', data: '' }, member('data.tar.gz')]),
      code: 'WMOPKG_EMPTY_MEMBER',
    },
    {
      title: 'member size larger than the file (overflow)',
      input: () =>
        rawAr([
          member('debian-binary'),
          member('control.tar.gz'),
          { ...member('data.tar.gz'), sizeField: '9999999999' },
        ]),
      code: 'WMOPKG_TRUNCATED',
      pattern: /9999999999/,
    },
    {
      title: 'a control member size beyond its limit is refused before it is read',
      input: () => rawAr([member('debian-binary'), { ...member('control.tar.gz'), sizeField: '9999999999' }]),
      code: 'WMOPKG_TOO_LARGE',
    },
    {
      title: 'member size beyond 32 bits is kept exact (64-bit safe)',
      input: () =>
        rawAr([
          member('debian-binary'),
          member('control.tar.gz'),
          { ...member('data.tar.gz'), sizeField: '5000000001' },
        ]),
      code: 'WMOPKG_TRUNCATED',
      pattern: /announces 5000000001 bytes/,
    },
    {
      title: 'a negative size field',
      input: () => rawAr([member('debian-binary'), { ...member('control.tar.gz'), sizeField: '-1' }]),
      code: 'WMOPKG_BAD_HEADER',
    },
    {
      title: 'an unknown member',
      input: () =>
        rawAr([
          member('debian-binary'),
          member('control.tar.gz'),
          member('data.tar.gz'),
          { name: 'evil', data: 'x' },
        ]),
      code: 'WMOPKG_BAD_MEMBER',
      pattern: /evil/,
    },
    {
      title: 'an unknown member before data',
      input: () => rawAr([member('debian-binary'), { name: 'evil', data: 'xx' }, member('data.tar.gz')]),
      code: 'WMOPKG_BAD_MEMBER',
    },
    {
      title: 'xz-compressed data member',
      input: () =>
        rawAr([member('debian-binary'), member('control.tar.gz'), { name: 'data.tar.xz', data: 'xz' }]),
      code: 'WMOPKG_UNSUPPORTED_COMPRESSION',
      pattern: /only gzip/,
    },
    {
      title: 'zstd bytes inside data.tar.gz',
      input: () =>
        rawAr([
          member('debian-binary'),
          member('control.tar.gz'),
          { name: 'data.tar.gz', data: Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]) },
        ]),
      code: 'WMOPKG_UNSUPPORTED_COMPRESSION',
    },
    {
      title: 'data.tar.gz that is not gzip at all',
      input: () =>
        rawAr([
          member('debian-binary'),
          member('control.tar.gz'),
          { name: 'data.tar.gz', data: 'plain text' },
        ]),
      code: 'WMOPKG_CORRUPT',
    },
    {
      title: 'bad padding byte',
      input: () => {
        const data = member('data.tar.gz');
        assert.equal(data.data.length % 2, 1, 'the fixture needs an odd-sized data member');
        const bytes = rawAr([member('debian-binary'), member('control.tar.gz'), data, member('_manifest')]);
        const padAt = bytes.indexOf(data.data as Buffer) + data.data.length;
        assert.equal(bytes[padAt], 0x0a);
        bytes[padAt] = 0x41;
        return bytes;
      },
      code: 'WMOPKG_BAD_HEADER',
      pattern: /padding/,
    },
    {
      title: 'a control archive with a bad tar checksum',
      input: () => {
        const tar = tarWith('./control', controlText());
        tar[148] = 0x37; // a checksum digit
        return rawAr([
          member('debian-binary'),
          { name: 'control.tar.gz', data: gzipSync(tar) },
          member('data.tar.gz'),
        ]);
      },
      code: 'WMOPKG_CORRUPT',
      pattern: /control\.tar\.gz/,
    },
    {
      title: 'oversized control (more than 1 MiB uncompressed)',
      input: () => {
        const tar = Buffer.concat([
          tarWith('./control', controlText()).subarray(0, -1024),
          tarWith('./big', Buffer.alloc(1100 * 1024)),
        ]);
        return rawAr([
          member('debian-binary'),
          { name: 'control.tar.gz', data: gzipSync(tar) },
          member('data.tar.gz'),
        ]);
      },
      code: 'WMOPKG_TOO_LARGE',
    },
    {
      title: 'a symlink in the control archive',
      input: () => {
        const tar = Buffer.concat([
          tarWith('./control', controlText()).subarray(0, -1024),
          tarWith('./postinst', '', '2', '/etc/passwd'),
        ]);
        return rawAr([
          member('debian-binary'),
          { name: 'control.tar.gz', data: gzipSync(tar) },
          member('data.tar.gz'),
        ]);
      },
      code: 'WMOPKG_BAD_CONTROL',
      pattern: /symlink/,
    },
    {
      title: 'a control archive without ./control',
      input: () =>
        rawAr([
          member('debian-binary'),
          { name: 'control.tar.gz', data: gzipSync(tarWith('./postinst', 'x')) },
          member('data.tar.gz'),
        ]),
      code: 'WMOPKG_BAD_CONTROL',
      pattern: /no \.\/control/,
    },
    {
      title: 'bad UTF-8 in control',
      input: () => withControl(Buffer.concat([Buffer.from(controlText()), Buffer.from([0xff, 0xfe, 0x0a])])),
      code: 'WMOPKG_BAD_CONTROL',
      pattern: /UTF-8/,
    },
    {
      title: 'a huge control line',
      input: () => withControl(`${controlText()}X-Huge: ${'a'.repeat(70 * 1024)}\n`),
      code: 'WMOPKG_BAD_CONTROL',
      pattern: /longer than/,
    },
    {
      title: 'an escape sequence in a control field',
      input: () => withControl(controlText().replace('Says hello', 'Says \u001b[2Jhello')),
      code: 'WMOPKG_BAD_CONTROL',
      pattern: /control character/,
    },
    {
      title: 'a control file without Maintainer',
      input: () => withControl(controlText().replace(/^Maintainer:.*\n/m, '')),
      code: 'WMOPKG_BAD_CONTROL',
      pattern: /Maintainer/,
    },
    {
      title: 'a corrupt _manifest.sig',
      input: () =>
        rawAr([
          ...members.slice(0, 4),
          { name: '_manifest.sig', data: 'untrusted comment: x\nnot base64!!\n' },
        ]),
      code: 'WMOPKG_BAD_SIGNATURE',
    },
    {
      title: 'a manifest that is not a manifest',
      input: () => rawAr([...members.slice(0, 3), { name: '_manifest', data: 'hello\n' }]),
      code: 'WMOPKG_BAD_MANIFEST',
    },
    {
      title: 'an outer tar.gz that is not a tar',
      input: () => gzipSync(Buffer.alloc(2048, 0x41)),
      code: 'WMOPKG_CORRUPT',
    },
  ];
  for (const { title, input, code, pattern } of table) {
    test(title, async () => {
      await expectCode(input(), code, pattern);
    });
  }
});

describe('signatures and tampering', () => {
  test('a bit flip anywhere in any member never verifies as Signed', async () => {
    const reading = await readBytes(signed);
    for (const m of reading.members) {
      for (const at of [0, 1, Math.floor(m.size / 2), m.size - 2, m.size - 1]) {
        if (at < 0 || at >= m.size) continue;
        const bytes = Buffer.from(signed);
        bytes[m.offset! + at]! ^= 0x01;
        const outcome = await readBytes(bytes).then(
          (r) => verifyPackage(r, vendorTrust).status,
          (e: unknown) => (e instanceof FormatError ? 'FormatError' : `crash: ${String(e)}`),
        );
        assert.ok(outcome === 'Invalid' || outcome === 'FormatError', `${m.name}+${at}: ${outcome}`);
      }
    }
  });

  test('a tampered data member is Invalid with the member named', async () => {
    const data = Buffer.from(member('data.tar.gz').data);
    data[data.length - 5]! ^= 0xff;
    const bytes = rawAr([...members.slice(0, 2), { name: 'data.tar.gz', data }, ...members.slice(3)]);
    const verdict = verifyPackage(await readBytes(bytes), vendorTrust);
    assert.equal(verdict.status, 'Invalid');
    assert.match(verdict.reason, /digest mismatch: data\.tar\.gz/);
  });

  test('a signature of another manifest is Invalid', async () => {
    const other = await membersOf(await packageBytes({ control: controlFields({ Version: '9.9' }) }));
    const bytes = rawAr([...members.slice(0, 4), other.find((m) => m.name === '_manifest.sig')!]);
    const verdict = verifyPackage(await readBytes(bytes), vendorTrust);
    assert.equal(verdict.status, 'Invalid');
    assert.match(verdict.reason, /does not verify/);
  });

  test('a validly signed manifest of another package is Invalid', async () => {
    const reading = await readBytes(signed);
    const manifest = { ...reading.manifest!.parsed, package: 'other' };
    const text = Buffer.from(formatManifest(manifest));
    const sig = formatSignature(signMessage(text, vendor.secretKey));
    const bytes = rawAr([
      ...members.slice(0, 3),
      { name: '_manifest', data: text },
      { name: '_manifest.sig', data: sig },
    ]);
    const verdict = verifyPackage(await readBytes(bytes), vendorTrust);
    assert.equal(verdict.status, 'Invalid');
    assert.match(verdict.reason, /package "other"/);
  });

  test('an unknown key is Untrusted, a revoked key is Untrusted, a wrong required key is Invalid', async () => {
    const reading = await readBytes(signed);
    const stranger = generateKeyPair('stranger');
    const strangers = trustStoreOf([{ publicKey: stranger.publicKey, source: 'stranger.pub' }]);
    const unknown = verifyPackage(reading, strangers);
    assert.equal(unknown.status, 'Untrusted');
    assert.match(unknown.reason, /unknown key/);
    const keyNumber = keyNumberHex(vendor.publicKey.keyNumber);
    const revoked = trustStoreOf([{ publicKey: vendor.publicKey, source: 'vendor.pub' }], [keyNumber]);
    const verdict = verifyPackage(reading, revoked);
    assert.equal(verdict.status, 'Untrusted');
    assert.match(verdict.reason, /revoked/);
    const mismatch = verifyPackage(reading, strangers, keyNumberHex(stranger.publicKey.keyNumber));
    assert.equal(mismatch.status, 'Invalid');
    assert.match(mismatch.reason, /key number mismatch/);
  });

  test('a key with the same number but another key fails the signature', async () => {
    const impostor = generateKeyPair('impostor');
    const trust = trustStoreOf([
      { publicKey: { ...impostor.publicKey, keyNumber: vendor.publicKey.keyNumber }, source: 'x' },
    ]);
    assert.equal(verifyPackage(await readBytes(signed), trust).status, 'Invalid');
  });

  test('the parsed manifest round-trips', async () => {
    const reading = await readBytes(signed);
    assert.equal(formatManifest(parseManifest(reading.manifest!.bytes)), reading.manifest!.bytes.toString());
  });
});

function controlText(): string {
  return controlFields()
    .map(([k, v]) => `${k}: ${v}\n`)
    .join('');
}

function withControl(control: string | Buffer): Buffer {
  return rawAr([
    member('debian-binary'),
    { name: 'control.tar.gz', data: gzipSync(tarWith('./control', control)) },
    member('data.tar.gz'),
  ]);
}

/** A one-entry ustar archive (with its two end blocks), written by hand to control every byte. */
function tarWith(name: string, content: string | Buffer, type = '0', linkname = ''): Buffer {
  const data = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write(type, 156);
  header.write(linkname, 157);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return Buffer.concat([header, padded, Buffer.alloc(1024)]);
}
