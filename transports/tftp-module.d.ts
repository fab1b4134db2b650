// Types for the parts of the `tftp` package (0.1.2, untyped) that the transport and the tests use.
declare module 'tftp' {
  import type { EventEmitter } from 'node:events';
  import type { Readable, Writable } from 'node:stream';

  /** Negotiated parameters, emitted as 'stats' when the transfer starts. */
  export interface TftpStats {
    readonly blockSize: number;
    readonly windowSize: number;
    /** tsize announced by the server, or null. */
    readonly size: number | null;
    readonly timeout: number;
    readonly retries: number;
  }

  export interface GetStream extends Readable {
    /** Sends an ERROR packet to the server and closes the socket. */
    abort(error?: unknown): void;
    /** Closes the socket without telling the server. */
    close(): void;
  }

  export interface ClientOptions {
    host?: string;
    port?: number;
    blockSize?: number;
    windowSize?: number;
    retries?: number;
    /** Retransmission timeout in ms; the library also sends it as the RFC 2349 option (in seconds!). */
    timeout?: number;
  }

  /** The request options a client was built with (internal; used to drop the broken timeout option). */
  export interface ClientInternals {
    extensions: Record<string, number>;
    extensionsString: Record<string, string>;
    extensionsLength: number;
  }

  export interface Client {
    createGetStream(remote: string, options?: { highWaterMark?: number }): GetStream;
    readonly _options: ClientInternals;
  }

  export interface ServerGetRequest extends EventEmitter {
    readonly file: string;
    readonly method: 'GET' | 'PUT';
    readonly stats: TftpStats;
    abort(error?: unknown): void;
  }

  export interface ServerResponse extends Writable {
    setSize(size: number): void;
  }

  export interface Server extends EventEmitter {
    listen(): void;
    close(): void;
    requestListener(req: ServerGetRequest, res: ServerResponse): void;
  }

  export interface ServerOptions {
    host?: string;
    port?: number;
    root?: string;
    denyPUT?: boolean;
    blockSize?: number;
    windowSize?: number;
    timeout?: number;
    retries?: number;
  }

  export function createClient(options?: ClientOptions): Client;
  export function createServer(
    options?: ServerOptions,
    listener?: (req: ServerGetRequest, res: ServerResponse) => void,
  ): Server;

  const tftp: { createClient: typeof createClient; createServer: typeof createServer; ENOENT: string };
  export default tftp;
}
