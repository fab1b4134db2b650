// The feed fetcher of a command: files of feeds opened over the transports and media, with the session's prompts.
import { feedFilePath, parseFeedUrl } from '../common/feed-url.js';
import type { FeedConfig, FeedFetcher, FeedFetchOptions, FeedFile } from '../firmware-sim/api.js';
import type { MediaLabel, MediaResolver } from '../media/types.js';
import type {
  OpenRemote,
  ProtoName,
  RemoteRequest,
  TransferProgress,
  TransportContext,
} from '../transports/types.js';
import type { ProgressHandle } from './env.js';
import { CliError } from './errors.js';
import type { CommandEnv } from './grammar.js';

/** How long a connection may take before it fails. */
const CONNECT_TIMEOUT_MS = 15_000;
/** No byte for this long ends a transfer. */
const STALL_TIMEOUT_MS = 30_000;
/** The login of an ftp feed that names no user (RFC 1635), and its customary password. */
const ANONYMOUS = { user: 'anonymous', password: 'edgesh@' };

/** What a fetcher is built from: the layers below, the device's files, and the operator (if any). */
export interface FeedFetcherParts {
  readonly openRemote: OpenRemote;
  /** The media layer and the configured labels; absent: `media://` feeds fail. */
  readonly media?: {
    readonly resolver: MediaResolver;
    readonly labels: () => Promise<readonly MediaLabel[]>;
  };
  readonly defaultPorts: Readonly<Record<ProtoName, number>>;
  /** Login name of sftp/scp feeds that name none (the CLI user). */
  readonly user: string;
  readonly knownHostsFile: string;
  readonly caDir: string;
  readonly sshKeyFiles?: readonly string[];
  readonly connectTimeoutMs?: number;
  readonly stallTimeoutMs?: number;
  /** Asks for a password; absent when nobody can answer (the updater): a server that wants one fails. */
  readonly getPassword?: (prompt: string) => Promise<string>;
  readonly confirmHostKey?: TransportContext['confirmHostKey'];
  /** A progress bar for a file, or `undefined` when none is drawn. */
  readonly progress?: (label: string) => ProgressHandle | undefined;
}

/**
 * A `FeedFetcher` over the transports and the media. A password asked for is kept for the next
 * files of the same server and user while this fetcher lives (one command), so that an update of a
 * feed behind a login asks once. A file the server does not have is `absent`.
 */
