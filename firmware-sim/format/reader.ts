// The streaming .wmopkg reader: one pass over the bytes, every member hashed as it passes.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { AR_MAGIC, type ArHandler, type ArHeader, ArParser } from './ar.js';
import { type ControlFile, parseControl, validateControl } from './control.js';
import { FormatError } from './errors.js';
import { GzipTarParser, tarStream } from './gzip-tar.js';
import { MAX_MANIFEST_BYTES, type Manifest, parseManifest } from './manifest.js';
import { parseSignature, type Signature } from './signify.js';

/** Members of a package, by role. */
export const MEMBER = {
  version: 'debian-binary',
  control: 'control.tar.gz',
  data: 'data.tar.gz',
  manifest: '_manifest',
  signature: '_manifest.sig',
} as const;

/** Limits that stop a hostile package early. */
export interface FormatLimits {
  /** Uncompressed control archive (SPEC: 1 MiB). */
  readonly controlBytes: number;
  /** The whole package file (the device's configured maximum). */
  readonly packageBytes: number;
}

/** Defaults: 1 MiB of control; the package size is the caller's to limit. */
export const DEFAULT_LIMITS: FormatLimits = {
  controlBytes: 1024 * 1024,
  packageBytes: Number.MAX_SAFE_INTEGER,
};

/** How the members are wrapped: an `ar` archive (dpkg, opkg-build) or OpenWrt's outer tar.gz. */
export type Layout = 'ar' | 'tar.gz';

/** One member as it was read. */
export interface MemberInfo {
  readonly name: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the content. */
  readonly sha256: string;
  /** Offset of the content in the file (ar layout only). */
  readonly offset?: number;
}

/** Everything a single pass over a package learns. Nothing here is trusted until `verifyPackage`. */
export interface PackageReading {
  readonly layout: Layout;
  /** Members in archive order. */
  readonly members: readonly MemberInfo[];
  readonly control: ControlFile;
  /** Files of the control archive by name without `./` (`control`, `postinst`, `md5sums`, …). */
  readonly controlFiles: ReadonlyMap<string, Buffer>;
  readonly manifest?: { readonly parsed: Manifest; readonly bytes: Buffer };
  readonly signature?: { readonly parsed: Signature; readonly bytes: Buffer };
  /** Bytes read. */
  readonly size: number;
}

/** Options of a read. */
export interface ReadOptions {
  readonly limits?: Partial<FormatLimits>;
  /**
   * Receives the compressed bytes of `data.tar.gz` as they pass (for unpacking or listing); a returned
   * promise holds the reading back until it settles.
   */
  readonly onData?: (chunk: Buffer) => void | Promise<void>;
  /** Called once the data member is complete (after its last `onData`). */
  readonly onDataEnd?: () => void | Promise<void>;
  /**
   * For `readPackageFile`: resolves once every chunk given to `onData` so far has been read by whoever
   * keeps it (the unpacker's zlib: `SafeUnpacker.consumed`). Given, `onData` receives the read buffer
   * itself, which is read into again only after this resolves; without it, a copy of each chunk.
   */
  readonly dataConsumed?: () => Promise<void>;
  /**
   * The hash of data.tar.gz, given its size from the member header, where it is not node:crypto's on
   * this thread (the install hashes a large one on another core); `undefined` keeps the default.
   */
  readonly dataHash?: (size: number) => MemberHash | undefined;
}

/** A SHA-256 in progress over one member. */
export interface MemberHash {
  /** Takes the next chunk; a returned promise asks the caller to wait before the next one. */
  update(chunk: Buffer): void | Promise<void>;
  /** The lower-case hex digest, once every chunk is in. */
  digest(): string | Promise<string>;
}

