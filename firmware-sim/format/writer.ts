// The .wmopkg writer: control and data archives, the ar container in dpkg order, manifest and signature.
import { createHash } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { tempPathFor, writeFileAtomic } from '../../common/atomic.js';
import { arHeader } from './ar.js';
import { type ControlFile, formatControl, parseControl, validateControl } from './control.js';
import { FormatError } from './errors.js';
import { tarStream } from './gzip-tar.js';
import { formatManifest, type Manifest } from './manifest.js';
import { MEMBER, type PackageReading, readPackageFile } from './reader.js';
import { formatSignature, type SecretKey, signMessage } from './signify.js';

/** One entry of a data archive. Paths are relative to `/` (`usr/bin/hello` or `./usr/bin/hello`). */
export interface DataEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly uname?: string;
  readonly gname?: string;
  /** Seconds since the epoch. */
  readonly mtime?: number;
  /** Content of a file, in memory. */
  readonly content?: Uint8Array | string;
  /** Content of a file, streamed from this path (with `size`). */
  readonly source?: string;
  readonly size?: number;
  /** Target of a symlink or hard link. */
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
}

/** A file of the control archive besides `control` (`postinst`, `conffiles`, …). */
export interface ControlMember {
  readonly name: string;
  readonly content: Uint8Array | string;
  readonly mode?: number;
}

/** How the members are put together. `wmopkg` is the product; the others exist for compatibility and tests. */
export type WriteLayout =
  /** debian-binary, control, data, _manifest[, _manifest.sig] */
  | 'wmopkg'
  /** debian-binary, control, data: what dpkg-deb and opkg-build make */
  | 'deb'
  /** debian-binary, data, control: the order of old ipkg-build */
  | 'ipk-old-order'
  /** OpenWrt: a tar.gz of ./debian-binary, ./data.tar.gz, ./control.tar.gz */
  | 'ipk-tar-gz';

/** Everything needed to write a package. */
export interface PackageSpec {
  /** The control paragraph: fields in order, text, or a parsed file. Validated unless `unchecked`. */
  readonly control: ControlFile | ReadonlyArray<readonly [string, string]> | string;
  readonly controlMembers?: readonly ControlMember[];
  /** Data entries in the order they go into the archive. */
  readonly data: Iterable<DataEntry> | AsyncIterable<DataEntry>;
  /** Seconds since the epoch for ar members and archive entries without their own mtime. */
  readonly mtime: number;
  /** Signs the manifest (layout `wmopkg` only). */
  readonly sign?: SecretKey;
  readonly layout?: WriteLayout;
  /** gzip level of data.tar.gz (default 6; 1 is much faster for large test fixtures). */
  readonly gzipLevel?: number;
  /** Skip control validation (tests that need a broken control file). */
  readonly unchecked?: boolean;
}

/** What was written. */
export interface WrittenPackage {
  readonly path: string;
  readonly size: number;
  readonly control: ControlFile;
  readonly manifest?: Manifest;
}

/** Writes a package atomically to `path` (temporary file in the same directory, fsync, rename). */
export async function writePackage(spec: PackageSpec, path: string): Promise<WrittenPackage> {
  const control = toControl(spec.control, spec.unchecked === true);
  await checkWritableDirectory(path);
  const layout = spec.layout ?? 'wmopkg';
  const tmpData = tempPathFor(path, 'data');
  try {
    const data = await writeDataArchive(spec.data, spec.mtime, spec.gzipLevel ?? 6, tmpData);
    const controlArchive = await buildControlArchive(control, spec.controlMembers ?? [], spec.mtime);
    const members: Member[] = [
      memberOf(MEMBER.version, Buffer.from('2.0\n')),
      memberOf(MEMBER.control, controlArchive),
      { name: MEMBER.data, size: data.size, sha256: data.sha256, path: tmpData },
    ];
    if (layout === 'ipk-old-order' || layout === 'ipk-tar-gz') members.push(members.splice(1, 1)[0]!);
    let manifest: Manifest | undefined;
    if (layout === 'wmopkg') {
      manifest = manifestOf(control, members);
      const manifestBytes = Buffer.from(formatManifest(manifest));
      members.push(memberOf(MEMBER.manifest, manifestBytes));
      if (spec.sign) {
        const signature = signMessage(manifestBytes, spec.sign);
        members.push(memberOf(MEMBER.signature, Buffer.from(formatSignature(signature))));
      }
    } else if (spec.sign) {
      throw new FormatError('WMOPKG_BUILD', `layout ${layout} cannot be signed`);
    }
    const size =
      layout === 'ipk-tar-gz'
        ? await writeOuterTarGz(members, spec.mtime, path)
        : await writeAr(members, spec.mtime, path);
    return { path, size, control, ...(manifest ? { manifest } : {}) };
  } finally {
    await rm(tmpData, { force: true });
  }
}

