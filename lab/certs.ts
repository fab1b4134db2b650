// A test PKI made on the fly: a CA and a server certificate for 127.0.0.1, ::1 and localhost (node-forge).
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export interface TestPki {
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
  /** A certificate for the same names and key, signed by itself (no CA). */
  readonly selfSignedCert: string;
}

function keyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

function certificate(
  subject: string,
  publicKey: string,
  issuer: { name: string; key: string },
  extensions: object[],
  serial: string,
): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = serial;
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: subject }]);
  cert.setIssuer([{ name: 'commonName', value: issuer.name }]);
  cert.setExtensions(extensions);
  cert.sign(forge.pki.privateKeyFromPem(issuer.key), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** A CA and a server certificate it signed, valid for a day. */
export function makeTestPki(): TestPki {
  const ca = keyPair();
  const server = keyPair();
  const caName = 'edgesh test CA';
  const caCert = certificate(
    caName,
    ca.publicKey,
    { name: caName, key: ca.privateKey },
    [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
    '01',
  );
  const serverExtensions = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
        { type: 2, value: 'localhost' },
      ],
    },
  ];
  const serverCert = certificate(
    '127.0.0.1',
    server.publicKey,
    { name: caName, key: ca.privateKey },
    serverExtensions,
    '02',
  );
  const selfSignedCert = certificate(
    '127.0.0.1',
    server.publicKey,
    { name: '127.0.0.1', key: server.privateKey },
    serverExtensions,
    '03',
  );
  return { caCert, serverKey: server.privateKey, serverCert, selfSignedCert };
}
