// scp with ssh2: `scp -f PATH` on an exec channel, spoken with the classic rcp/scp source protocol.

import type { ClientChannel } from 'ssh2';
import ssh2 from 'ssh2';
import { oneLine } from '../common/text.js';
import { endpointOf, originOf } from './address.js';
import { TransportError } from './errors.js';
import { checkAnnouncedSize, TransferGuard } from './guard.js';
import { OpenPhase } from './open-phase.js';
import { describeSshError, prepareSshLogin, type SshLogin, sendWithoutDelay } from './ssh-login.js';
import type { RemoteSource, RemoteTransfer, Transport, TransportContext } from './types.js';

/** scp: the remote `scp -f` sends `C<mode> <size> <name>\n`, then the bytes, then a status byte. */
export const scpTransport: Transport = { name: 'scp', open: openScp };

/** The longest protocol line we accept (a header or an error text). */
const MAX_LINE = 4096;

/** `'path'` for the remote shell; a leading `-` would be read as an option. */
function scpCommand(path: string): string {
  const safe = path.startsWith('-') ? `./${path}` : path;
  return `scp -f '${safe.replaceAll("'", "'\\''")}'`;
}

async function openScp(source: RemoteSource, ctx: TransportContext): Promise<RemoteTransfer> {
  const origin = originOf(source, ctx);
  const user = source.user ?? ctx.user;
  const conn = new ssh2.Client();
  sendWithoutDelay(conn);
  let login: SshLogin | undefined;
  const describe = (error: unknown) => describeSshError(origin, user, login, error);
  // ssh2 reports late connection errors as events; until the guard takes over, they fail the opening.
  let onConnError: (error: Error) => void = () => undefined;
  conn.on('error', (error) => onConnError(error));
  const phase = new OpenPhase(ctx, origin, () => conn.destroy());
  let reader: ScpReader;
  try {
    reader = await phase.run(async () => {
      login = await prepareSshLogin(source, ctx, phase, origin);
      const config = login.config;
      await new Promise<void>((resolve, reject) => {
        onConnError = reject;
        conn.once('ready', () => resolve());
        conn.once('close', () => reject(new Error('connection closed')));
        conn.connect(config);
      });
      const channel = await new Promise<ClientChannel>((resolve, reject) => {
        conn.exec(scpCommand(source.path), (error, ch) => (error ? reject(error) : resolve(ch)));
      });
      const scp = new ScpReader(channel, origin, source.path);
      await scp.header;
      return scp;
    });
    checkAnnouncedSize(origin, reader.size, ctx.maxBytes);
  } catch (error) {
    conn.destroy();
    throw describe(error);
  }
  const guard = new TransferGuard({ origin, size: reader.size, ctx, release: () => conn.destroy() });
  onConnError = (error) => guard.fail(describe(error));
  reader.attach(guard);
  return { stream: guard, size: reader.size, origin: endpointOf(source, ctx) };
}

/**
 * The sink side of the scp protocol on one exec channel. `header` resolves with the announced size once the
 * `C` line is read; `attach` acknowledges it and streams exactly that many bytes into the guard, then reads
 * the status byte and acknowledges the end.
 */
class ScpReader {
  readonly header: Promise<void>;
  size = 0;
  #state: 'header' | 'body' | 'status' | 'error-line' | 'trailer' | 'done' = 'header';
  #line: Buffer[] = [];
  #lineLength = 0;
  #remaining = 0;
  #guard: TransferGuard | undefined;
  #held: Buffer[] = [];
  #stderr = '';
  #exitCode: number | undefined;
  #headerDone!: { resolve: () => void; reject: (e: Error) => void };
  readonly #channel: ClientChannel;
  readonly #origin: string;
  readonly #path: string;

