// The `_manifest` member: what the signature covers (package identity and every member's digest).

import { shown } from '../../common/text.js';
import { decodeUtf8 } from './control.js';
import { FormatError } from './errors.js';

/** One member as the manifest lists it. */
export interface ManifestEntry {
  readonly name: string;
  /** Lower-case hex SHA-256 of the member's content. */
  readonly sha256: string;
  readonly size: number;
}

/** A parsed `_manifest`. */
export interface Manifest {
  readonly package: string;
  readonly version: string;
  readonly architecture: string;
  readonly members: readonly ManifestEntry[];
}

const HEADER = 'wmopkg-manifest: 1';
const ENTRY = /^([A-Za-z0-9_.+-]{1,64}) sha256:([0-9a-f]{64}) size:(0|[1-9][0-9]{0,15})$/;
const VALUE = /^[^\s]{1,256}$/;
/** A manifest is a few lines; anything larger is hostile. */
export const MAX_MANIFEST_BYTES = 16 * 1024;

/** Formats a manifest exactly as SPEC §5 shows it (UTF-8, LF, final LF). */
export function formatManifest(manifest: Manifest): string {
  const lines = [
    HEADER,
    `package: ${manifest.package}`,
    `version: ${manifest.version}`,
    `architecture: ${manifest.architecture}`,
    ...manifest.members.map((m) => `${m.name} sha256:${m.sha256} size:${m.size}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Parses a manifest strictly: the exact header, the three identity lines, then one line per member. */
export function parseManifest(bytes: Uint8Array): Manifest {
  const bad = (why: string): never => {
    throw new FormatError('WMOPKG_BAD_MANIFEST', `_manifest: ${why}`, { member: '_manifest' });
  };
  if (bytes.length > MAX_MANIFEST_BYTES) bad(`larger than ${MAX_MANIFEST_BYTES} bytes`);
  let text: string;
  try {
    text = decodeUtf8(bytes, '_manifest');
  } catch {
    return bad('not valid UTF-8');
  }
  if (!text.endsWith('\n')) bad('must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== HEADER) bad(`first line must be "${HEADER}"`);
  const identity = (index: number, key: string): string => {
    const line = lines[index];
    const prefix = `${key}: `;
    if (line === undefined || !line.startsWith(prefix)) bad(`line ${index + 1} must be "${key}: …"`);
    const value = line!.slice(prefix.length);
    if (!VALUE.test(value)) bad(`bad ${key} "${shown(value)}"`);
    return value;
  };
  const members: ManifestEntry[] = [];
  for (let i = 4; i < lines.length; i++) {
    const match = ENTRY.exec(lines[i]!);
    if (!match) bad(`line ${i + 1}: expected "MEMBER sha256:HEX size:N", got "${shown(lines[i]!)}"`);
    const size = Number(match![3]);
    if (!Number.isSafeInteger(size)) bad(`line ${i + 1}: size out of range`);
    members.push({ name: match![1]!, sha256: match![2]!, size });
  }
  return {
    package: identity(1, 'package'),
    version: identity(2, 'version'),
    architecture: identity(3, 'architecture'),
    members,
  };
}
