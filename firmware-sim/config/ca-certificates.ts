// The extra CA certificates https trusts (`etc/ssl/certs/`): list, add, remove.
import { X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, writeFileAtomic } from '../../common/atomic.js';
import { shown } from '../../common/text.js';
import type { CaCertificateInfo } from '../api.js';
import { DeviceError, shownPath } from '../errors.js';
import type { Layout } from '../state/layout.js';

/** A certificate file is a few KiB; a CA bundle a few hundred. Larger files are not read. */
export const MAX_CERTIFICATE_BYTES = 1024 * 1024;
/** What `certificate` accepts: one certificate, PEM. */
export const MAX_ADDED_BYTES = 64 * 1024;

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The subject's common name (`CN=`), or the whole subject on one line. */
function subjectOf(cert: X509Certificate): string {
  const lines = cert.subject.split('\n');
  const cn = lines.find((l) => l.startsWith('CN='));
  return cn ? cn.slice(3) : lines.join(', ');
}

/** Why a certificate is not one https can use as a CA, or `undefined`. */
function problemOf(cert: X509Certificate, now: Date): string | undefined {
  if (!cert.ca) return 'not a CA certificate (a server certificate?)';
  if (Date.parse(cert.validTo) < now.getTime()) return `expired on ${new Date(cert.validTo).toISOString()}`;
  return undefined;
}

function infoOf(name: string, cert: X509Certificate, now: Date): CaCertificateInfo {
  const problem = problemOf(cert, now);
  return {
    name,
    subject: subjectOf(cert),
    validTo: new Date(cert.validTo).toISOString(),
    fingerprint: cert.fingerprint256,
    ...(problem === undefined ? {} : { problem }),
  };
}

/** The certificates of one file (a file may hold several); a file that holds none is listed with why. */
function certificatesIn(name: string, text: string, now: Date): CaCertificateInfo[] {
  const blocks = text.match(PEM) ?? [];
  const unreadable = { name, subject: '', validTo: '', fingerprint: '' };
  if (blocks.length === 0) return [{ ...unreadable, problem: 'not a PEM certificate' }];
  return blocks.map((pem) => {
    try {
      return infoOf(name, new X509Certificate(pem), now);
    } catch (error) {
      return { ...unreadable, problem: `unreadable certificate: ${(error as Error).message}` };
    }
  });
}

/** Every certificate of `etc/ssl/certs/`, by file name. */
export async function listCertificates(layout: Layout, now = new Date()): Promise<CaCertificateInfo[]> {
  const out: CaCertificateInfo[] = [];
  const entries = await readdir(layout.caDir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.') || !(entry.isFile() || entry.isSymbolicLink())) continue;
    const path = join(layout.caDir, entry.name);
    const size = await stat(path).then(
      (s) => s.size,
      () => -1,
    );
    if (size < 0 || size > MAX_CERTIFICATE_BYTES) {
      out.push({
        name: entry.name,
        subject: '',
        validTo: '',
        fingerprint: '',
        problem: size < 0 ? 'cannot be read' : 'too large',
      });
      continue;
    }
    out.push(...certificatesIn(entry.name, await readFile(path, 'utf8'), now));
  }
  return out;
}

/**
 * Adds one PEM CA certificate as `etc/ssl/certs/ca-FINGERPRINT.pem` (the first 16 hex digits of its
 * SHA-256). Refused: anything but exactly one certificate, a certificate that is not a CA, an expired
 * one, one that is there already.
 */
export async function addCertificate(
  layout: Layout,
  bytes: Buffer,
  now = new Date(),
): Promise<{ readonly info: CaCertificateInfo; readonly event: string }> {
  const bad = (why: string): never => {
    throw new DeviceError('DEVICE_BAD_TRUST', `CA certificate refused: ${why}`);
  };
  const blocks = bytes.toString('utf8').match(PEM) ?? [];
  if (blocks.length !== 1) {
    bad(
      blocks.length === 0
        ? 'not a PEM certificate (-----BEGIN CERTIFICATE-----)'
        : 'more than one certificate; add them one by one',
    );
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(blocks[0]!);
  } catch (error) {
    return bad(`unreadable certificate: ${(error as Error).message}`);
  }
  const problem = problemOf(cert, now);
  if (problem !== undefined) bad(`${shown(subjectOf(cert))}: ${problem}`);
  const present = (await listCertificates(layout, now)).find((c) => c.fingerprint === cert.fingerprint256);
  if (present !== undefined)
    bad(`${shown(subjectOf(cert))} is trusted already (etc/ssl/certs/${present.name})`);
  const name = `ca-${cert.fingerprint256.replaceAll(':', '').slice(0, 16).toLowerCase()}.pem`;
  await mkdir(layout.caDir, { recursive: true });
  await writeFileAtomic(join(layout.caDir, name), `${cert.toString().trim()}\n`);
  const info = infoOf(name, cert, now);
  return {
    info,
    event: `CA certificate added (${shownPath(join(layout.caDir, name), layout.root)}): ${info.subject}, SHA-256 ${info.fingerprint}`,
  };
}

/** Removes the file `name` of `etc/ssl/certs/`; `DEVICE_NOT_TRUSTED` when there is none. */
export async function removeCertificate(
  layout: Layout,
  name: string,
): Promise<{ readonly removed: CaCertificateInfo[]; readonly event: string }> {
  const removed = (await listCertificates(layout)).filter((c) => c.name === name);
  if (removed.length === 0 || name.includes('/') || name.startsWith('.')) {
    throw new DeviceError(
      'DEVICE_NOT_TRUSTED',
      `no certificate file "${shown(name)}" in etc/ssl/certs/ (see show certificates)`,
    );
  }
  await unlink(join(layout.caDir, name));
  await syncDirectory(layout.caDir);
  const what = removed.map((c) => c.subject || c.problem).join(', ');
  return { removed, event: `CA certificate removed (etc/ssl/certs/${name}): ${what}` };
}
