// An in-process SSH server for transport tests (ssh2.Server): SFTP (read-only) and `scp -f`, with faults on demand.
import { basename } from 'node:path';
import type { Connection, ParsedKey, ServerChannel, SFTPWrapper } from 'ssh2';
import ssh2 from 'ssh2';
import { type Served, type ServedFile, servedFile } from './served.js';

const { Server, utils } = ssh2;
const { STATUS_CODE } = utils.sftp;

/**
 * A fresh ed25519 key pair in OpenSSH format, with the public key blob. ssh2 1.17's generator drops a
 * leading zero byte of the public key (1 key in 256), which its own parser then refuses: draw again.
 */
export function sshKeyPair(): { privateKey: string; publicKey: string; blob: Buffer } {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    const parsed = utils.parseKey(pair.public);
    if (parsed instanceof Error || Array.isArray(parsed)) continue;
    return { privateKey: pair.private, publicKey: pair.public, blob: (parsed as ParsedKey).getPublicSSH() };
  }
}

export interface SshServerOptions {
  readonly files: Served;
  readonly host?: string;
  readonly user: string;
  /** Password for `password` (and keyboard-interactive when offered). */
  readonly password?: string;
  /** Offer keyboard-interactive instead of password. */
  readonly keyboardInteractive?: boolean;
  /** A public key (OpenSSH format) accepted for `user`. */
  readonly authorizedKey?: string;
  /** Host key (OpenSSH private key); a new one by default. */
  readonly hostKey?: string;
}

export interface RunningSshServer {
  readonly port: number;
  /** The host key's public blob, as the client sees it. */
  readonly hostKeyBlob: Buffer;
  /** Authentication attempts: `method:ok` or `method:fail`. */
  readonly auth: string[];
  connections(): number;
  close(): Promise<void>;
}

/** The path inside `scp -f 'path'` (single quotes with `'\\''` escapes, as the transport writes it). */
function scpPath(command: string): string | undefined {
  const m = /^scp -f '((?:[^']|'\\'')*)'$/.exec(command);
  return m?.[1]?.replaceAll("'\\''", "'");
}

export async function startSshServer(opts: SshServerOptions): Promise<RunningSshServer> {
  const hostKey = opts.hostKey ?? sshKeyPair().privateKey;
  const hostKeyBlob = (utils.parseKey(hostKey) as ParsedKey).getPublicSSH();
  const allowed = opts.authorizedKey ? (utils.parseKey(opts.authorizedKey) as ParsedKey) : undefined;
  const auth: string[] = [];
  const live = new Set<Connection>();
  const methods = [
    ...(allowed ? ['publickey' as const] : []),
    ...(opts.password !== undefined
      ? [opts.keyboardInteractive ? ('keyboard-interactive' as const) : ('password' as const)]
      : []),
  ];

  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    live.add(client);
    client.on('close', () => live.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      const ok = (good: boolean) => {
        auth.push(`${ctx.method}:${good ? 'ok' : 'fail'}`);
        if (good) ctx.accept();
        else ctx.reject(methods);
      };
      if (ctx.username !== opts.user) return ok(false);
      switch (ctx.method) {
        case 'password':
          return ok(
            opts.password !== undefined && !opts.keyboardInteractive && ctx.password === opts.password,
          );
        case 'keyboard-interactive':
          if (!opts.keyboardInteractive) return ok(false);
          ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => ok(answers[0] === opts.password));
          return;
        case 'publickey': {
          if (!allowed || !ctx.key.data.equals(allowed.getPublicSSH())) return ok(false);
          if (!ctx.signature) return ctx.accept(); // the key is acceptable; the signed attempt follows
          return ok(allowed.verify(ctx.blob as Buffer, ctx.signature, ctx.hashAlgo) === true);
        }
        default:
          return ctx.reject(methods);
      }
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('sftp', (acceptSftp) => serveSftp(acceptSftp(), opts.files, client));
        session.on('exec', (acceptExec, _reject, info) =>
          serveScp(acceptExec(), info.command, opts.files, client),
        );
      });
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    hostKeyBlob,
    auth,
    connections: () => live.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of live) c.end();
        server.close(() => resolve());
      }),
  };
}

