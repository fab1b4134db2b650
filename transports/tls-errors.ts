// TLS failures in an operator's words: what is wrong with the certificate and what to do, never OpenSSL's text.
import { oneLine } from '../common/text.js';
import { TransportError } from './errors.js';

/** Where a device keeps the extra CAs it trusts for https (SPEC §4.1). */
const CA_DIR = 'etc/ssl/certs/';

const untrusted = (why: string) => `certificate not trusted (${why}); add its CA to ${CA_DIR}`;

/** Certificate verification codes (OpenSSL's, as Node reports them) and what to tell the operator. */
const BY_CODE: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: untrusted('self-signed'),
  SELF_SIGNED_CERT_IN_CHAIN: untrusted('self-signed CA'),
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: untrusted('issuer unknown'),
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: untrusted('issuer unknown'),
  UNABLE_TO_GET_ISSUER_CERT: untrusted('issuer unknown'),
  CERT_UNTRUSTED: untrusted('not trusted for this purpose'),
  CERT_REJECTED: untrusted('rejected'),
  INVALID_CA: untrusted('its CA is not a valid CA'),
  CERT_HAS_EXPIRED: 'certificate expired; renew it on the server, or check the device clock',
  CERT_NOT_YET_VALID: 'certificate not yet valid; check the device clock',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate is for another host name; use an address the certificate names',
  HOSTNAME_MISMATCH: 'certificate is for another host name; use an address the certificate names',
  CERT_REVOKED: 'certificate revoked',
  CERT_SIGNATURE_FAILURE: 'certificate signature does not verify',
  CERT_CHAIN_TOO_LONG: 'certificate chain too long',
  ERR_SSL_WRONG_VERSION_NUMBER: 'the server does not speak TLS on this port (plain http?)',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'the server only offers an outdated TLS version',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'the server only offers an outdated TLS version',
};

/**
 * OpenSSL's own phrases, for an error that carries no code (or one wrapped by a library): each is
 * matched in the text and mapped like its code.
 */
const BY_TEXT: ReadonlyArray<readonly [RegExp, string]> = [
  [/self[- ]signed certificate in (the )?certificate chain/i, 'SELF_SIGNED_CERT_IN_CHAIN'],
  [/self[- ]signed certificate/i, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  [/unable to verify the first certificate/i, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  [/unable to get (local )?issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
  [/certificate has expired/i, 'CERT_HAS_EXPIRED'],
  [/certificate is not yet valid/i, 'CERT_NOT_YET_VALID'],
  [/certificate has been revoked/i, 'CERT_REVOKED'],
  [/(hostname\/ip does not match|is not in the cert's altnames)/i, 'ERR_TLS_CERT_ALTNAME_INVALID'],
  [/wrong version number/i, 'ERR_SSL_WRONG_VERSION_NUMBER'],
];

/** OpenSSL's error line: `8068…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:…`. */
const OPENSSL_LINE = /(?:^|\s)[0-9A-F]*:?error:[0-9A-F]{8}:[^:]*:[^:]*:([^:]+)/i;

interface ErrorLike {
  readonly code?: unknown;
  readonly reason?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
}

/** The error and the causes it wraps (a library may wrap the TLS error), outermost first, at most 5. */
function chain(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && out.length < 5) {
    out.push(current as ErrorLike);
    current = (current as ErrorLike).cause;
  }
  return out;
}

/**
 * A TLS failure (certificate verification, or a handshake that failed) as a `TRANSPORT_TLS` error with
 * one line for the operator — `https 192.0.2.1:443: certificate not trusted (self-signed); add its CA to
 * etc/ssl/certs/` — or undefined when the error is not about TLS. The error's code is looked for on it
 * and on what it wraps; without a known code, OpenSSL's phrases and error lines are recognised, and
 * an unknown TLS failure keeps only OpenSSL's reason, never its codes and source paths.
 */
export function tlsFailure(origin: string, error: unknown): TransportError | undefined {
  const errors = chain(error);
  const say = (what: string) => new TransportError('TRANSPORT_TLS', `${origin}: ${what}`, { cause: error });
  for (const e of errors) {
    const known = typeof e.code === 'string' ? BY_CODE[e.code] : undefined;
    if (known) return say(known);
  }
  for (const e of errors) {
    const text = typeof e.message === 'string' ? e.message : '';
    for (const [pattern, code] of BY_TEXT) if (pattern.test(text)) return say(BY_CODE[code]!);
  }
  for (const e of errors) {
    const code = typeof e.code === 'string' ? e.code : '';
    const text = typeof e.message === 'string' ? e.message : '';
    const line = OPENSSL_LINE.exec(text);
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || line) {
      const reason =
        typeof e.reason === 'string' && e.reason !== ''
          ? e.reason
          : (line?.[1] ??
            code
              .replace(/^ERR_(SSL|TLS)_/, '')
              .toLowerCase()
              .replace(/_/g, ' '));
      return say(`TLS handshake failed (${oneLine(reason, 80)})`);
    }
  }
  return undefined;
}
