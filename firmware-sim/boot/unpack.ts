// Restricted extraction of data.tar.gz (SPEC §4.4): our own rules over tar-stream, never a general extractor.

import { once } from 'node:events';
import { chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createGunzip, type Gunzip, type ZlibOptions } from 'node:zlib';
import type { Extract, Header } from 'tar-stream';
import { shown } from '../../common/text.js';
import { DeviceError } from '../errors.js';
import { faultPoint } from '../state/fault.js';
import type { StageBudget } from './stage-budget.js';
import { DirectSink, type Sink, WorkerSink } from './unpack-sink.js';

/** One entry as it will land in `rootfs/`. */
export interface UnpackEntry {
  /** Normalized, relative to the root, never empty: `usr/bin/hello`. */
  readonly path: string;
  readonly type: 'directory' | 'file' | 'symlink' | 'link';
  /** Permission bits as the archive has them, setuid/setgid included (`0o7777`). */
  readonly mode: number;
  /** A parent directory the archive did not list; created with mode 0755. */
  readonly implicit?: true;
}

/** What one pass over a data archive found. */
export interface UnpackResult {
  /** Entries in archive order; a parent always comes before its children. */
  readonly entries: readonly UnpackEntry[];
  /**
   * Files, symlinks and hard links of the archive: what `show PKGNAME` calls its files. Directories
   * are not counted, as `dpkg -L` users count files.
   */
  readonly fileCount: number;
  /** Uncompressed bytes of the tar stream. */
  readonly dataBytes: number;
}

/** Limits of SPEC §4.4 that concern the data archive. */
export interface DataLimits {
  readonly dataBytes: number;
  readonly entries: number;
  /** Components of an entry's path (`usr/bin/hello` has 3). */
  readonly pathDepth: number;
}

/** Options of an unpacker. */
export interface UnpackOptions {
  readonly limits: DataLimits;
  /** An empty directory to write into; absent, the archive is only checked (installation). */
  readonly stageDir?: string;
  /** The time and storage the stage may take (a boot's); absent, unbounded but for the limits. */
  readonly budget?: StageBudget;
}

/** The part of tar-stream's entry stream (a streamx Readable) used here. */
interface EntryStream {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'error', listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

const SPECIAL_BITS = 0o6000;
const PERMISSION_BITS = 0o1777;
const MAX_PATH_BYTES = 4095;
/** Bytes per write to zlib (see the constructor). */
const GUNZIP_BATCH = 1024 * 1024;
/** A chunk at least this large goes to zlib as it is; smaller ones are gathered into batches. */
const GUNZIP_DIRECT = 256 * 1024;
/** After this many entries the writes move to the writer thread (starting it costs a few ms). */
const WORKER_AFTER = 200;

/** A refusal of the rules: one line naming the entry. */
function unsafe(path: string, why: string): DeviceError {
  const where = path === '' ? '' : `${shown(path)}: `;
  return new DeviceError('DEVICE_UNSAFE_PACKAGE', `unsafe package: data.tar.gz: ${where}${why}`);
}

function corrupt(why: string): DeviceError {
  return new DeviceError('DEVICE_BAD_PACKAGE', `corrupt package: data.tar.gz: ${why}`);
}

/**
 * Turns an archive name into a path relative to the root: a leading `/` and `.` components are
 * dropped, `..` is resolved, and one that would climb above the root, or lie deeper than `maxDepth`
 * components, is refused. The depth bound keeps every check and system call on a path cheap: a
 * package nested 1,000 levels deep costs milliseconds per entry in the kernel's path walks alone.
 */
function normalizeEntryName(name: string, maxDepth = Number.POSITIVE_INFINITY): string {
  if (name.includes('\0')) throw unsafe(name, 'NUL byte in the name');
  if (Buffer.byteLength(name) > MAX_PATH_BYTES)
    throw unsafe(name, `name longer than ${MAX_PATH_BYTES} bytes`);
  const stack: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) throw unsafe(name, '".." leads outside the root');
      stack.pop();
    } else stack.push(part);
  }
  if (stack.length > maxDepth) throw unsafe(name, `nested deeper than ${maxDepth} levels (limit)`);
  return stack.join('/');
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/**
 * Reads a data.tar.gz pushed in compressed chunks (as the package reader hands them over), checks
 * every entry against the rules and, with a `stageDir`, writes it there. Errors are `DeviceError`s:
 * `DEVICE_UNSAFE_PACKAGE` for a rule, `DEVICE_BAD_PACKAGE` for a corrupt archive; file-system errors
 * pass as they are. After a failure, once `write`/`end`/`abort` has rejected, nothing writes into the
 * stage any more and the caller removes it: nothing outside it was ever written.
 */
