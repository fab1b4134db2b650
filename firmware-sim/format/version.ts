// Debian/opkg version strings: parsing and the dpkg comparison (epoch:upstream-revision, `~` first).
import { shown } from '../../common/text.js';
import { FormatError } from './errors.js';

/** A version split the dpkg way. */
export interface Version {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

const UPSTREAM = /^[0-9][A-Za-z0-9.+~:-]*$/;
const REVISION = /^[A-Za-z0-9.+~]+$/;

/** Parses `[epoch:]upstream[-revision]`; throws `WMOPKG_BAD_VERSION` with what is wrong. */
export function parseVersion(text: string): Version {
  const bad = (why: string): never => {
    throw new FormatError('WMOPKG_BAD_VERSION', `bad version "${shown(text)}": ${why}`);
  };
  if (text.length === 0) bad('empty');
  if (text.length > 256) bad('longer than 256 characters');
  if (/\s/.test(text)) bad('contains white space');
  let rest = text;
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const epochText = rest.slice(0, colon);
    if (!/^[0-9]{1,9}$/.test(epochText)) bad('epoch is not a number');
    epoch = Number(epochText);
    rest = rest.slice(colon + 1);
  }
  let revision = '';
  const dash = rest.lastIndexOf('-');
  if (dash >= 0) {
    revision = rest.slice(dash + 1);
    rest = rest.slice(0, dash);
    if (!REVISION.test(revision)) bad('revision is empty or has characters other than A-Z a-z 0-9 . + ~');
  }
  if (!UPSTREAM.test(rest))
    bad('upstream version must start with a digit and use only A-Z a-z 0-9 . + ~ - :');
  return { epoch, upstream: rest, revision };
}

/** Orders two versions as dpkg and opkg do: negative if `a < b`, 0 if equal, positive if `a > b`. */
export function compareVersions(a: string | Version, b: string | Version): number {
  const va = typeof a === 'string' ? parseVersion(a) : a;
  const vb = typeof b === 'string' ? parseVersion(b) : b;
  if (va.epoch !== vb.epoch) return va.epoch < vb.epoch ? -1 : 1;
  return verrevcmp(va.upstream, vb.upstream) || verrevcmp(va.revision, vb.revision);
}

/** Sort weight of one non-digit character: `~` before the end of the string, letters before the rest. */
function order(code: number | undefined): number {
  if (code === undefined) return 0;
  if (code === 0x7e) return -1; // '~'
  if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) return code;
  return code + 256;
}

const isDigit = (code: number | undefined): boolean => code !== undefined && code >= 0x30 && code <= 0x39;

/** dpkg's verrevcmp: alternating non-digit and digit runs. */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = i < a.length && !isDigit(a.charCodeAt(i)) ? order(a.charCodeAt(i)) : 0;
      const bc = j < b.length && !isDigit(b.charCodeAt(j)) ? order(b.charCodeAt(j)) : 0;
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 0x30) i++;
    while (b.charCodeAt(j) === 0x30) j++;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}
