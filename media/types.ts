// The contract of the media resolver: labels from the boot configuration, drives, confined paths.

import type { MediaLabel } from '../common/vocabulary.js';
import type { Transfer, TransferProgress } from '../transports/types.js';

export type { MediaBus, MediaLabel } from '../common/vocabulary.js';

/** What `show media` prints for one label. */
export interface MediaStatus {
  readonly label: MediaLabel;
  /** What the label matches, in words: `any external device, partition 1`. */
  readonly matches: string;
  readonly available: boolean;
  /** Block device, e.g. `/dev/sdb1`, when available. */
  readonly device?: string;
  /** Mount point, when available. */
  readonly mountpoint?: string;
  /** Why it is not available: `no external device connected`, `/dev/sdb1 not mounted`. */
  readonly reason?: string;
}

/** A file on a media, resolved and confined to its mount point. */
export interface MediaFile {
  readonly label: string;
  readonly device: string;
  readonly mountpoint: string;
  /** Absolute path, guaranteed inside `mountpoint` (symlinks resolved). */
  readonly path: string;
}

/** Options for opening a file on a media; the stream obeys the same limits as a download. */
export interface MediaOpenOptions {
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: TransferProgress) => void;
}

/**
 * The media resolver as the shell uses it (implemented in `media/index.ts`, injectable for tests).
 * `labels` come from the boot configuration.
 */
export interface MediaResolver {
  /** One status per label, for `show media`. */
  list(labels: readonly MediaLabel[]): Promise<MediaStatus[]>;
  /** Resolves `relPath` on the media matched by `label`, confined to its mount point. */
  resolve(labels: readonly MediaLabel[], label: string, relPath: string): Promise<MediaFile>;
  /** Opens a resolved file as a transfer (`origin` = `media LABEL`). */
  open(file: MediaFile, options: MediaOpenOptions): Promise<Transfer>;
}
