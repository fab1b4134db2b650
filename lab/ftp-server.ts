// An in-process FTP server for transport tests (ftp-srv), serving in-memory files with faults on demand.
import { Readable } from 'node:stream';
import { FileSystem, FtpSrv } from 'ftp-srv';
import { formatHostPort } from '../common/host.js';
import { type Served, servedFile } from './served.js';

export interface FtpServerOptions {
  readonly files: Served;
  /** Listen address: 127.0.0.1 (default) or ::1. */
  readonly host?: string;
  readonly user?: string;
  /** The password `user` needs. */
  readonly password?: string;
  /** A user that logs in without a password (the server answers USER with 230). */
  readonly passwordless?: string;
  /** Commands the server refuses with 502 (e.g. SIZE, to hide the size). */
  readonly blacklist?: readonly string[];
}

export interface RunningFtpServer {
  readonly port: number;
  /** Control connections open now. */
  connections(): number;
  close(): Promise<void>;
}

/** ftp-srv logs through bunyan; tests want silence. */
const quiet = {
  child: () => quiet,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  fatal: () => undefined,
};

/** A stat-like answer for SIZE. */
function stats(name: string, size: number) {
  return { name, size, isDirectory: () => false, mtime: new Date(0), mode: 0o100644 };
}

/** The served files as an ftp-srv file system (read-only). */
class ServedFileSystem extends FileSystem {
  readonly #files: Served;
  constructor(connection: ConstructorParameters<typeof FileSystem>[0], files: Served) {
    super(connection, { root: '/', cwd: '/' });
    this.#files = files;
  }

  override async get(fileName: string): Promise<unknown> {
    const file = servedFile(this.#files, fileName);
    if (!file) throw new Error('No such file');
    return stats(fileName, file.announce ?? file.data.length);
  }

  override async read(fileName: string): Promise<unknown> {
    const file = servedFile(this.#files, fileName);
    if (!file) throw new Error('No such file');
    let sent = 0;
    const chunk = 64 * 1024;
    const connection = this.connection as unknown as { connector?: { socket?: { destroy(): void } } };
    const stream = new Readable({
      read() {
        if (file.dropAfter !== undefined && sent >= file.dropAfter) {
          // Cut the data connection, as a crashing server would; ftp-srv then still answers 226.
          connection.connector?.socket?.destroy();
          this.push(null);
          return;
        }
        if (file.stallAfter !== undefined && sent >= file.stallAfter) return;
        const offset = file.endless ? sent % file.data.length : sent;
        if (offset >= file.data.length) {
          this.push(null);
          return;
        }
        let end = Math.min(file.data.length, offset + chunk);
        for (const limit of [file.dropAfter, file.stallAfter]) {
          if (limit !== undefined) end = Math.min(end, offset + limit - sent);
        }
        sent += end - offset;
        this.push(file.data.subarray(offset, end));
      },
    });
    return { stream, clientPath: fileName };
  }
}

/** Starts ftp-srv on an ephemeral port; passive (EPSV) data connections on the same address. */
export async function startFtpServer(options: FtpServerOptions): Promise<RunningFtpServer> {
  const host = options.host ?? '127.0.0.1';
  const url = `ftp://${formatHostPort(host, 0)}`;
  const before = new Set(
    ['SIGINT', 'SIGTERM', 'SIGQUIT'].flatMap((s) => process.listeners(s as NodeJS.Signals)),
  );
  const server = new FtpSrv({
    url,
    pasv_url: host,
    pasv_min: 42000,
    pasv_max: 42999,
    log: quiet,
    blacklist: [...(options.blacklist ?? [])],
    ...(options.passwordless ? { anonymous: options.passwordless as unknown as boolean } : {}),
  });
  // Each ftp-srv instance installs SIGINT/SIGTERM/SIGQUIT handlers that quit the process: not in a test run.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const) {
    for (const listener of process.listeners(signal)) {
      if (!before.has(listener)) process.removeListener(signal, listener);
    }
  }
  server.on('login', ({ connection, username, password }, resolve, reject) => {
    const passwordless = options.passwordless !== undefined && username === options.passwordless;
    if (passwordless || (username === options.user && password === options.password)) {
      resolve({ fs: new ServedFileSystem(connection, options.files) });
    } else {
      reject(new Error('Login incorrect'));
    }
  });
  await server.listen();
  const internal = server as unknown as {
    server: { address(): { port: number } };
    connections: Record<string, unknown>;
  };
  return {
    port: internal.server.address().port,
    connections: () => Object.keys(internal.connections).length,
    close: () => server.close() as Promise<void>,
  };
}
