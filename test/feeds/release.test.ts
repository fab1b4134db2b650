// Debian's Release file: what apt-ftparchive writes, dates, and bad input.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatRfc2822, parseRelease, parseRfc2822 } from '../../firmware-sim/feeds/index.js';

/** `apt-ftparchive -o APT::FTPArchive::Release::ValidTime=604800 release feed` on this machine (MD5Sum, SHA1 and SHA512 lists shortened). */
const APT_FTPARCHIVE = `Date: Sat, 05 Dec 2026 21:50:01 +0000
Valid-Until: Sat, 12 Dec 2026 21:50:01 +0000
MD5Sum:
 67e0a1797a7caff753172dca11498c4c              915 Packages
SHA1:
 0d359bd329b37fa3cb52c778f87988c108f35bd3              915 Packages
SHA256:
 c08bdc2e0dc1e329551e9d107b881afcc8d52ed51714a79913adfcd05126bf08              915 Packages
 e72d120d9fed231a4e12ba001d7541ca8ae7be7eb21d2aee4b48f738eb4c8c03              499 Packages.gz
 f26ed2f7e15bfdcd7c70376b61bb74c5f21ee9b2106bbf5efb532e514eab39fa              138 Packages.sig
SHA512:
 ccb1aa7e27e9a723046d240ff8caf83a436180d87e3d5eeee1ce22a833a6d8ab10dbad15b6c96a7bdb65946a5c391cc8e3f4f2be37ea51e3a18a7bc4b76537e1              915 Packages
`;

describe('parseRelease', () => {
  test("apt-ftparchive's Release: dates and the SHA256 list", () => {
    const release = parseRelease(Buffer.from(APT_FTPARCHIVE));
    assert.equal(release.date.toISOString(), '2026-12-05T21:50:01.000Z');
    assert.equal(release.validUntil?.toISOString(), '2026-12-12T21:50:01.000Z');
    assert.deepEqual(release.files.get('Packages'), {
      sha256: 'c08bdc2e0dc1e329551e9d107b881afcc8d52ed51714a79913adfcd05126bf08',
      size: 915,
    });
    assert.equal(release.files.get('Packages.gz')?.size, 499);
    assert.deepEqual([...release.files.keys()], ['Packages', 'Packages.gz', 'Packages.sig']);
  });

  test('without Valid-Until (apt-ftparchive by default)', () => {
    const release = parseRelease(Buffer.from(APT_FTPARCHIVE.replace(/^Valid-Until:.*\n/m, '')));
    assert.equal(release.validUntil, undefined);
  });

  const bad: Array<{ title: string; text: string; message: RegExp }> = [
    {
      title: 'no Date',
      text: APT_FTPARCHIVE.replace(/^Date:.*\n/m, ''),
      message: /^Release: no Date field$/,
    },
    { title: 'bad Date', text: APT_FTPARCHIVE.replace('Sat, 05 Dec', 'Sat, 35 Dec'), message: /bad Date/ },
    {
      title: 'bad Valid-Until',
      text: APT_FTPARCHIVE.replace('12 Dec 2026', '12 Dez 2026'),
      message: /bad Valid-Until/,
    },
    { title: 'no SHA256', text: 'Date: Sat, 05 Dec 2026 21:50:01 +0000\n', message: /no SHA256 field/ },
    {
      title: 'bad SHA256 line',
      text: APT_FTPARCHIVE.replace(' e72d120d', ' zz2d120d'),
      message: /bad SHA256 line/,
    },
    {
      title: 'a name twice',
      text: APT_FTPARCHIVE.replace('Packages.sig', 'Packages'),
      message: /Packages listed twice/,
    },
    { title: 'two stanzas', text: `${APT_FTPARCHIVE}\nDate: x\n`, message: /more than one stanza/ },
  ];
  for (const { title, text, message } of bad) {
    test(`refused: ${title}`, () =>
      assert.throws(() => parseRelease(Buffer.from(text)), { code: 'FEED_BAD_RELEASE', message }));
  }
});

describe('RFC 2822 dates', () => {
  const table: Array<[string, string | undefined]> = [
    ['Sat, 05 Dec 2026 21:50:01 +0000', '2026-12-05T21:50:01.000Z'],
    ['Sat, 05 Dec 2026 21:50:01 UTC', '2026-12-05T21:50:01.000Z'],
    ['5 Dec 2026 21:50:01 GMT', '2026-12-05T21:50:01.000Z'],
    ['Sat, 05 Dec 2026 23:50:01 +0200', '2026-12-05T21:50:01.000Z'],
    ['Sat, 05 Dec 2026 16:20:01 -0530', '2026-12-05T21:50:01.000Z'],
    ['Sat, 31 Feb 2026 21:50:01 +0000', undefined],
    ['2026-12-05T21:50:01Z', undefined],
    ['Sat, 05 Dec 2026 25:50:01 +0000', undefined],
  ];
  for (const [text, iso] of table) {
    test(text, () => assert.equal(parseRfc2822(text)?.toISOString(), iso));
  }
  test('formatRfc2822 writes what parseRfc2822 reads, as apt-ftparchive writes it', () => {
    const date = new Date('2026-12-05T21:50:01Z');
    assert.equal(formatRfc2822(date), 'Sat, 05 Dec 2026 21:50:01 +0000');
    assert.equal(parseRfc2822(formatRfc2822(date))?.getTime(), date.getTime());
  });
});
