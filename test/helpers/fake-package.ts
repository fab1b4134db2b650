// The stand-in for a .wmopkg that the fake device reads: a JSON text (the real format is the device's business).
import type { Verification } from '../../firmware-sim/api.js';

/** What a fake package file holds. */
export interface FakePackage {
  readonly Package: string;
  readonly Version: string;
  readonly Description: string;
  readonly Architecture?: string;
  readonly Maintainer?: string;
  readonly Depends?: string;
  /** Verdict the fake device gives it. */
  readonly verification?: Verification;
  readonly keyNumber?: string;
  readonly reason?: string;
  readonly files?: number;
  /** The fake device fails with a plain `TypeError` (a bug, not a device error). */
  readonly crash?: boolean;
}

/** The bytes of a fake package file. */
export function fakePackage(pkg: FakePackage): string {
  return `${JSON.stringify(pkg)}\n`;
}

/** Compares two versions the opkg way, simplified: numeric runs as numbers, the rest as text. */
export function compareVersions(a: string, b: string): number {
  const split = (v: string): Array<string | number> =>
    (v.match(/[0-9]+|[^0-9]+/g) ?? []).map((p) => (/^[0-9]+$/.test(p) ? Number(p) : p));
  const pa = split(a);
  const pb = split(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}
