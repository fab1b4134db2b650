// TFTP servers for transport tests: the tftp package's own server, and a small RFC 1350/2347 server with faults.
import { createSocket, type RemoteInfo } from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tftp from 'tftp';
import { type Served, servedFile } from './served.js';

export interface RunningTftpServer {
  readonly port: number;
  /** Options of every read request received, in order (lower-case names). */
  readonly requests: Array<{ file: string; options: Record<string, string> }>;
  close(): Promise<void>;
}

/** A free UDP port on `host` (the tftp package takes port 0 as 69). */
async function freeUdpPort(host: string): Promise<number> {
  const probe = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => probe.bind(0, host, resolve));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The tftp package's server, serving `files` written into `root`. */
export async function startPackageTftpServer(
  root: string,
  files: Readonly<Record<string, Buffer>>,
  host = '127.0.0.1',
): Promise<RunningTftpServer> {
  for (const [name, data] of Object.entries(files)) await writeFile(join(root, name), data);
  const port = await freeUdpPort(host);
  const requests: RunningTftpServer['requests'] = [];
  const server = tftp.createServer({ host, port, root, denyPUT: true }, (req, res) => {
    requests.push({ file: req.file, options: {} });
    req.on('error', () => undefined);
    server.requestListener(req, res);
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen();
  });
  return {
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.once('close', () => resolve());
        server.close();
      }),
  };
}

export interface ClassicTftpOptions {
  readonly files: Served;
  readonly host?: string;
  /** false: ignore every option (an RFC 1350 server), so the client falls back to 512-byte blocks. */
  readonly options?: boolean;
}

const RRQ = 1;
const DATA = 3;
const ACK = 4;
const ERROR = 5;
const OACK = 6;

function errorPacket(code: number, message: string): Buffer {
  return Buffer.concat([Buffer.from([0, ERROR, 0, code]), Buffer.from(`${message}\0`, 'latin1')]);
}

/**
 * A minimal TFTP read server in the spirit of tftpd-hpa: options blksize and tsize (timeout is refused by
 * answering with an option error, as a server does when it gets a value out of range), lock-step DATA/ACK
 * with retransmission, and the faults of `ServedFile` (drop: an ERROR mid-transfer; stall: silence; endless;
 * announce: a tsize that lies).
 */
export async function startClassicTftpServer(opts: ClassicTftpOptions): Promise<RunningTftpServer> {
  const host = opts.host ?? '127.0.0.1';
  const family = host.includes(':') ? 'udp6' : 'udp4';
  const main = createSocket(family);
  const sessions = new Set<() => void>();
  const requests: RunningTftpServer['requests'] = [];
  main.on('message', (msg, peer) => {
    if (msg.readUInt16BE(0) !== RRQ) return;
    const fields = msg.subarray(2).toString('latin1').split('\0');
    const file = fields[0] ?? '';
    const options: Record<string, string> = {};
    for (let i = 2; i + 1 < fields.length; i += 2) {
      const key = fields[i];
      if (key) options[key.toLowerCase()] = fields[i + 1] ?? '';
    }
    requests.push({ file, options });
    serve(file, options, peer);
  });

  const serve = (name: string, options: Record<string, string>, peer: RemoteInfo) => {
    const sock = createSocket(family);
    let closed = false;
    const send = (packet: Buffer, then?: () => void) => {
      if (!closed) sock.send(packet, peer.port, peer.address, () => then?.());
    };
    const finish = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      sessions.delete(finish);
      sock.close();
    };
    sessions.add(finish);
    let timer: NodeJS.Timeout | undefined;
    sock.bind(0, host, () => {
      const file = servedFile(opts.files, name);
      if (!file) {
        send(errorPacket(1, 'File not found'), finish);
        return;
      }
      const useOptions = opts.options !== false && Object.keys(options).length > 0;
      if (
        useOptions &&
        options.timeout !== undefined &&
        !(Number(options.timeout) >= 1 && Number(options.timeout) <= 255)
      ) {
        send(errorPacket(8, 'Invalid timeout option'), finish);
        return;
      }
      const blksize = useOptions && options.blksize ? Math.min(Number(options.blksize), 1468) : 512;
      let block = 0;
      let sent = 0;
      let last: Buffer | undefined;
      let retries = 0;
      const transmit = (packet: Buffer) => {
        last = packet;
        retries = 0;
        send(packet);
        clearTimeout(timer);
        timer = setTimeout(function again() {
          if (++retries > 5 || !last) return finish();
          send(last);
          timer = setTimeout(again, 200);
        }, 200);
      };
      const next = () => {
        if (file.dropAfter !== undefined && sent >= file.dropAfter) {
          clearTimeout(timer);
          send(errorPacket(0, 'Server shutting down'), finish);
          return;
        }
        if (file.stallAfter !== undefined && sent >= file.stallAfter) {
          clearTimeout(timer);
          last = undefined;
          return;
        }
        const offset = file.endless ? sent % file.data.length : sent;
        const piece = file.data.subarray(
          offset,
          Math.min(offset + blksize, file.endless ? Number.MAX_SAFE_INTEGER : file.data.length),
        );
        const data =
          file.endless && piece.length < blksize
            ? Buffer.concat([piece, file.data]).subarray(0, blksize)
            : piece;
        block = (block + 1) & 0xffff;
        sent += data.length;
        const header = Buffer.from([0, DATA, block >> 8, block & 0xff]);
        transmit(Buffer.concat([header, data]));
        if (data.length < blksize) {
          // Last block sent; wait for its ACK (handled below), then close.
          done = true;
        }
      };
      let done = false;
      sock.on('message', (msg) => {
        const op = msg.readUInt16BE(0);
        if (op === ERROR) return finish();
        if (op !== ACK) return;
        if (msg.readUInt16BE(2) !== block) return;
        if (done) return finish();
        next();
      });
      if (useOptions) {
        const oack: string[] = [];
        if (options.blksize) oack.push('blksize', String(blksize));
        if (options.tsize !== undefined && !file.endless)
          oack.push('tsize', String(file.announce ?? file.data.length));
        transmit(Buffer.concat([Buffer.from([0, OACK]), Buffer.from(`${oack.join('\0')}\0`, 'latin1')]));
      } else {
        next();
      }
    });
  };

  await new Promise<void>((resolve) => main.bind(0, host, resolve));
  return {
    port: main.address().port,
    requests,
    close: async () => {
      for (const finish of [...sessions]) finish();
      await new Promise<void>((resolve) => main.close(() => resolve()));
    },
  };
}