export function createFeedFetcher(parts: FeedFetcherParts): FeedFetcher {
  const passwords = new Map<string, Promise<string>>();
  return {
    async open(feed: FeedConfig, path: string, options: FeedFetchOptions): Promise<FeedFile> {
      const url = parseFeedUrl(feed.url);
      const full = feedFilePath(url, path);
      const progress = options.label === undefined ? undefined : parts.progress?.(options.label);
      const onProgress =
        progress === undefined ? {} : { onProgress: (p: TransferProgress) => progress.update(p) };
      try {
        if (url.kind === 'media') {
          if (parts.media === undefined) throw new CliError('CLI_NOT_FOUND', 'no media on this device');
          const file = await parts.media.resolver.resolve(await parts.media.labels(), url.label, full);
          const transfer = await parts.media.resolver.open(file, {
            maxBytes: options.maxBytes,
            ...(options.signal ? { signal: options.signal } : {}),
            ...onProgress,
          });
          transfer.stream.once('close', () => progress?.done());
          return {
            kind: 'stream',
            stream: transfer.stream,
            ...(transfer.size === undefined ? {} : { size: transfer.size }),
          };
        }
        const anonymous = url.proto === 'ftp' && url.user === undefined;
        const user = anonymous ? ANONYMOUS.user : (url.user ?? parts.user);
        const key = `${url.proto} ${url.host} ${url.port ?? ''} ${user}`;
        const ask = parts.getPassword;
        const ctx: TransportContext = {
          defaultPorts: parts.defaultPorts,
          user,
          knownHostsFile: parts.knownHostsFile,
          caDir: parts.caDir,
          sshKeyFiles: parts.sshKeyFiles ?? [],
          maxBytes: options.maxBytes,
          connectTimeoutMs: parts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
          stallTimeoutMs: parts.stallTimeoutMs ?? STALL_TIMEOUT_MS,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(ask === undefined
            ? {}
            : {
                getPassword: (prompt: string) => {
                  let answer = passwords.get(key);
                  if (answer === undefined) {
                    answer = ask(prompt);
                    passwords.set(key, answer);
                    answer.catch(() => passwords.delete(key));
                  }
                  return answer;
                },
              }),
          ...(parts.confirmHostKey === undefined ? {} : { confirmHostKey: parts.confirmHostKey }),
          ...onProgress,
        };
        const request: RemoteRequest = {
          proto: url.proto,
          host: url.host,
          path: full,
          user,
          ...(url.port === undefined ? {} : { port: url.port }),
          ...(anonymous ? { password: ANONYMOUS.password } : {}),
          ...(options.validators === undefined ? {} : { unlessUnchanged: options.validators }),
        };
        const transfer = await parts.openRemote(request, ctx);
        if (transfer.notModified) {
          transfer.stream.destroy();
          progress?.done();
          return { kind: 'not-modified' };
        }
        transfer.stream.once('close', () => progress?.done());
        return {
          kind: 'stream',
          stream: transfer.stream,
          ...(transfer.size === undefined ? {} : { size: transfer.size }),
          ...(transfer.validators === undefined ? {} : { validators: transfer.validators }),
        };
      } catch (error) {
        progress?.done();
        const code = (error as { code?: unknown } | null)?.code;
        if (code === 'TRANSPORT_NOT_FOUND' || code === 'MEDIA_NOT_FOUND') return { kind: 'absent' };
        throw error;
      }
    },
  };
}

/**
 * The fetcher of a command in the shell: the session's transports and media, its prompts, a bar on a
 * terminal. With `ask: false` (the updater, which never asks) a login or an unknown host key fails.
 */
export async function sessionFeedFetcher(
  env: CommandEnv,
  how: { ask: boolean } = { ask: true },
): Promise<FeedFetcher> {
  const device = env.services.device;
  const [info, tools] = await Promise.all([device.info(), env.services.transports()]);
  // The media layer (drivelist) is loaded only if a media feed is read; the services keep it once loaded.
  const resolver = async () => (await env.services.media()).resolver;
  return createFeedFetcher({
    openRemote: tools.openRemote,
    media: {
      resolver: {
        list: async (labels) => (await resolver()).list(labels),
        resolve: async (labels, label, path) => (await resolver()).resolve(labels, label, path),
        open: async (file, options) => (await resolver()).open(file, options),
      },
      labels: async () => (await device.bootConfig()).media,
    },
    defaultPorts: info.defaultPorts,
    user: env.session.user,
    knownHostsFile: device.paths.knownHostsFile,
    caDir: device.paths.caDir,
    progress: (label) => env.ui.progress(label),
    ...(how.ask ? askers(env, tools) : {}),
  });
}

/** The questions a fetcher may ask the operator: a password, whether to trust a new host key. */
function askers(
  env: CommandEnv,
  tools: Awaited<ReturnType<CommandEnv['services']['transports']>>,
): Pick<FeedFetcherParts, 'getPassword' | 'confirmHostKey'> {
  return {
    getPassword: async (prompt) => {
      const answer = await env.ui.password(prompt);
      if (answer === undefined) throw new CliError('CLI_NOT_CONFIRMED', 'no password given');
      return answer;
    },
    confirmHostKey: (key) =>
      env.ui.confirm(
        `The authenticity of host ${tools.formatHostPort(key.host, key.port)} can't be established.\n` +
          `${key.algorithm} key fingerprint is ${key.fingerprint}.\n` +
          'Trust this host key and continue connecting (y/N)?',
      ),
  };
}
