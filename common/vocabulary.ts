// The words every layer shares: protocol names, verification verdicts, media labels. Imports nothing.

/** Protocols the `install` command accepts after `proto`, in the manual's order. */
export const PROTOCOLS = ['ftp', 'tftp', 'scp', 'sftp', 'http', 'https'] as const;
/** One of `PROTOCOLS`. */
export type ProtoName = (typeof PROTOCOLS)[number];

/** Verdicts of verification (SPEC §4.3), in the order of trust. */
export const VERIFICATIONS = ['Signed', 'Untrusted', 'Unsigned', 'Invalid'] as const;
/** One of `VERIFICATIONS`. */
export type Verification = (typeof VERIFICATIONS)[number];

/** The buses a media label may name, in the order help lists them. */
export const MEDIA_BUSES = ['usb', 'sd', 'any'] as const;
/** Bus a media label accepts. */
export type MediaBus = (typeof MEDIA_BUSES)[number];

/** A media label as the boot configuration holds it (`media LABEL [usb|sd|any] [fs-label X] [uuid U] [partition N]`). */
export interface MediaLabel {
  readonly name: string;
  readonly bus: MediaBus;
  readonly fsLabel?: string;
  readonly uuid?: string;
  /** 1-based partition number; absent means the first partition. */
  readonly partition?: number;
}

/** The labels a factory-fresh device has: `external` = any external bus, first partition (SPEC §3.5). */
export const DEFAULT_MEDIA_LABELS: readonly MediaLabel[] = Object.freeze([
  Object.freeze({ name: 'external', bus: 'any' }),
]);
