// The media layer: finds the drive a label names, confines paths to its mount point, streams files from it.
import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { printable } from '../common/text.js';
import { confine } from './confine.js';
import { type DriveLister, listDrives, type MediaDrive } from './drives.js';
import { MediaError, mediaError } from './errors.js';
import { describeLabel } from './labels.js';
import { type Selection, selectMedia } from './select.js';
import { openMediaFile } from './stream.js';
import type { MediaFile, MediaLabel, MediaResolver, MediaStatus } from './types.js';

export type { DriveBus, DriveLister, DriveRole, MediaDrive, MediaPartition, SystemHints } from './drives.js';
export {
  compareDeviceNames,
  compareDrives,
  drivesFromLsblk,
  listDrives,
  SYSTEM_MOUNTPOINTS,
} from './drives.js';
export { MediaError, type MediaErrorCode } from './errors.js';
export {
  busWords,
  DEFAULT_MEDIA_LABELS,
  describeLabel,
  formatMediaLabel,
  formatMediaLabelArgs,
  isLabelName,
  MAX_PARTITION,
  MEDIA_BUSES,
  MEDIA_LABEL_KEYWORDS,
  parseMediaLabelArgs,
  validateMediaLabel,
} from './labels.js';
export { type Selection, selectMedia } from './select.js';
export type {
  MediaBus,
  MediaFile,
  MediaLabel,
  MediaOpenOptions,
  MediaResolver,
  MediaStatus,
} from './types.js';

/** Device name of the simulated USB stick in `show media`. */
export const SIM_USB_DEVICE = 'sim-usb0';
/** Filesystem label of the simulated USB stick (a valid FAT label: 11 characters at most, upper case). */
export const SIM_USB_FS_LABEL = 'SIM-USB0';
/** Filesystem uuid of the simulated USB stick, in the FAT volume-serial form lsblk prints. */
export const SIM_USB_UUID = 'ED6E-5B00';

/** Options of `createMediaResolver`. */
export interface MediaResolverOptions {
  /** Directory of the device's simulated USB stick (`<device>/media/usb0/`); present while it exists. */
  readonly usbStick?: string;
  /** Replaces the real drive list (lsblk through drivelist); the simulated stick is still added. */
  readonly lister?: DriveLister;
}

/**
 * The simulated stick as a drive: a USB "superfloppy" (filesystem on the whole device), listed after
 * every real drive so that a real stick plugged in wins `external`.
 */
export function simulatedStick(mountpoint: string): MediaDrive {
  return {
    device: SIM_USB_DEVICE,
    bus: 'usb',
    role: 'external',
    description: 'simulated USB stick',
    partitions: [
      { device: SIM_USB_DEVICE, number: 1, fsLabel: SIM_USB_FS_LABEL, uuid: SIM_USB_UUID, mountpoint },
    ],
  };
}

/**
 * The media resolver of the shell. Drives are listed afresh on every call (sticks come and go).
 * When the real list cannot be read, the simulated stick still works and "no device" reasons say why.
 */
export function createMediaResolver(options: MediaResolverOptions = {}): MediaResolver {
  const lister = options.lister ?? listDrives;
  const usbStick = options.usbStick === undefined ? undefined : resolvePath(options.usbStick);

  async function drives(): Promise<{ drives: MediaDrive[]; failure?: string }> {
    let real: readonly MediaDrive[] = [];
    let failure: string | undefined;
    try {
      real = await lister();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failure = printable(message.replace(/^media: /, ''));
    }
    const all = [...real];
    if (usbStick !== undefined && (await isDirectory(usbStick))) all.push(simulatedStick(usbStick));
    return failure === undefined ? { drives: all } : { drives: all, failure };
  }

  function status(label: MediaLabel, selection: Selection): MediaStatus {
    const matches = describeLabel(label);
    return selection.ok
      ? {
          label,
          matches,
          available: true,
          device: selection.partition.device,
          mountpoint: selection.partition.mountpoint,
        }
      : { label, matches, available: false, reason: selection.reason };
  }

  return {
    async list(labels) {
      const { drives: all, failure } = await drives();
      return labels.map((label) => status(label, selectMedia(label, all, failure)));
    },

    async resolve(labels, name, relPath) {
      const label = labels.find((l) => l.name === name);
      if (label === undefined) {
        const known = labels.map((l) => l.name).join(', ') || 'none';
        throw new MediaError(
          'MEDIA_UNKNOWN_LABEL',
          `media ${printable(name)}: no such media label (configured: ${known})`,
        );
      }
      const { drives: all, failure } = await drives();
      const selection = selectMedia(label, all, failure);
      if (!selection.ok) throw mediaError(selection.code, name, selection.reason);
      const { root, path } = await confine(name, selection.partition.mountpoint, relPath);
      return { label: name, device: selection.partition.device, mountpoint: root, path } satisfies MediaFile;
    },

    open(file, openOptions) {
      return openMediaFile(file, openOptions);
    },
  };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