/** node:crypto's SHA-256 on this thread. */
function localHash(): MemberHash {
  const hash = createHash('sha256');
  return {
    update: (chunk) => {
      hash.update(chunk);
    },
    digest: () => hash.digest('hex'),
  };
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);
const OTHER_COMPRESSIONS: ReadonlyArray<[string, Buffer]> = [
  ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  ['zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
  ['bzip2', Buffer.from('BZh')],
];
/** Small members are kept whole; the byte caps stop a hostile size before it is read. */
const MAX_SMALL_MEMBER: Record<string, number> = {
  [MEMBER.version]: 64,
  [MEMBER.manifest]: MAX_MANIFEST_BYTES,
  [MEMBER.signature]: 4096,
};
const MAX_CONTROL_ENTRIES = 64;

/**
 * Reads a package pushed in chunks. Call `write` for every chunk (await it), then `end`.
 * Errors are `FormatError`s naming the member and offset. A chunk may be reused by the caller once
 * its `write` has settled: the reader copies what it keeps (`onData` gets the chunk as given; a
 * `dataHash` of the caller's may hold it longer, as that caller knows).
 */
export class PackageReader {
  private readonly limits: FormatLimits;
  private layout: Layout | undefined;
  private readonly head: Buffer[] = [];
  private headLength = 0;
  private ar: ArParser | undefined;
  private outer: OuterTarGz | undefined;
  private readonly members: MemberSink;
  private total = 0;

  constructor(options: ReadOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.members = new MemberSink(options, this.limits);
  }

  /** Pushes the next chunk. */
  async write(chunk: Buffer): Promise<void> {
    this.total += chunk.length;
    if (this.total > this.limits.packageBytes) {
      throw new FormatError(
        'WMOPKG_TOO_LARGE',
        `package larger than the limit of ${this.limits.packageBytes} bytes`,
      );
    }
    if (this.layout === undefined && this.headLength === 0 && chunk.length >= AR_MAGIC.length) {
      // The usual case: the first chunk holds the magic and is parsed as it is. (It was copied twice,
      // into fresh memory: 2 MiB per package file read, 200 MiB for a boot of 100 packages.)
      this.start(chunk);
    } else if (this.layout === undefined) {
      // Decide the layout on the first bytes: `!<arch>\n` or the gzip magic.
      this.head.push(Buffer.from(chunk));
      this.headLength += chunk.length;
      if (this.headLength < AR_MAGIC.length) return;
      const first = Buffer.concat(this.head);
      this.head.length = 0;
      this.start(first);
      chunk = first;
    }
    if (this.ar) await this.ar.write(chunk);
    else await this.outer!.write(chunk);
  }

  /** Ends the input and returns what was read, after every structural check. */
  async end(): Promise<PackageReading> {
    if (this.layout === undefined) this.start(Buffer.concat(this.head));
    if (this.ar) {
      if (this.headLength > 0 && this.ar.position === 0) await this.ar.write(Buffer.concat(this.head));
      this.ar.end();
    } else {
      await this.outer!.end();
    }
    return { layout: this.layout!, ...this.members.result(), size: this.total };
  }

  private start(first: Buffer): void {
    if (first.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC)) {
      this.layout = 'tar.gz';
      this.outer = new OuterTarGz(this.members, this.limits);
    } else {
      this.layout = 'ar';
      this.ar = new ArParser(this.members);
      if (first.length < AR_MAGIC.length && first.length > 0) {
        // Too short to be anything: let the ar parser report it.
        this.head.push(first);
      }
    }
  }
}

/** Reads a whole stream (a download, a file stream) as a package. */
export async function readPackage(
  input: AsyncIterable<Uint8Array>,
  options: ReadOptions = {},
): Promise<PackageReading> {
  const reader = new PackageReader(options);
  for await (const chunk of input) await reader.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return reader.end();
}

/** Read size for package files: large reads keep the hash, not the system calls, the limit. */
const FILE_CHUNK = 1024 * 1024;

/**
 * Read buffers of finished `readPackageFile` calls, kept for the next one (at most one pair, 2 MiB): a
 * boot reads every stored package in turn, and two fresh 1 MiB buffers per file cost page faults and
 * garbage collections (100 packages: 200 MiB of new memory to fault in and collect).
 */
const spareBuffers: Buffer[] = [];

function takeReadBuffer(): Buffer {
  return spareBuffers.pop() ?? Buffer.allocUnsafeSlow(FILE_CHUNK);
}

/**
 * Reads a package file through one descriptor with two alternating buffers: the next read runs
 * while the current chunk is hashed, and memory stays flat whatever the size (`onData` receives
 * copies, since it may keep them).
 */