export class SafeUnpacker {
  private readonly gunzip: Gunzip;
  private readonly extract: Extract;
  private readonly stage: string | undefined;
  private sink: Sink | undefined;
  private readonly limits: DataLimits;
  private readonly budget: StageBudget | undefined;
  private readonly entries: UnpackEntry[] = [];
  /** Type of every path seen, the archive's own entries and implicit parents. */
  private readonly seen = new Map<string, UnpackEntry['type']>();
  /** Lower-case path → path, to refuse names that differ only in case. */
  private readonly folded = new Map<string, string>();
  private count = 0;
  private bytes = 0;
  private failure: Error | undefined;
  private readonly finished: Promise<void>;
  /** Small compressed chunks copied together, not yet handed to zlib (fewer than GUNZIP_BATCH bytes). */
  private held: Buffer | undefined;
  private heldBytes = 0;
  /** Settles when zlib has read the last chunk written to it. */
  private lastInflated: Promise<void> = Promise.resolve();
  /** Settles `lastInflated` (on a failure). */
  private releaseInflated: () => void = () => {};

  constructor(options: UnpackOptions) {
    this.stage = options.stageDir;
    this.sink = this.stage === undefined ? undefined : new DirectSink(this.stage);
    this.limits = options.limits;
    this.budget = options.budget;
    // Each write to a zlib stream is one trip to the thread pool and back: input batches of GUNZIP_BATCH
    // keep those trips few, and a write buffer of a few batches lets the caller hash the next bytes while
    // the previous ones are inflated. The output stays in chunks of 256 KiB: tar-stream walks the entries
    // of one chunk recursively, and 1 MiB of empty entries (2,048 headers) overflows the stack.
    this.gunzip = createGunzip({
      chunkSize: 256 * 1024,
      writableHighWaterMark: 2 * GUNZIP_BATCH,
    } as ZlibOptions);
    this.extract = loadTarStream().extract({ highWaterMark: 1024 * 1024 });
    this.extract.on('entry', (header, stream, next) =>
      this.entry(header, stream as unknown as EntryStream, next),
    );
    this.gunzip.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      if (this.bytes > this.limits.dataBytes) {
        this.fail(unsafe('', `more than ${this.limits.dataBytes} bytes uncompressed (limit)`));
        return;
      }
      try {
        this.budget?.tick();
      } catch (error) {
        this.fail(error as Error);
        return;
      }
      if (!this.extract.write(chunk)) this.gunzip.pause();
    });
    this.extract.on('drain', () => this.gunzip.resume());
    this.gunzip.on('end', () => this.extract.end(null));
    this.gunzip.on('error', (error) => this.fail(corrupt(`bad gzip data (${error.message})`)));
    this.extract.on('error', (error: Error) => this.fail(error));
    this.finished = new Promise<void>((resolve) => {
      this.extract.on('finish', () => resolve());
      this.extract.on('close', () => resolve());
    });
  }

  /**
   * Pushes compressed bytes; resolves when they may be followed by more. A large chunk goes to zlib as
   * it is and is referred to until zlib has read it (see `consumed`); small chunks (a network's 64 KiB)
   * are copied into a batch of GUNZIP_BATCH, handed to zlib when full.
   */
  async write(chunk: Buffer): Promise<void> {
    if (this.failure === undefined) {
      if (chunk.length >= GUNZIP_DIRECT) {
        if (this.heldBytes > 0) await this.inflate(this.takeHeld());
        if (this.failure === undefined) await this.inflate(chunk);
      } else {
        let rest = chunk;
        while (rest.length > 0 && this.failure === undefined) {
          this.held ??= Buffer.allocUnsafe(GUNZIP_BATCH);
          const n = rest.copy(this.held, this.heldBytes);
          this.heldBytes += n;
          rest = rest.subarray(n);
          if (this.heldBytes === GUNZIP_BATCH) await this.inflate(this.takeHeld());
        }
      }
    }
    if (this.failure !== undefined) await this.raise();
  }

  /**
   * Resolves once zlib has read every chunk written so far, so that their memory may be reused (the
   * caller's, for chunks passed as they are); also after a failure, when zlib never calls back for a
   * chunk it failed on (its output, if any, is thrown away).
   */
  consumed(): Promise<void> {
    return this.lastInflated;
  }

  private async inflate(chunk: Buffer): Promise<void> {
    // zlib reads the chunks in order: the callback of the last one means all are read.
    let read: () => void = () => {};
    this.lastInflated = new Promise<void>((resolve) => {
      read = resolve;
    });
    this.releaseInflated = read;
    if (!this.gunzip.write(chunk, () => read())) {
      await Promise.race([once(this.gunzip, 'drain'), this.finished]);
    }
  }

  private takeHeld(): Buffer {
    const batch = this.held!.subarray(0, this.heldBytes);
    this.held = undefined;
    this.heldBytes = 0;
    return batch;
  }

  /** Ends the input; resolves with what was unpacked once every entry is written. */
  async end(): Promise<UnpackResult> {
    if (this.failure === undefined && this.heldBytes > 0) await this.inflate(this.takeHeld());
    if (this.failure === undefined) {
      this.gunzip.end();
      await this.finished;
    }
    if (this.failure === undefined) {
      try {
        await this.sink?.settle();
      } catch (error) {
        this.fail(error as Error);
      }
    }
    if (this.failure !== undefined) await this.raise();
    const fileCount = this.entries.reduce((n, e) => (e.type === 'directory' ? n : n + 1), 0);
    return { entries: this.entries, fileCount, dataBytes: this.bytes };
  }

  /** Stops (the caller failed elsewhere); resolves once nothing writes into the stage any more. */
  async abort(): Promise<void> {
    this.fail(new DeviceError('DEVICE_ABORTED', 'unpacking stopped'));
    await this.sink?.settle().catch(() => {});
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure =
      error instanceof DeviceError || (error as NodeJS.ErrnoException).code !== undefined
        ? error
        : corrupt(error.message);
    this.held = undefined;
    this.heldBytes = 0;
    this.gunzip.destroy();
    this.extract.destroy();
    this.releaseInflated();
  }

  /** Throws the failure, after the writer has stopped. */
  private async raise(): Promise<never> {
    await this.sink?.settle().catch(() => {});
    throw this.failure!;
  }

  private entry(header: Header, stream: EntryStream, next: (error?: Error | null) => void): void {
    // The entry stream errors when the archive is torn down; the failure is handled once, above.
    stream.on('error', () => {});
    try {
      this.count++;
      if (this.count > this.limits.entries)
        throw unsafe(header.name, `more than ${this.limits.entries} entries (limit)`);
      if (this.count === WORKER_AFTER && this.sink instanceof DirectSink)
        this.sink = new WorkerSink(this.stage!);
      if (this.stage !== undefined && this.count % 64 === 1) faultPoint('unpack:entry');
      const path = normalizeEntryName(header.name, this.limits.pathDepth);
      const mode = header.mode & (PERMISSION_BITS | SPECIAL_BITS);
      if (path === '') {
        if (header.type !== 'directory') throw unsafe(header.name, 'only a directory may name the root');
        this.count--;
        next();
        return;
      }
      switch (header.type) {
        case 'directory':
          this.directory(path, mode);
          break;
        case 'symlink':
          if (header.linkname === '') throw unsafe(path, 'empty symlink target');
          this.place(path, 'symlink');
          this.sink?.symlink(path, header.linkname);
          this.record({ path, type: 'symlink', mode: 0o777 });
          break;
        case 'link': {
          const target = normalizeEntryName(header.linkname, this.limits.pathDepth);
          const kind = this.seen.get(target);
          if (kind !== 'file' && kind !== 'link') {
            throw unsafe(
              path,
              `hard link to "${shown(header.linkname)}", which is not an earlier file of this package`,
            );
          }
          this.place(path, 'link');
          this.sink?.link(path, target);
          this.record({ path, type: 'link', mode });
          break;
        }
        case 'file':
          this.file(header, path, mode, stream, next);
          return;
        default:
          throw unsafe(path, `${header.type} entries are not allowed (only files, directories and links)`);
      }
      this.proceed(next);
    } catch (error) {
      next(error as Error);
    }
  }

  /** Goes on with the next entry, once the writer can take more. */
  private proceed(next: (error?: Error | null) => void): void {
    const wait = this.sink?.ready();
    if (wait) wait.then(() => next(), next);
    else next();
  }

  private file(
    header: Header,
    path: string,
    mode: number,
    stream: EntryStream,
    next: (error?: Error | null) => void,
  ): void {
    if (header.size > this.limits.dataBytes) {
      throw unsafe(
        path,
        `${header.size} bytes, more than the limit of ${this.limits.dataBytes} uncompressed`,
      );
    }
    this.place(path, 'file', header.size ?? 0);
    this.record({ path, type: 'file', mode });
    const sink = this.sink;
    if (!sink) {
      stream.on('end', () => next());
      stream.resume();
      return;
    }
    let failed = false;
    const failWith = (error: Error): void => {
      if (failed) return;
      failed = true;
      this.fail(error);
    };
    const guard = (step: () => void): boolean => {
      if (failed) return false;
      try {
        step();
        return true;
      } catch (error) {
        failWith(error as Error);
        return false;
      }
    };
    guard(() => sink.fileStart(path, mode & PERMISSION_BITS, header.size));
    stream.on('data', (chunk: Buffer) => {
      if (!guard(() => sink.fileData(chunk))) return;
      // Within a large file too, the unpack waits while the writers have enough in flight: on
      // storage slower than inflating, the file would otherwise wait in memory batch by batch.
      const wait = sink.ready(true);
      if (!wait) return;
      stream.pause();
      wait.then(() => {
        if (!failed) stream.resume();
      }, failWith);
    });
    stream.on('end', () => {
      if (guard(() => sink.fileEnd(header.mtime.getTime() / 1000))) this.proceed(next);
    });
  }

  private directory(path: string, mode: number): void {
    if (this.seen.get(path) === 'directory') return;
    this.place(path, 'directory');
    this.makeDirectory(path, mode);
    this.record({ path, type: 'directory', mode });
  }

  private makeDirectory(path: string, mode: number): void {
    // Always rwx for the owner: the device runs unprivileged and must be able to take files out again.
    this.sink?.dir(path, (mode & PERMISSION_BITS) | 0o700);
  }

  /**
   * Checks that `path` may be created: parents are directories of this archive, no duplicate, no case
   * twin; counts it against the stage's budget.
   */
  private place(path: string, type: UnpackEntry['type'], size = 0): void {
    const existing = this.seen.get(path);
    if (existing !== undefined) {
      if (existing === 'directory') {
        throw unsafe(
          path,
          `a ${type === 'link' ? 'hard link' : type} would replace a directory of the same package`,
        );
      }
      throw unsafe(path, 'duplicate entry');
    }
    this.fold(path, path);
    this.budget?.charge(type, size);
    const parent = parentOf(path);
    // A directory is recorded only once its own parents were found to be directories: when the
    // parent is one, so is every ancestor, and the walk below (as long as the path) is not needed.
    if (parent === '' || this.seen.get(parent) === 'directory') return;
    // Walk down from the root: every component must be a directory, never a symlink of the archive.
    let prefix = '';
    for (const part of parent.split('/')) {
      prefix = prefix === '' ? part : `${prefix}/${part}`;
      const kind = this.seen.get(prefix);
      if (kind === 'directory') continue;
      if (kind === 'symlink') throw unsafe(path, `would be written through the symlink "${shown(prefix)}"`);
      if (kind !== undefined) throw unsafe(path, `"${shown(prefix)}" is not a directory`);
      this.fold(prefix, path);
      this.budget?.charge('directory', 0);
      this.makeDirectory(prefix, 0o755);
      this.record({ path: prefix, type: 'directory', mode: 0o755, implicit: true });
    }
  }

  /** Remembers the letter-case form of `path`; another form of the same name is refused. */
  private fold(path: string, entry: string): void {
    const lower = path.toLowerCase();
    const twin = this.folded.get(lower);
    if (twin !== undefined && twin !== path) {
      throw unsafe(
        entry,
        `differs only in letter case from "${shown(twin)}" (refused: the names collide on case-insensitive file systems)`,
      );
    }
    this.folded.set(lower, path);
  }

  private record(entry: UnpackEntry): void {
    this.seen.set(entry.path, entry.type);
    this.entries.push(entry);
  }
}

/**
 * After the verdict: setuid/setgid bits are restored in the stage only for a `Signed` package (they
 * were left out while writing, when the verdict was not known yet).
 */
export function applySpecialBits(stageDir: string, entries: readonly UnpackEntry[]): void {
  for (const entry of entries) {
    if ((entry.mode & SPECIAL_BITS) === 0 || entry.type === 'symlink' || entry.type === 'link') continue;
    const perm = entry.mode & (PERMISSION_BITS | SPECIAL_BITS);
    chmodSync(join(stageDir, entry.path), entry.type === 'directory' ? perm | 0o700 : perm);
  }
}

let tarStream: typeof import('tar-stream') | undefined;
/** tar-stream is loaded when a data archive is first read, not when the prompt starts. */
function loadTarStream(): typeof import('tar-stream') {
  tarStream ??= createRequire(import.meta.url)('tar-stream') as typeof import('tar-stream');
  return tarStream;
}