/** Read-only SFTP over the served files (OPEN, FSTAT, READ, CLOSE, STAT, REALPATH), with faults. */
function serveSftp(sftp: SFTPWrapper, files: Served, client: Connection): void {
  const handles = new Map<number, ServedFile>();
  let next = 0;
  const fileOf = (handle: Buffer) => handles.get(handle.readUInt32BE(0));
  const attrsOf = (file: ServedFile) => {
    const size = file.announce ?? (file.endless ? undefined : file.data.length);
    return {
      mode: 0o100644,
      uid: 0,
      gid: 0,
      atime: 0,
      mtime: 0,
      ...(size === undefined ? {} : { size }),
    } as never;
  };
  sftp.on('OPEN', (reqid, filename) => {
    const file = servedFile(files, filename);
    if (!file) return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
    const handle = Buffer.alloc(4);
    handle.writeUInt32BE(next, 0);
    handles.set(next++, file);
    return sftp.handle(reqid, handle);
  });
  sftp.on('FSTAT', (reqid, handle) => {
    const file = fileOf(handle);
    return file ? sftp.attrs(reqid, attrsOf(file)) : sftp.status(reqid, STATUS_CODE.FAILURE);
  });
  sftp.on('STAT', (reqid, path) => {
    const file = servedFile(files, path);
    return file ? sftp.attrs(reqid, attrsOf(file)) : sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
  });
  sftp.on('REALPATH', (reqid, path) =>
    sftp.name(reqid, [{ filename: path === '.' ? '/' : path, longname: path, attrs: {} as never }]),
  );
  sftp.on('READ', (reqid, handle, offset, length) => {
    const file = fileOf(handle);
    if (!file) return sftp.status(reqid, STATUS_CODE.FAILURE);
    if (file.dropAfter !== undefined && offset >= file.dropAfter) return client.end();
    if (file.stallAfter !== undefined && offset >= file.stallAfter) return;
    const at = file.endless ? offset % file.data.length : offset;
    if (at >= file.data.length) return sftp.status(reqid, STATUS_CODE.EOF);
    let end = Math.min(file.data.length, at + length);
    for (const limit of [file.dropAfter, file.stallAfter])
      if (limit !== undefined) end = Math.min(end, at + limit - offset);
    return sftp.data(reqid, file.data.subarray(at, end));
  });
  sftp.on('CLOSE', (reqid, handle) => {
    handles.delete(handle.readUInt32BE(0));
    sftp.status(reqid, STATUS_CODE.OK);
  });
}

/** The source side of `scp -f`: waits for the sink's NUL, sends `C0644 SIZE NAME`, the bytes and a NUL. */
function serveScp(channel: ServerChannel, command: string, files: Served, client: Connection): void {
  const path = scpPath(command);
  const acks: Array<() => void> = [];
  channel.on('data', (chunk: Buffer) => {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0) acks.shift()?.();
  });
  channel.on('error', () => undefined);
  const ack = () => new Promise<void>((resolve) => acks.push(resolve));
  const write = (data: Buffer | string) =>
    new Promise<void>((resolve) => {
      if (channel.write(data)) resolve();
      else channel.once('drain', resolve);
    });
  const run = async (): Promise<void> => {
    await ack();
    const file = path === undefined ? undefined : servedFile(files, path);
    if (!file) {
      await write(`\x01scp: ${path ?? command}: No such file or directory\n`);
      channel.exit(1);
      channel.end();
      return;
    }
    const size = file.announce ?? file.data.length;
    await write(`C0644 ${size} ${basename(path ?? 'file')}\n`);
    await ack();
    const limit = file.endless ? Number.POSITIVE_INFINITY : file.data.length;
    let sent = 0;
    while (sent < limit) {
      if (file.dropAfter !== undefined && sent >= file.dropAfter) {
        client.end();
        return;
      }
      if (file.stallAfter !== undefined && sent >= file.stallAfter) return;
      const at = sent % file.data.length;
      let end = Math.min(file.data.length, at + 32 * 1024);
      for (const cap of [file.dropAfter, file.stallAfter])
        if (cap !== undefined) end = Math.min(end, at + cap - sent);
      await write(file.data.subarray(at, end));
      sent += end - at;
      if (channel.destroyed || !channel.writable) return;
    }
    await write(Buffer.from([0]));
    await ack();
    channel.exit(0);
    channel.end();
  };
  run().catch(() => channel.destroy());
}
