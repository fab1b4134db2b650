// A transport for the shell's tests: serves buffers or local files by path, fails or stalls on demand, no network.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { endpointOf, originOf } from './address.js';
import { TransportError, type TransportErrorCode } from './errors.js';
import { checkAnnouncedSize, guardReadable } from './guard.js';
import { createOpenRemote, type TransportRegistry } from './index.js';
import { passwordPrompt } from './password.js';
import {
  type HostKeyInfo,
  type OpenRemote,
  PROTOCOLS,
  type ProtoName,
  type RemoteSource,
  type RemoteTransfer,
  type Transport,
  type TransportContext,
} from './types.js';

/** What the mock serves under one path. */
export type MockFile =
  /** These bytes. */
  | Uint8Array
  /** The content of a local file, streamed. */
  | { readonly file: string }
  /** Bytes with a misbehaving server around them. */
  | {
      readonly data: Uint8Array;
      /** Size to announce instead of the real one (a lying server); `null` announces none. */
      readonly announce?: number | null;
      /** Fail the stream with `failWith` (default: connection dropped) after this many bytes. */
      readonly failAfter?: number;
      readonly failWith?: TransportErrorCode;
      /** Send this many bytes, then nothing more (the guard's stall timeout ends it). */
      readonly stallAfter?: number;
      /** Repeat `data` forever (the size cap ends it). */
      readonly endless?: boolean;
      /** Answer only after this long (a slow server); an abort meanwhile ends the opening. */
      readonly delayMs?: number;
    };

/** How the mock server behaves (one server, whatever host the source names). */
export interface MockOptions {
  /** Files by path, exactly as the `install` line names them. */
  readonly files: Readonly<Record<string, MockFile>>;
  /** The password the server wants; the transport asks `ctx.getPassword` when the source gives none. */
  readonly password?: string;
  /** Protocols whose server is down: opening fails with "connection refused". */
  readonly down?: readonly ProtoName[];
  /** For scp and sftp: a host key the device does not know; `ctx.confirmHostKey` is asked about it. */
  readonly unknownHostKey?: Omit<HostKeyInfo, 'host' | 'port'>;
  /** Chunk size of the served stream (default 64 KiB). */
  readonly chunkSize?: number;
}

/** One of several mock servers, found by the host the source names. */
export interface MockServer extends MockOptions {
  /** Protocols it answers; opening any other fails with "connection refused". */
  readonly protos: readonly ProtoName[];
}

/** The server a transport talks to for a host, or undefined when none answers there. */
type ServerFor = (host: string) => MockOptions | undefined;

const SSH_PROTOCOLS: ReadonlySet<ProtoName> = new Set(['scp', 'sftp']);

/** A `Transport` that serves `options.files`, through the same guard (cap, stall, abort, progress) as the real ones. */
export class MockTransport implements Transport {
  readonly name: ProtoName;
  /** Every source opened, in order (passwords included: a test may check what was given). */
  readonly opened: RemoteSource[] = [];
  readonly #serverFor: ServerFor;

  /** `server`: one server for every host, or the server for a host (undefined: nothing answers there). */
  constructor(name: ProtoName, server: MockOptions | ServerFor) {
    this.name = name;
    this.#serverFor = typeof server === 'function' ? server : () => server;
  }

  async open(source: RemoteSource, ctx: TransportContext): Promise<RemoteTransfer> {
    this.opened.push(source);
    const origin = originOf(source, ctx);
    const fail = (code: TransportErrorCode, what: string) => new TransportError(code, `${origin}: ${what}`);
    if (ctx.signal?.aborted) throw fail('TRANSPORT_ABORTED', 'transfer aborted');
    const options = this.#serverFor(source.host);
    if (!options || options.down?.includes(this.name)) throw fail('TRANSPORT_CONNECT', 'connection refused');
    const hostKey = options.unknownHostKey;
    if (hostKey && SSH_PROTOCOLS.has(this.name)) {
      const info: HostKeyInfo = {
        ...hostKey,
        host: source.host,
        port: source.port ?? ctx.defaultPorts[this.name],
      };
      const accepted = (await ctx.confirmHostKey?.(info)) ?? false;
      if (!accepted)
        throw fail(
          'TRANSPORT_HOST_KEY_UNKNOWN',
          `host key not accepted (${hostKey.algorithm} ${hostKey.fingerprint} is not in known_hosts)`,
        );
    }
    const wanted = options.password;
    if (wanted !== undefined) {
      const user = source.user ?? ctx.user;
      const given = source.password ?? (await ctx.getPassword?.(passwordPrompt(user, source.host)));
      if (given === undefined)
        throw fail('TRANSPORT_AUTH', `user ${user} needs a password and none was given (add "password …")`);
      if (given !== wanted) throw fail('TRANSPORT_AUTH', `login refused for user ${user}`);
    }
    const served = options.files[source.path];
    if (served === undefined) throw fail('TRANSPORT_NOT_FOUND', `file not found: ${source.path}`);
    if (!(served instanceof Uint8Array) && 'delayMs' in served && served.delayMs !== undefined) {
      await sleep(served.delayMs, undefined, ctx.signal ? { signal: ctx.signal } : {}).catch(() => {
        throw fail('TRANSPORT_ABORTED', 'transfer aborted');
      });
    }
    const { stream, size } = await serve(served, origin, options.chunkSize ?? 64 * 1024);
    checkAnnouncedSize(origin, size, ctx.maxBytes);
    return guardReadable(stream, {
      origin,
      endpoint: endpointOf(source, ctx),
      size,
      ctx,
      release: () => stream.destroy(),
    });
  }
}