export async function readPackageFile(path: string, options: ReadOptions = {}): Promise<PackageReading> {
  const handle = await open(path, 'r');
  try {
    const { dataConsumed } = options;
    const reader = new PackageReader(dataConsumed ? options : copyingData(options));
    let current = takeReadBuffer();
    let spare = takeReadBuffer();
    let position = 0;
    let pending = handle.read(current, 0, FILE_CHUNK, position);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      position += bytesRead;
      // `spare` held the chunk before this one: whoever got it uncopied must be done with it.
      if (dataConsumed) await dataConsumed();
      pending = handle.read(spare, 0, FILE_CHUNK, position);
      try {
        await reader.write(current.subarray(0, bytesRead));
      } catch (error) {
        await pending.catch(() => {});
        throw error;
      }
      [current, spare] = [spare, current];
    }
    const reading = await reader.end();
    // No read is in flight, the reader keeps copies only, and the end of the data member was awaited
    // by `onDataEnd` (or `dataConsumed` is): the buffers may serve the next file.
    if (dataConsumed) await dataConsumed();
    if (spareBuffers.length === 0) spareBuffers.push(current, spare);
    return reading;
  } finally {
    await handle.close();
  }
}

/**
 * `readPackageFile` with blocking reads into one buffer, for a worker thread that does nothing else
 * (the boot's verification, boot/verify-worker.ts). There a read handed to libuv's pool gains
 * nothing: the pool thread copies the chunk on one core and this thread hashes it on the other, and
 * the two lanes of a boot then need 15-20 % more CPU than two threads that each read and hash their
 * own file (1 GiB of packages: 0.54-0.58 s against 0.46-0.50 s on two cores).
 */
export async function readPackageFileBlocking(
  path: string,
  options: ReadOptions = {},
): Promise<PackageReading> {
  const fd = openSync(path, 'r');
  try {
    const reader = new PackageReader(copyingData(options));
    const buffer = takeReadBuffer();
    for (let read = readSync(fd, buffer, 0, FILE_CHUNK, null); read > 0; ) {
      await reader.write(buffer.subarray(0, read));
      read = readSync(fd, buffer, 0, FILE_CHUNK, null);
    }
    const reading = await reader.end();
    // The reader keeps copies only, and an outer tar.gz (OpenWrt's layout) may hold the last chunk in
    // its gunzip until the end: only now may the buffer serve another read.
    if (spareBuffers.length < 2) spareBuffers.push(buffer);
    return reading;
  } finally {
    closeSync(fd);
  }
}

/** `options` whose `onData` receives copies of the read buffer's chunks, since it may keep them. */
function copyingData(options: ReadOptions): ReadOptions {
  const { onData } = options;
  return onData ? { ...options, onData: (chunk) => onData(Buffer.from(chunk)) } : options;
}

/** Collects, hashes and checks members in the order rules of SPEC §5, for either layout. */
class MemberSink implements ArHandler {
  private readonly infos: MemberInfo[] = [];
  private readonly seen = new Set<string>();
  private current:
    | { header: ArHeader; hash: MemberHash; parts: Buffer[] | undefined; checked: boolean }
    | undefined;
  private control: { control: ControlFile; files: Map<string, Buffer> } | undefined;
  private manifest: { parsed: Manifest; bytes: Buffer } | undefined;
  private signature: { parsed: Signature; bytes: Buffer } | undefined;

  constructor(
    private readonly options: ReadOptions,
    private readonly limits: FormatLimits,
  ) {}

  complete(): boolean {
    return this.seen.has(MEMBER.signature);
  }

  satisfied(): boolean {
    return this.seen.has(MEMBER.control) && this.seen.has(MEMBER.data);
  }