/**
 * Signs an existing package (ar layout): copies debian-binary, control and data as they are, and
 * writes a fresh `_manifest` and `_manifest.sig` (replacing any). Atomic; `out` defaults to `path`.
 */
export async function signPackageFile(path: string, key: SecretKey, out = path): Promise<PackageReading> {
  await checkWritableDirectory(out);
  const reading = await readPackageFile(path);
  if (reading.layout !== 'ar') {
    throw new FormatError(
      'WMOPKG_BUILD',
      'only ar-layout packages can be signed (rebuild it with wmopkg build)',
    );
  }
  const members: Member[] = reading.members
    .filter((m) => m.name !== MEMBER.manifest && m.name !== MEMBER.signature)
    .map((m) => ({ name: m.name, size: m.size, sha256: m.sha256, path, start: m.offset! }));
  const manifestBytes = Buffer.from(formatManifest(manifestOf(reading.control, members)));
  members.push(memberOf(MEMBER.manifest, manifestBytes));
  members.push(memberOf(MEMBER.signature, Buffer.from(formatSignature(signMessage(manifestBytes, key)))));
  await writeAr(members, Math.floor(Date.now() / 1000), out);
  return reading;
}

/**
 * The output goes through temporary files beside it: say early, and about the output itself,
 * when its directory cannot take them.
 */
async function checkWritableDirectory(path: string): Promise<void> {
  const dir = dirname(path);
  const problem = await stat(dir).then(
    (s) =>
      s.isDirectory()
        ? access(dir, constants.W_OK).then(
            () => undefined,
            () => 'permission denied',
          )
        : 'not a directory',
    () => 'no such directory',
  );
  if (problem) throw new FormatError('WMOPKG_BUILD', `cannot write ${path}: ${dir}: ${problem}`);
}

/** A member to write: in memory, or a byte range of a file. */
interface Member {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly content?: Buffer;
  readonly path?: string;
  readonly start?: number;
}

function memberOf(name: string, content: Buffer): Member {
  return { name, size: content.length, sha256: createHash('sha256').update(content).digest('hex'), content };
}

function manifestOf(control: ControlFile, members: readonly Member[]): Manifest {
  return {
    package: control.package,
    version: control.version,
    architecture: control.architecture,
    members: members.map(({ name, sha256, size }) => ({ name, sha256, size })),
  };
}

function toControl(control: PackageSpec['control'], unchecked: boolean): ControlFile {
  const parsed =
    typeof control === 'string'
      ? parseControl(control)
      : 'fields' in control
        ? control
        : parseControl(formatControl(control));
  if (!unchecked) validateControl(parsed);
  return parsed;
}

/** Writes members as an ar archive, atomically. Returns the size. */
async function writeAr(members: readonly Member[], mtime: number, path: string): Promise<number> {
  const size = await writeFileAtomic(path, async (out) => {
    let size = 0;
    const put = async (chunk: Buffer) => {
      size += chunk.length;
      if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
    };
    await put(Buffer.from('!<arch>\n'));
    for (const member of members) {
      await put(arHeader(member.name, member.size, mtime));
      for await (const chunk of memberContent(member)) await put(chunk);
      if (member.size % 2 === 1) await put(Buffer.from('\n'));
    }
    return size;
  });
  return size!;
}

/** OpenWrt's layout: gzip(tar(./debian-binary, ./data.tar.gz, ./control.tar.gz)). */
async function writeOuterTarGz(members: readonly Member[], mtime: number, path: string): Promise<number> {
  const pack = tarStream().pack();
  const size = await writeFileAtomic(path, async (out) => {
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const done = pipeline(pack, createGzip(), counter, out, { end: false });
    for (const member of members) {
      const entry = pack.entry({
        name: `./${member.name}`,
        size: member.size,
        mode: 0o644,
        mtime: new Date(mtime * 1000),
      });
      await pipeline(Readable.from(memberContent(member)), entry as unknown as Writable);
    }
    pack.finalize();
    await done;
    return size;
  });
  return size!;
}

