// Bounds of one staging at boot: how long unpacking may take and how much of the storage it may fill.
import { statfs } from 'node:fs/promises';
import { formatBytes } from '../../common/bytes.js';
import { DeviceError } from '../errors.js';

/**
 * Storage an entry is counted for: file systems allocate whole blocks, and a directory takes one even
 * when empty (100,000 empty directories fill 400 MB of an ext4 disk with no data at all).
 */
const BLOCK = 4096;

/** What a budget is made of. */
export interface StageBounds {
  /** Seconds the unpacking may take (`limits.stageSeconds`). */
  readonly seconds: number;
  /** Free bytes of the storage when the staging starts. */
  readonly freeBytes: number;
  /** Bytes kept free for the device's own state (`limits.reserveBytes`): the stage may fill the rest. */
  readonly reserveBytes: number;
  /** The clock, in milliseconds (tests pass their own, so that the time bound is tried without waiting). */
  readonly now?: () => number;
}

/**
 * The time and space one staging may take. Unlike the limits of the package (entries, uncompressed
 * size, depth), which make a package unsafe whatever the device, these are the device's bounds of the
 * moment: exceeding one stops the unpacking with `DEVICE_STAGE_LIMIT`, the package is not activated at
 * this boot, and its verdict stands.
 */
export class StageBudget {
  private readonly now: () => number;
  private readonly deadline: number;
  private used = 0;

  constructor(private readonly bounds: StageBounds) {
    this.now = bounds.now ?? Date.now;
    this.deadline = this.now() + bounds.seconds * 1000;
  }

  /** Counts the storage of one entry before it is written; throws when the stage would outgrow the space. */
  charge(type: 'directory' | 'file' | 'symlink' | 'link', size: number): void {
    if (type === 'directory') this.used += BLOCK;
    else if (type === 'file') this.used += Math.ceil(size / BLOCK) * BLOCK;
    const { freeBytes, reserveBytes } = this.bounds;
    if (this.used > freeBytes - reserveBytes) {
      throw new DeviceError(
        'DEVICE_STAGE_LIMIT',
        `unpacking stopped: it needs more than the ${formatBytes(freeBytes)} free on the device storage less the ${formatBytes(reserveBytes)} kept in reserve (limits.reserveBytes); free some space and boot again`,
      );
    }
    this.tick();
  }

  /** Checks the clock; called per entry and per inflated chunk (one huge file is a single entry). */
  tick(): void {
    if (this.now() <= this.deadline) return;
    throw new DeviceError(
      'DEVICE_STAGE_LIMIT',
      `unpacking stopped after ${this.bounds.seconds} s (limits.stageSeconds); tried again at the next boot`,
    );
  }
}

/** Bytes free to this user on the storage holding `dir`. */
export async function freeSpace(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}