/** The stream of one served file, and the size the server announces. */
async function serve(
  served: MockFile,
  origin: string,
  chunk: number,
): Promise<{ stream: Readable; size: number | undefined }> {
  if (served instanceof Uint8Array)
    return { stream: chunked(served, chunk, {}, origin), size: served.length };
  if ('file' in served) {
    const info = await stat(served.file).catch(() => undefined);
    if (!info?.isFile())
      throw new TransportError('TRANSPORT_NOT_FOUND', `${origin}: file not found: ${served.file}`);
    return { stream: createReadStream(served.file, { highWaterMark: chunk }), size: info.size };
  }
  const size =
    served.announce === null
      ? undefined
      : (served.announce ?? (served.endless ? undefined : served.data.length));
  return { stream: chunked(served.data, chunk, served, origin), size };
}

/** A Readable over `data` in chunks, misbehaving as `faults` say. */
function chunked(
  data: Uint8Array,
  chunkSize: number,
  faults: { failAfter?: number; failWith?: TransportErrorCode; stallAfter?: number; endless?: boolean },
  origin: string,
): Readable {
  let offset = 0;
  let sent = 0;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return new Readable({
    read() {
      if (faults.failAfter !== undefined && sent >= faults.failAfter) {
        this.destroy(
          new TransportError(
            faults.failWith ?? 'TRANSPORT_TRUNCATED',
            `${origin}: connection closed after ${sent} bytes`,
          ),
        );
        return;
      }
      if (faults.stallAfter !== undefined && sent >= faults.stallAfter) return;
      if (offset >= bytes.length) {
        if (!faults.endless || bytes.length === 0) {
          this.push(null);
          return;
        }
        offset = 0;
      }
      let end = Math.min(bytes.length, offset + chunkSize);
      for (const limit of [faults.failAfter, faults.stallAfter]) {
        if (limit !== undefined) end = Math.min(end, offset + (limit - sent));
      }
      const piece = bytes.subarray(offset, end);
      offset = end;
      sent += piece.length;
      this.push(piece);
    },
  });
}

/**
 * A registry with a `MockTransport` for every protocol: all serving the same files (`MockOptions`), or
 * each host its own server (`Record<host, MockServer>`, given as `{ servers }`).
 */
function mockRegistry(server: MockOptions | { readonly servers: Readonly<Record<string, MockServer>> }): {
  registry: TransportRegistry;
  transports: Readonly<Record<ProtoName, MockTransport>>;
} {
  const serverFor = (proto: ProtoName): MockOptions | ServerFor => {
    if (!('servers' in server)) return server;
    return (host) => {
      const found = Object.hasOwn(server.servers, host) ? server.servers[host] : undefined;
      return found?.protos.includes(proto) ? found : undefined;
    };
  };
  const transports = Object.fromEntries(
    PROTOCOLS.map((p) => [p, new MockTransport(p, serverFor(p))]),
  ) as Record<ProtoName, MockTransport>;
  const registry = Object.fromEntries(
    PROTOCOLS.map((p) => [p, async () => transports[p]]),
  ) as TransportRegistry;
  return { registry, transports };
}

/**
 * An `OpenRemote` for the shell's tests: every protocol served by the mock, with the real default policy
 * (ftp, then tftp). `transports` shows what each protocol was asked to open.
 */
export function createMockOpenRemote(
  server: Parameters<typeof mockRegistry>[0],
): OpenRemote & { readonly transports: Readonly<Record<ProtoName, MockTransport>> } {
  const { registry, transports } = mockRegistry(server);
  return Object.assign(createOpenRemote(registry), { transports });
}