async function* memberContent(member: Member): AsyncGenerator<Buffer> {
  if (member.content) {
    yield member.content;
    return;
  }
  const start = member.start ?? 0;
  if (member.size === 0) return;
  yield* createReadStream(member.path!, { start, end: start + member.size - 1, highWaterMark: 1024 * 1024 });
}

/** Writes data.tar.gz to `path`, hashing the compressed bytes as they go. */
async function writeDataArchive(
  entries: Iterable<DataEntry> | AsyncIterable<DataEntry>,
  mtime: number,
  level: number,
  path: string,
): Promise<{ size: number; sha256: string }> {
  const pack = tarStream().pack();
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const done = pipeline(
    pack,
    createGzip({ level, chunkSize: 256 * 1024 }),
    tap,
    createWriteStream(path, { highWaterMark: 1024 * 1024 }),
  );
  // Write entries while the pipeline drains, so that a failed write stops the loop.
  const writing = (async () => {
    for await (const entry of entries) await addEntry(pack, entry, mtime);
    pack.finalize();
  })();
  await Promise.all([
    writing.catch((error: Error) => {
      pack.destroy(error);
      throw error;
    }),
    done,
  ]);
  return { size, sha256: hash.digest('hex') };
}

async function addEntry(pack: import('tar-stream').Pack, entry: DataEntry, mtime: number): Promise<void> {
  const name = entry.type === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  const header = {
    name,
    type: entry.type,
    mode: entry.mode ?? (entry.type === 'directory' ? 0o755 : entry.type === 'symlink' ? 0o777 : 0o644),
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    uname: entry.uname ?? '',
    gname: entry.gname ?? '',
    mtime: new Date((entry.mtime ?? mtime) * 1000),
    ...(entry.linkname === undefined ? {} : { linkname: entry.linkname }),
    ...(entry.devmajor === undefined ? {} : { devmajor: entry.devmajor, devminor: entry.devminor ?? 0 }),
  };
  if (entry.type !== 'file') {
    await new Promise<void>((resolve, reject) =>
      pack.entry(header, (error) => (error ? reject(error) : resolve())),
    );
    return;
  }
  if (entry.source !== undefined) {
    const sink = pack.entry({ ...header, size: entry.size ?? 0 }) as unknown as Writable;
    await pipeline(createReadStream(entry.source, { highWaterMark: 1024 * 1024 }), sink);
    return;
  }
  const content =
    typeof entry.content === 'string' ? Buffer.from(entry.content) : Buffer.from(entry.content ?? []);
  await new Promise<void>((resolve, reject) =>
    pack.entry({ ...header, size: content.length }, content, (error) => (error ? reject(error) : resolve())),
  );
}

/** control.tar.gz in memory: `./`, `./control`, then the other files sorted, root-owned, fixed mtime. */
async function buildControlArchive(
  control: ControlFile,
  others: readonly ControlMember[],
  mtime: number,
): Promise<Buffer> {
  const pack = tarStream().pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  const add = (name: string, content: Buffer | undefined, mode: number) =>
    new Promise<void>((resolve, reject) => {
      const header = {
        name,
        type: content === undefined ? ('directory' as const) : ('file' as const),
        mode,
        uid: 0,
        gid: 0,
        mtime: new Date(mtime * 1000),
      };
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      if (content === undefined) pack.entry(header, done);
      else pack.entry({ ...header, size: content.length }, content, done);
    });
  await add('./', undefined, 0o755);
  await add('./control', Buffer.from(control.toString()), 0o644);
  for (const member of [...others].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (member.name === 'control') continue;
    const executable = /^(pre|post)(inst|rm)$/.test(member.name);
    await add(`./${member.name}`, Buffer.from(member.content), member.mode ?? (executable ? 0o755 : 0o644));
  }
  pack.finalize();
  await collected;
  return gzipSync(Buffer.concat(chunks), { level: 9 });
}
