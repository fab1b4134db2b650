import assert from 'node:assert/strict';
import { test } from 'node:test';
import { address, number, packageFile, proto } from '../../contexts/param-types.js';

const addresses: ReadonlyArray<{ input: string; expected: { host: string; port?: number } | RegExp }> = [
  { input: '192.0.2.1', expected: { host: '192.0.2.1' } },
  { input: '192.0.2.1:2121', expected: { host: '192.0.2.1', port: 2121 } },
  { input: '[2001:db8::1]:21', expected: { host: '2001:db8::1', port: 21 } },
  { input: '[2001:db8::1]', expected: { host: '2001:db8::1' } },
  { input: '2001:db8::1', expected: { host: '2001:db8::1' } },
  { input: '[::1]:69', expected: { host: '::1', port: 69 } },
  { input: 'ftp.example.com:21', expected: { host: 'ftp.example.com', port: 21 } },
  { input: 'server', expected: { host: 'server' } },
  { input: 'host:0', expected: /port must be a number from 1 to 65535/ },
  { input: 'host:65536', expected: /port must be a number from 1 to 65535/ },
  { input: 'host:ftp', expected: /port must be a number/ },
  { input: '[2001:db8::1]:', expected: /port must be a number/ },
  {
    input: '[192.0.2.1]:21',
    expected: /invalid address\[:port\] "\[192\.0\.2\.1\]:21": expected an IPv4 address/,
  },
  { input: '2001:db8::1:21:x', expected: /expected an IPv4 address, a host name or \[IPv6 address\]/ },
  { input: '192.0.2.256', expected: /expected an IPv4 address/ },
  { input: 'a_b.example', expected: /expected an IPv4 address/ },
  { input: 'ftp://192.0.2.1/x.wmopkg', expected: /not a URL \(name the protocol with proto\)/ },
  // Credentials are refused without repeating them: `^[^"]*$` (no quoted value in the message).
  {
    input: 'admin:Hunter2@192.0.2.1',
    expected: /invalid address\[:port\]: a user name or password cannot[^"]*$/,
  },
  { input: 'admin:Hunter2@192.0.2.1:21', expected: /^[^"]*give them with user and password$/ },
  { input: 'ftp://admin:Hunter2@192.0.2.1/x.wmopkg', expected: /^[^"]*cannot be part of the address/ },
  { input: 'admin@192.0.2.1', expected: /^[^"]*cannot be part of the address/ },
];

for (const c of addresses) {
  test(`address ${c.input}`, () => {
    if (c.expected instanceof RegExp) assert.throws(() => address.parse(c.input), c.expected);
    else assert.deepEqual(address.parse(c.input), c.expected);
  });
}

const files: ReadonlyArray<{ title: string; input: string; expected: string | RegExp }> = [
  { title: 'plain name', input: 'pkgname.wmopkg', expected: 'pkgname' },
  { title: 'path on the media', input: 'path/on/media/pkgname.wmopkg', expected: 'pkgname' },
  { title: 'absolute path on a server', input: '/pub/edge/hello-1.0+b.wmopkg', expected: 'hello-1.0+b' },
  { title: '64 characters', input: `${'a'.repeat(64)}.wmopkg`, expected: 'a'.repeat(64) },
  { title: 'parent directory', input: '../x.wmopkg', expected: /may not contain "\.\." components/ },
  { title: 'parent inside', input: 'a/../x.wmopkg', expected: /may not contain "\.\." components/ },
  { title: 'no extension', input: 'pkgname', expected: /must have the \.wmopkg extension/ },
  { title: 'other extension', input: 'pkgname.ipk', expected: /must have the \.wmopkg extension/ },
  { title: 'upper-case extension', input: 'pkgname.WMOPKG', expected: /must be \.wmopkg in lower case/ },
  { title: 'spaces', input: 'my pkg.wmopkg', expected: /may not contain spaces/ },
  { title: 'control character', input: 'x\u0001.wmopkg', expected: /control characters are not allowed/ },
  { title: 'control character shown escaped', input: 'x\u001b[2J.wmopkg', expected: /"x\\x1b\[2J\.wmopkg"/ },
  { title: '300 characters', input: `${'a'.repeat(300)}.wmopkg`, expected: /longer than 64 characters/ },
  { title: 'empty name', input: 'dir/.wmopkg', expected: /name before \.wmopkg is empty/ },
  { title: 'directory only', input: 'dir/', expected: /must have the \.wmopkg extension/ },
  { title: 'upper-case name', input: 'Hello.wmopkg', expected: /may hold only a-z, 0-9/ },
];

for (const c of files) {
  test(`PKGNAME.wmopkg: ${c.title}`, () => {
    if (c.expected instanceof RegExp) {
      assert.throws(
        () => packageFile.parse(c.input),
        (e: Error) => c.expected instanceof RegExp && c.expected.test(e.message) && !e.message.includes('\n'),
      );
    } else {
      assert.deepEqual(packageFile.parse(c.input), { path: c.input, name: c.expected });
    }
  });
}

const protos: ReadonlyArray<{ input: string; expected: string | RegExp }> = [
  { input: 'ftp', expected: 'ftp' },
  { input: 'sf', expected: 'sftp' },
  { input: 'TFTP', expected: 'tftp' },
  { input: 'http', expected: 'http' },
  { input: 'ht', expected: /ambiguous protocol "ht": http, https/ },
  { input: 'gopher', expected: /invalid protocol "gopher": expected ftp, tftp, scp, sftp, http, https/ },
];

for (const c of protos) {
  test(`proto ${c.input}`, () => {
    if (c.expected instanceof RegExp) assert.throws(() => proto.parse(c.input), c.expected);
    else assert.equal(proto.parse(c.input), c.expected);
  });
}

test('number: range and form are checked', () => {
  const n = number('N', 'lines', 0, 512);
  assert.equal(n.parse('0'), 0);
  assert.equal(n.parse('512'), 512);
  assert.throws(() => n.parse('513'), /expected a number from 0 to 512/);
  assert.throws(() => n.parse('-1'), /invalid N "-1"/);
  assert.throws(() => n.parse('1e3'), /expected a number/);
});

test('IP address checks agree with node:net', async () => {
  const net = await import('node:net');
  const { isIPv4, isIPv6 } = await import('../../contexts/param-types.js');
  const samples = [
    '192.0.2.1',
    '0.0.0.0',
    '255.255.255.255',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.4.5',
    '2001:db8::1',
    '::1',
    '::',
    '::ffff:192.0.2.1',
    'fe80::1%eth0',
    '2001:db8::g',
    '2001:db8:::1',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    'host',
    '',
  ];
  for (const s of samples) {
    assert.equal(isIPv4(s), net.isIPv4(s), `isIPv4(${s})`);
    assert.equal(isIPv6(s), net.isIPv6(s), `isIPv6(${s})`);
  }
});