  begin(header: ArHeader): void {
    const { name, size } = header;
    const place = { member: name, offset: header.offset };
    const known = (Object.values(MEMBER) as string[]).includes(name);
    if (!known) {
      const compressed = /^(control|data)\.tar(\.(xz|zst|bz2|lzma))?$/.exec(name);
      if (compressed) {
        throw new FormatError(
          'WMOPKG_UNSUPPORTED_COMPRESSION',
          `${name}: only gzip compression is supported (${compressed[1]}.tar.gz)`,
          place,
        );
      }
      throw new FormatError('WMOPKG_BAD_MEMBER', `unknown member "${name}"`, place);
    }
    if (this.seen.has(name))
      throw new FormatError('WMOPKG_DUPLICATE_MEMBER', `duplicate member ${name}`, place);
    this.checkOrder(name, place);
    this.seen.add(name);
    if (size === 0) throw new FormatError('WMOPKG_EMPTY_MEMBER', `member ${name} is empty`, place);
    const cap =
      name === MEMBER.control
        ? this.limits.controlBytes + 64 * 1024
        : (MAX_SMALL_MEMBER[name] ?? this.limits.packageBytes);
    if (size > cap) {
      throw new FormatError(
        'WMOPKG_TOO_LARGE',
        `member ${name} is ${size} bytes, more than the limit of ${cap}`,
        place,
      );
    }
    this.current = {
      header,
      hash: (name === MEMBER.data ? this.options.dataHash?.(size) : undefined) ?? localHash(),
      parts: name === MEMBER.data ? undefined : [],
      checked: false,
    };
  }

  async data(chunk: Buffer): Promise<void> {
    const current = this.current!;
    const full = current.hash.update(chunk);
    if (full) await full;
    if (current.parts) {
      // Copied: the caller may reuse the chunk's memory once this call returns.
      current.parts.push(Buffer.from(chunk));
      return;
    }
    if (!current.checked) {
      current.checked = true;
      checkGzipMagic(chunk, current.header);
    }
    if (this.options.onData) await this.options.onData(chunk);
  }

  async end(header: ArHeader): Promise<void> {
    const current = this.current!;
    this.current = undefined;
    const info: MemberInfo = { name: header.name, size: header.size, sha256: await current.hash.digest() };
    this.infos.push(header.offset >= 0 ? { ...info, offset: header.dataOffset } : info);
    const place =
      header.offset >= 0 ? { member: header.name, offset: header.dataOffset } : { member: header.name };
    const content = current.parts ? Buffer.concat(current.parts) : undefined;
    switch (header.name) {
      case MEMBER.version:
        if (content!.toString('latin1') !== '2.0\n') {
          throw new FormatError('WMOPKG_BAD_VERSION_MEMBER', 'debian-binary must be "2.0"', place);
        }
        break;
      case MEMBER.control:
        this.control = await readControlArchive(content!, this.limits.controlBytes, place);
        break;
      case MEMBER.data:
        if (this.options.onDataEnd) await this.options.onDataEnd();
        break;
      case MEMBER.manifest:
        this.manifest = { parsed: parseManifest(content!), bytes: content! };
        break;
      case MEMBER.signature:
        this.signature = { parsed: parseSignature(content!), bytes: content! };
        break;
    }
  }

  /** debian-binary first; control and data in either order; then `_manifest`, then `_manifest.sig`. */
  private checkOrder(name: string, place: { member: string; offset: number }): void {
    const misplaced = (why: string): never => {
      throw new FormatError('WMOPKG_MEMBER_ORDER', `member ${name} out of order: ${why}`, place);
    };
    if (this.seen.size === 0 && name !== MEMBER.version) misplaced('debian-binary must come first');
    if (name === MEMBER.manifest && !this.satisfied()) misplaced('_manifest must follow control and data');
    if (name === MEMBER.signature && !this.seen.has(MEMBER.manifest))
      misplaced('_manifest.sig must follow _manifest');
    if ((name === MEMBER.control || name === MEMBER.data) && this.seen.has(MEMBER.manifest)) {
      misplaced('control and data must come before _manifest');
    }
  }

  result(): Pick<PackageReading, 'members' | 'control' | 'controlFiles' | 'manifest' | 'signature'> {
    for (const name of [MEMBER.version, MEMBER.control, MEMBER.data]) {
      if (!this.seen.has(name)) throw new FormatError('WMOPKG_MISSING_MEMBER', `missing member ${name}`);
    }
    const reading = {
      members: this.infos,
      control: this.control!.control,
      controlFiles: this.control!.files,
    };
    return {
      ...reading,
      ...(this.manifest ? { manifest: this.manifest } : {}),
      ...(this.signature ? { signature: this.signature } : {}),
    };
  }
}

