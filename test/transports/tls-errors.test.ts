// TLS failures in an operator's words: codes, wrapped causes and OpenSSL's raw text, table-driven.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tlsFailure } from '../../transports/tls-errors.js';

const ORIGIN = 'https 127.0.0.1:8443';
const TRUST = 'add its CA to etc/ssl/certs/';

/** An error as Node's TLS layer makes it: a message and a code (and sometimes OpenSSL's reason). */
function tlsError(message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), fields);
}

describe('tlsFailure', () => {
  const cases = [
    {
      title: 'self-signed server certificate',
      input: tlsError('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      expected: `certificate not trusted (self-signed); ${TRUST}`,
    },
    {
      title: 'self-signed CA in the chain',
      input: tlsError('self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
      expected: `certificate not trusted (self-signed CA); ${TRUST}`,
    },
    {
      title: 'unknown issuer',
      input: tlsError('unable to verify the first certificate', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
      expected: `certificate not trusted (issuer unknown); ${TRUST}`,
    },
    {
      title: 'expired',
      input: tlsError('certificate has expired', { code: 'CERT_HAS_EXPIRED' }),
      expected: 'certificate expired; renew it on the server, or check the device clock',
    },
    {
      title: 'another host name',
      input: tlsError(
        "Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list",
        {
          code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        },
      ),
      expected: 'certificate is for another host name; use an address the certificate names',
    },
    {
      title: 'the code on a wrapped cause (a library wrapped the TLS error)',
      input: tlsError('fetch failed', {
        cause: tlsError('self-signed certificate in certificate chain', {
          code: 'SELF_SIGNED_CERT_IN_CHAIN',
        }),
      }),
      expected: `certificate not trusted (self-signed CA); ${TRUST}`,
    },
    {
      title: "OpenSSL's phrase without any code",
      input: tlsError('unable to verify the first certificate'),
      expected: `certificate not trusted (issuer unknown); ${TRUST}`,
    },
    {
      title: 'a plain http server behind an https address',
      input: tlsError(
        '806C62CA707F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:',
        { code: 'ERR_SSL_WRONG_VERSION_NUMBER', reason: 'wrong version number' },
      ),
      expected: 'the server does not speak TLS on this port (plain http?)',
    },
    {
      title: 'another handshake failure keeps only the reason',
      input: tlsError(
        '80FC1E2E9B7F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1590:SSL alert number 40',
        { code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', reason: 'sslv3 alert handshake failure' },
      ),
      expected: 'TLS handshake failed (sslv3 alert handshake failure)',
    },
    {
      title: 'an OpenSSL error line without code or reason',
      input: tlsError(
        '8068:error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:x.c:1',
      ),
      expected: 'TLS handshake failed (certificate verify failed)',
    },
  ];
  for (const { title, input, expected } of cases) {
    test(title, () => {
      const failure = tlsFailure(ORIGIN, input);
      assert.ok(failure, 'recognised as a TLS failure');
      assert.equal(failure.code, 'TRANSPORT_TLS');
      assert.equal(failure.message, `${ORIGIN}: ${expected}`);
      assert.doesNotMatch(failure.message, /\n|error:[0-9A-F]{8}|\.c:\d+/);
    });
  }

  const notTls = [
    { title: 'connection refused', input: tlsError('connect ECONNREFUSED', { code: 'ECONNREFUSED' }) },
    { title: 'a reset', input: tlsError('socket hang up', { code: 'ECONNRESET' }) },
    { title: 'not an error at all', input: 'something' },
  ];
  for (const { title, input } of notTls) {
    test(`not TLS: ${title}`, () => assert.equal(tlsFailure(ORIGIN, input), undefined));
  }
});
