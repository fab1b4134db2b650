// Staged rollout: whether this device takes a version a feed offers to `Rollout: N` percent of devices.
import { createHash } from 'node:crypto';
import type { FeedPackageInfo } from '../api.js';

/**
 * Where a device falls for one version of one package, in [0, 100): the first 48 bits of
 * SHA-256(serial NUL package NUL version) as a fraction. It depends on nothing else, so it is the
 * same on every run; a device takes the version when its place is below the `Rollout` percentage,
 * so raising the percentage only ever adds devices. Each version draws anew: the devices that
 * test 2.1 are not always those that tested 2.0.
 */
export function rolloutPlace(serial: string, name: string, version: string): number {
  const digest = createHash('sha256').update(`${serial}\0${name}\0${version}`).digest();
  return (digest.readUIntBE(0, 6) / 2 ** 48) * 100;
}

/** Whether a device with this serial takes the version at `percent` (absent: every device). */
export function inRollout(
  serial: string,
  name: string,
  version: string,
  percent: number | undefined,
): boolean {
  if (percent === undefined || percent >= 100) return true;
  return rolloutPlace(serial, name, version) < percent;
}

/** `rollout 10 %` (as `plan` names a held version); decimals as given in the feed. */
function rolloutReason(percent: number): string {
  return `rollout ${percent} %`;
}

/** The resolver's hold hook for this device: versions outside its rollout are held back. */
export function rolloutHold(serial: string): (pkg: FeedPackageInfo) => string | undefined {
  return ({ name, version, rollout }) =>
    inRollout(serial, name, version, rollout) ? undefined : rolloutReason(rollout!);
}