function checkGzipMagic(chunk: Buffer, header: ArHeader): void {
  const place =
    header.offset >= 0 ? { member: header.name, offset: header.dataOffset } : { member: header.name };
  if (chunk.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC.subarray(0, Math.min(chunk.length, 3)))) return;
  const other = OTHER_COMPRESSIONS.find(([, magic]) => chunk.subarray(0, magic.length).equals(magic));
  if (other) {
    throw new FormatError(
      'WMOPKG_UNSUPPORTED_COMPRESSION',
      `${header.name} is ${other[0]}-compressed: only gzip is supported`,
      place,
    );
  }
  throw new FormatError('WMOPKG_CORRUPT', `${header.name} is not gzip data`, place);
}

/** Unpacks the control archive in memory, within the limit; only flat regular files are allowed. */
async function readControlArchive(
  compressed: Buffer,
  limit: number,
  place: { member: string; offset?: number },
): Promise<{ control: ControlFile; files: Map<string, Buffer> }> {
  checkGzipMagic(compressed, { name: MEMBER.control, size: compressed.length, offset: -1, dataOffset: -1 });
  let tar: Buffer;
  try {
    tar = gunzipSync(compressed, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new FormatError(
        'WMOPKG_TOO_LARGE',
        `control archive larger than ${limit} bytes uncompressed`,
        place,
      );
    }
    throw new FormatError(
      'WMOPKG_CORRUPT',
      `control.tar.gz: corrupt gzip data (${(error as Error).message})`,
      place,
    );
  }
  const files = new Map<string, Buffer>();
  const bad = (why: string): never => {
    throw new FormatError('WMOPKG_BAD_CONTROL', `control.tar.gz: ${why}`, place);
  };
  const extract = tarStream().extract();
  const done = (async () => {
    for await (const entry of extract) {
      const { header } = entry;
      const parts: Buffer[] = [];
      for await (const chunk of entry) parts.push(chunk as Buffer);
      const name = header.name.replace(/^\.\//, '').replace(/\/$/, '');
      if (name === '' || name === '.') {
        if (header.type !== 'directory') bad(`unexpected entry "${header.name}"`);
        continue;
      }
      if (header.type !== 'file') bad(`unexpected ${header.type} "${name}" (only regular files are allowed)`);
      if (!/^[A-Za-z0-9_.+-]+$/.test(name)) bad(`unexpected file name "${name.replace(/[^ -~]/g, '?')}"`);
      if (files.has(name)) bad(`duplicate file "${name}"`);
      if (files.size >= MAX_CONTROL_ENTRIES) bad(`more than ${MAX_CONTROL_ENTRIES} files`);
      files.set(name, Buffer.concat(parts));
    }
  })();
  extract.end(tar);
  try {
    await done;
  } catch (error) {
    if (error instanceof FormatError) throw error;
    throw new FormatError('WMOPKG_CORRUPT', `control.tar.gz: ${(error as Error).message}`, place);
  }
  const text = files.get('control');
  if (text === undefined) bad('no ./control file');
  const control = parseControl(text!);
  validateControl(control);
  return { control, files };
}

/**
 * OpenWrt's ipk layout: a gzip-compressed tar holding `./debian-binary`, `./data.tar.gz`,
 * `./control.tar.gz`. Members go to the same sink as the ar layout.
 */
class OuterTarGz extends GzipTarParser {
  constructor(sink: MemberSink, limits: FormatLimits) {
    super(
      'outer tar.gz',
      async (header, body) => {
        const name = header.name.replace(/^\.\//, '').replace(/\/$/, '');
        if (header.type === 'directory' && (name === '' || name === '.')) {
          for await (const _ of body) void _;
          return;
        }
        if (header.type !== 'file') {
          throw new FormatError('WMOPKG_BAD_MEMBER', `outer tar: unexpected ${header.type} "${name}"`);
        }
        const arHeader = { name, size: header.size ?? 0, offset: -1, dataOffset: -1 };
        sink.begin(arHeader);
        for await (const chunk of body) await sink.data(chunk);
        await sink.end(arHeader);
      },
      { maxBytes: limits.packageBytes, maxEntries: 16 },
    );
  }
}
