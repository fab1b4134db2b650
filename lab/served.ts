// What the lab's servers serve: files by path, each with the misbehaviour it should show.

/** A file a test server serves, with the misbehaviour it should show. */
export interface ServedFile {
  readonly data: Buffer;
  /** Size to announce instead of `data.length` (a lying server). */
  readonly announce?: number;
  /** Close the connection after this many bytes. */
  readonly dropAfter?: number;
  /** Send this many bytes, then nothing (keep the connection open). */
  readonly stallAfter?: number;
  /** Repeat `data` without end (announce nothing). */
  readonly endless?: boolean;
}

/** Files by path as the client asks for them. */
export type Served = Readonly<Record<string, Buffer | ServedFile>>;

/**
 * The misbehaving files every transport is tried with, all over `data`: `drop.wmopkg` (the connection
 * closes after `dropAfter` bytes), `stall.wmopkg` (silence after `stallAfter` bytes), `liar.wmopkg`
 * (announces `liarAnnounces`, less than it sends), `huge.wmopkg` (announces 512 MiB, over every test
 * context's cap) and `endless.wmopkg` (never ends).
 */
export function faultyFiles(
  data: Buffer,
  at: { readonly dropAfter: number; readonly stallAfter: number; readonly liarAnnounces: number },
): Served {
  return {
    'drop.wmopkg': { data, dropAfter: at.dropAfter },
    'stall.wmopkg': { data, stallAfter: at.stallAfter },
    'liar.wmopkg': { data, announce: at.liarAnnounces },
    'huge.wmopkg': { data, announce: 512 * 1024 * 1024 },
    'endless.wmopkg': { data, endless: true },
  };
}

/** The served file at `path`, if any, with its faults. */
export function servedFile(files: Served, path: string): ServedFile | undefined {
  const key = path.replace(/^\/+/, '');
  const entry = files[key] ?? files[path];
  if (entry === undefined) return undefined;
  return Buffer.isBuffer(entry) ? { data: entry } : entry;
}
