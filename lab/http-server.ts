// An in-process http/https server for transport tests: served files with faults, redirects, Basic auth.

import { createHash } from 'node:crypto';
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { Socket } from 'node:net';
import { type Served, servedFile } from './served.js';

export interface HttpServerOptions {
  readonly files: Served;
  readonly host?: string;
  /** TLS key and certificate (PEM): serve https. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Require Basic auth with these credentials. */
  readonly auth?: { readonly user: string; readonly password: string };
  /** Extra redirects: path → Location. */
  readonly redirects?: Readonly<Record<string, string>>;
}

export interface RunningHttpServer {
  readonly port: number;
  /** Every request: path, method, whether it carried an Authorization header, and the status answered. */
  readonly requests: Array<{ path: string; method: string; authorized: boolean; status?: number }>;
  connections(): number;
  close(): Promise<void>;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const requests: RunningHttpServer['requests'] = [];
  const started = Math.floor(Date.now() / 1000) * 1000;
  const startedText = new Date(started).toUTCString();
  const sockets = new Set<Socket>();
  const expected = opts.auth
    ? `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64')}`
    : undefined;

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push({ path, method: req.method ?? 'GET', authorized: req.headers.authorization !== undefined });
    const redirect = opts.redirects?.[path];
    if (redirect !== undefined) {
      res.writeHead(302, { location: redirect }).end();
      return;
    }
    const many = /^\/hop\/(\d+)$/.exec(path);
    if (many) {
      res.writeHead(302, { location: `/hop/${Number(many[1]) + 1}` }).end();
      return;
    }
    if (path === '/forbidden.wmopkg') {
      res.writeHead(403).end();
      return;
    }
    if (expected && req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="packages"' }).end();
      return;
    }
    const file = servedFile(opts.files, path);
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    // Validators as nginx gives them: an ETag of the content, Last-Modified of the server's start.
    const etag = `"${createHash('sha256').update(file.data).digest('hex').slice(0, 16)}"`;
    const conditional = req.headers['if-none-match'];
    const since = req.headers['if-modified-since'];
    const record = requests.at(-1)!;
    if (
      !file.endless &&
      (conditional === etag ||
        (conditional === undefined && since !== undefined && Date.parse(since) >= started))
    ) {
      record.status = 304;
      res.writeHead(304, { etag, 'last-modified': startedText }).end();
      return;
    }
    record.status = 200;
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream' };
    if (!file.endless) {
      headers['content-length'] = file.announce ?? file.data.length;
      headers.etag = etag;
      headers['last-modified'] = startedText;
    }
    res.writeHead(200, headers);
    let sent = 0;
    const pump = () => {
      while (true) {
        if (file.dropAfter !== undefined && sent >= file.dropAfter) {
          req.socket.destroy();
          return;
        }
        if (file.stallAfter !== undefined && sent >= file.stallAfter) return;
        const at = file.endless ? sent % file.data.length : sent;
        if (at >= file.data.length) {
          // The raw socket, so that bytes past a lying Content-Length really go out.
          res.end();
          return;
        }
        let end = Math.min(file.data.length, at + 64 * 1024);
        for (const cap of [file.dropAfter, file.stallAfter])
          if (cap !== undefined) end = Math.min(end, at + cap - sent);
        const piece = file.data.subarray(at, end);
        sent += piece.length;
        const more =
          file.announce !== undefined && sent > file.announce ? req.socket.write(piece) : res.write(piece);
        if (!more) {
          (file.announce !== undefined && sent > file.announce ? req.socket : res).once('drain', pump);
          return;
        }
      }
    };
    pump();
  };

  const server: Server = opts.tls
    ? createHttps({ key: opts.tls.key, cert: opts.tls.cert }, handler)
    : createHttp(handler);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, opts.host ?? '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    requests,
    connections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