  constructor(channel: ClientChannel, origin: string, path: string) {
    this.#channel = channel;
    this.#origin = origin;
    this.#path = path;
    this.header = new Promise((resolve, reject) => {
      this.#headerDone = { resolve, reject };
    });
    channel.on('data', (chunk: Buffer) => this.#onData(chunk));
    channel.stderr.on('data', (chunk: Buffer) => {
      if (this.#stderr.length < MAX_LINE) this.#stderr += chunk.toString('utf8');
    });
    channel.on('exit', (code: number | null) => {
      this.#exitCode = code ?? undefined;
    });
    channel.on('close', () => this.#onClose());
    // The source starts when the sink says it is ready.
    channel.write('\0');
  }

  /** Starts the body: acknowledges the header and feeds the guard; backpressure pauses the channel. */
  attach(guard: TransferGuard): void {
    this.#guard = guard;
    guard.onResume = () => this.#channel.resume();
    this.#channel.write('\0');
    for (const chunk of this.#held.splice(0)) this.#onData(chunk);
  }

  #fail(error: TransportError): void {
    this.#state = 'done';
    if (this.#guard) this.#guard.fail(error);
    else this.#headerDone.reject(error);
  }

  #onData(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length > 0 && this.#state !== 'done') {
      switch (this.#state) {
        case 'header':
        case 'error-line': {
          const nl = rest.indexOf(0x0a);
          const part = nl < 0 ? rest : rest.subarray(0, nl);
          this.#line.push(part);
          this.#lineLength += part.length;
          if (this.#lineLength > MAX_LINE) {
            this.#fail(
              new TransportError('TRANSPORT_PROTOCOL', `${this.#origin}: scp sent an over-long line`),
            );
            return;
          }
          if (nl < 0) return;
          rest = rest.subarray(nl + 1);
          const line = Buffer.concat(this.#line);
          this.#line = [];
          this.#lineLength = 0;
          if (this.#state === 'header') this.#onHeader(line);
          else if (!isMessage(line)) this.#fail(this.#tooMuch());
          else this.#fail(this.#remoteError(line.toString('utf8')));
          break;
        }
        case 'body': {
          if (!this.#guard) {
            this.#held.push(rest);
            return;
          }
          const take = Math.min(this.#remaining, rest.length);
          const part = rest.subarray(0, take);
          rest = rest.subarray(take);
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = 'status';
          if (part.length > 0 && !this.#guard.feed(part)) this.#channel.pause();
          break;
        }
        case 'status': {
          const status = rest[0];
          rest = rest.subarray(1);
          if (status === 0) {
            // The end, as far as the source says: acknowledged at once, complete when the channel
            // closes with nothing after it.
            this.#state = 'trailer';
            this.#channel.write('\0');
            this.#channel.end();
            break;
          }
          if (status !== 1 && status !== 2) {
            // Not a status byte: the file goes on past the size the header announced.
            this.#fail(this.#tooMuch());
            return;
          }
          // A warning or error line, unless what follows is not text (then it is more of the file).
          this.#state = 'error-line';
          break;
        }
        case 'trailer':
          // Bytes after the end status: the file went on past the announced size, and one of its
          // bytes happened to look like the status.
          this.#fail(this.#tooMuch());
          return;
      }
    }
  }

  #onHeader(line: Buffer): void {
    const text = line.toString('utf8');
    const kind = line[0];
    if (kind === 0x01 || kind === 0x02) {
      this.#fail(this.#remoteError(text.slice(1)));
      return;
    }
    const match = /^C[0-7]{4} (\d+) (.*)$/.exec(text);
    if (!match) {
      const what = kind === 0x44 ? 'is a directory' : `answered "${oneLine(text, 80)}" instead of a file`;
      this.#fail(new TransportError('TRANSPORT_PROTOCOL', `${this.#origin}: scp ${what}`));
      return;
    }
    this.size = Number(match[1]);
    this.#remaining = this.size;
    this.#state = this.size === 0 ? 'status' : 'body';
    this.#headerDone.resolve();
  }

  #tooMuch(): TransportError {
    return new TransportError(
      'TRANSPORT_SIZE_MISMATCH',
      `${this.#origin}: server sent more than the ${this.size} bytes it announced`,
    );
  }

  /** An error line of the remote scp: `scp: x.wmopkg: No such file or directory`. */
  #remoteError(text: string): TransportError {
    const message = oneLine(text, 160);
    if (/no such file/i.test(message)) {
      return new TransportError('TRANSPORT_NOT_FOUND', `${this.#origin}: file not found: ${this.#path}`);
    }
    if (/permission denied/i.test(message)) {
      return new TransportError('TRANSPORT_ACCESS_DENIED', `${this.#origin}: access denied: ${this.#path}`);
    }
    return new TransportError('TRANSPORT_PROTOCOL', `${this.#origin}: server: ${message}`);
  }

  #onClose(): void {
    if (this.#state === 'done') return;
    if (this.#state === 'trailer') {
      this.#state = 'done';
      this.#guard?.finish();
      return;
    }
    if (this.#state === 'header' && this.#lineLength === 0) {
      // Nothing came back: typically no scp on the server (the shell says so on stderr).
      const detail = this.#stderr ? `: ${oneLine(this.#stderr, 120)}` : '';
      const status = this.#exitCode === undefined ? '' : ` (exit status ${this.#exitCode})`;
      this.#fail(
        new TransportError('TRANSPORT_PROTOCOL', `${this.#origin}: scp did not start${status}${detail}`),
      );
      return;
    }
    const got = this.size - this.#remaining;
    this.#fail(
      new TransportError(
        'TRANSPORT_TRUNCATED',
        `${this.#origin}: connection closed after ${got} of ${this.size} bytes`,
      ),
    );
  }
}

/**
 * Whether a line after a status byte 1 or 2 reads as scp's message (`scp: x: Input/output error`): text,
 * not empty, without control characters. Anything else there is more of the file than announced.
 */
function isMessage(line: Buffer): boolean {
  if (line.length === 0) return false;
  for (const byte of line) if ((byte < 0x20 && byte !== 0x09) || byte === 0x7f) return false;
  return true;
}
