// The contract of the media resolver: labels from the boot configuration, drives, confined paths.

/** Bus a media label accepts. */
export type MediaBus = 'usb' | 'sd' | 'any';

/** A media label as the boot configuration holds it (`media LABEL [usb|sd|any] [fs-label X] [uuid U] [partition N]`). */
export interface MediaLabel {
  readonly name: string;
  readonly bus: MediaBus;
  readonly fsLabel?: string;
  readonly uuid?: string;
  /** 1-based partition number; absent means the first partition. */
  readonly partition?: number;
}

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
