// A MediaResolver (media/types.ts) over in-memory drives, plus simple label parsing for the boot context.
import { Readable } from 'node:stream';
import type { MediaFile, MediaLabel, MediaResolver, MediaStatus } from '../../media/types.js';

/** The error the fake throws, shaped like the real `MediaError` (a `MEDIA_*` code). */
export class FakeMediaError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'MediaError';
    this.code = code;
  }
}

/** A connected drive: which labels it answers to, where it is mounted, its files. */
export interface FakeDrive {
  readonly device: string;
  readonly mountpoint: string;
  /** Label names that match this drive. */
  readonly labels: readonly string[];
  readonly files: Readonly<Record<string, string>>;
}

const BUS = { any: 'any external device', usb: 'usb device', sd: 'sd card' } as const;

/** What a label matches, in words (the real `describeLabel` says it the same way). */
export function describeLabel(label: MediaLabel): string {
  const parts: string[] = [BUS[label.bus]];
  if (label.fsLabel !== undefined) parts.push(`fs-label ${label.fsLabel}`);
  if (label.uuid !== undefined) parts.push(`uuid ${label.uuid}`);
  if (label.partition !== undefined) parts.push(`partition ${label.partition}`);
  else if (label.fsLabel === undefined && label.uuid === undefined) parts.push('first partition');
  return parts.join(', ');
}

/** The configuration line of a label, canonical order (the real `formatMediaLabel` says it the same way). */
export function formatMediaLabel(label: MediaLabel): string {
  const words = ['media', label.name, label.bus];
  if (label.fsLabel !== undefined) words.push('fs-label', label.fsLabel);
  if (label.uuid !== undefined) words.push('uuid', label.uuid);
  if (label.partition !== undefined) words.push('partition', String(label.partition));
  return words.join(' ');
}

/** Parses `LABEL [usb|sd|any] [fs-label X] [uuid U] [partition N]` in canonical form (as the shell passes it). */
export function parseMediaLabelArgs(tokens: readonly string[]): MediaLabel {
  const [name, ...rest] = tokens;
  if (name === undefined || ['usb', 'sd', 'any'].includes(name)) {
    throw new FakeMediaError('MEDIA_BAD_LABEL', `media: bad label name "${name ?? ''}"`);
  }
  const label: { -readonly [K in keyof MediaLabel]: MediaLabel[K] } = { name, bus: 'any' };
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === 'usb' || w === 'sd' || w === 'any') label.bus = w;
    else if (w === 'fs-label') label.fsLabel = rest[++i]!;
    else if (w === 'uuid') label.uuid = rest[++i]!;
    else if (w === 'partition') label.partition = Number(rest[++i]);
  }
  return label;
}

/** A resolver over the given drives. */
export function fakeMediaResolver(drives: readonly FakeDrive[]): MediaResolver {
  const driveFor = (label: string): FakeDrive | undefined => drives.find((d) => d.labels.includes(label));
  return {
    async list(labels): Promise<MediaStatus[]> {
      return labels.map((label) => {
        const d = driveFor(label.name);
        return d === undefined
          ? { label, matches: describeLabel(label), available: false, reason: 'no matching device connected' }
          : {
              label,
              matches: describeLabel(label),
              available: true,
              device: d.device,
              mountpoint: d.mountpoint,
            };
      });
    },
    async resolve(labels, label, relPath): Promise<MediaFile> {
      if (!labels.some((l) => l.name === label)) {
        throw new FakeMediaError(
          'MEDIA_UNKNOWN_LABEL',
          `media ${label}: no such label (boot show lists them)`,
        );
      }
      const d = driveFor(label);
      if (d === undefined)
        throw new FakeMediaError('MEDIA_NO_DEVICE', `media ${label}: no matching device connected`);
      if (relPath.startsWith('/') || relPath.split('/').includes('..')) {
        throw new FakeMediaError(
          'MEDIA_PATH_ESCAPE',
          `media ${label}: ${relPath}: the path must stay on the media`,
        );
      }
      if (d.files[relPath] === undefined)
        throw new FakeMediaError('MEDIA_NOT_FOUND', `media ${label}: ${relPath}: no such file`);
      return { label, device: d.device, mountpoint: d.mountpoint, path: `${d.mountpoint}/${relPath}` };
    },
    async open(file, options) {
      const d = driveFor(file.label)!;
      const data = Buffer.from(d.files[file.path.slice(d.mountpoint.length + 1)]!);
      options.onProgress?.({ bytes: data.length, total: data.length, elapsedMs: 1 });
      return {
        stream: Readable.from([data]),
        size: data.length,
        origin: { kind: 'media', label: file.label },
      };
    },
  };
}
