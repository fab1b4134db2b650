// Opens what `install` and `unlock` name — a remote file or a file on a media — as one byte stream.
import type { PackageOrigin } from '../firmware-sim/api.js';
import type { ProtoName, RemoteRequest, Transfer, TransportContext } from '../transports/types.js';
import type { ProgressHandle, TransportTools } from './env.js';
import { CliError } from './errors.js';
import { type Args, type CommandEnv, flag, option } from './grammar.js';
import { type Address, mediaLabel, proto, word } from './param-types.js';

/** How long a connection may take before it fails. */
const CONNECT_TIMEOUT_MS = 15_000;
/** No byte for this long ends a transfer. */
const STALL_TIMEOUT_MS = 30_000;

function onMedia(args: Args): boolean {
  return args.media !== undefined;
}

/** One wording for the conflict, whichever of the words came first. */
const MEDIA_CONFLICT = 'media cannot be combined with proto, user or password';

/** The source keywords shared by `install` and `unlock` (manual order). */
export const sourceOptions = [
  option('media', mediaLabel, 'Read the file from a connected media (USB drive, SD card) with this label', {
    display: '<label>',
    skipIf: (a) => a.proto !== undefined || a.user !== undefined || a.password !== undefined,
    conflict: MEDIA_CONFLICT,
  }),
  option('proto', proto, 'Protocol of the remote source (default: ftp, with tftp as fallback)', {
    display: '<ftp|tftp|scp|sftp|http|https>',
    skipIf: onMedia,
    conflict: MEDIA_CONFLICT,
  }),
  option('user', word('<username>', 'Login name'), 'Login name on the server (default: the CLI user)', {
    display: '<username>',
    skipIf: onMedia,
    conflict: MEDIA_CONFLICT,
  }),
  option('password', word('<password>', 'Password'), 'Password on the server (prompted for when needed)', {
    display: '<password>',
    secret: true,
    skipIf: onMedia,
    conflict: MEDIA_CONFLICT,
  }),
] as const;

/** `persistent` of `install`. */
export const persistentFlag = flag('persistent', 'Survive a factory reset; only remove takes it away');

/** The arguments `openSource` reads: those of `sourceOptions` and `address`, and the path of the file. */
export interface SourceArgs {
  readonly media?: string;
  readonly proto?: ProtoName;
  readonly user?: string;
  readonly password?: string;
  readonly address?: Address;
  readonly path: string;
}

/** An opened source: read `transfer.stream` to the end, then call `done`. */
export interface OpenedSource {
  readonly transfer: Transfer;
  readonly origin: PackageOrigin;
  /** Clears the progress bar; call it whatever happens. */
  done(): void;
}

/** Opens a remote or media source with the device's limits, the session's prompts and a progress bar on a TTY. */
export async function openSource(src: SourceArgs, env: CommandEnv): Promise<OpenedSource> {
  const device = env.services.device;
  const info = await device.info();
  const name = src.path.split('/').pop() ?? src.path;
  if (src.media !== undefined) {
    const media = await env.services.media();
    const labels = (await device.bootConfig()).media;
    const file = await media.resolver.resolve(labels, src.media, src.path);
    const progress = env.ui.progress(name);
    try {
      const transfer = await media.resolver.open(file, {
        maxBytes: info.maxPackageBytes,
        signal: env.signal,
        ...onProgress(progress),
      });
      return {
        transfer,
        origin: { kind: 'media', label: src.media, path: src.path },
        done: () => progress?.done(),
      };
    } catch (e) {
      progress?.done();
      throw e;
    }
  }
  if (src.address === undefined)
    throw new CliError('CLI_INCOMPLETE', 'incomplete command: expected address[:port]');
  const tools = withPasswordRetry(await env.services.transports(), env);
  const progress = env.ui.progress(name);
  const ctx: TransportContext = {
    defaultPorts: info.defaultPorts,
    user: env.session.user,
    knownHostsFile: device.paths.knownHostsFile,
    caDir: device.paths.caDir,
    sshKeyFiles: [],
    maxBytes: info.maxPackageBytes,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    stallTimeoutMs: STALL_TIMEOUT_MS,
    signal: env.signal,
    // In automation mode nothing is asked: the transport says that a password is needed (give it
    // with `password`).
    ...(env.session.terminal.automation
      ? {}
      : {
          getPassword: async (prompt: string) => {
            const answer = await env.ui.password(prompt);
            if (answer === undefined) throw new CliError('CLI_NOT_CONFIRMED', 'no password given');
            return answer;
          },
        }),
    confirmHostKey: async (key) => {
      const host = tools.formatHostPort(key.host, key.port);
      if (env.session.acceptNewHostKeys) {
        // As OpenSSH's accept-new says it: the operator learns which key was trusted on their behalf.
        env.out.warn(
          `Permanently added the ${key.algorithm} key ${key.fingerprint} of ${host} to known_hosts.`,
        );
        return true;
      }
      return env.ui.confirm(
        `The authenticity of host ${host} can't be established.\n` +
          `${key.algorithm} key fingerprint is ${key.fingerprint}.\n` +
          'Trust this host key and continue connecting (y/N)?',
        'trust',
      );
    },
    ...onProgress(progress),
    ...onPolicyStep(progress, env.session.terminal.ascii),
  };
  const request: RemoteRequest = {
    host: src.address.host,
    path: src.path,
    ...(src.address.port === undefined ? {} : { port: src.address.port }),
    ...(src.proto === undefined ? {} : { proto: src.proto }),
    ...(src.user === undefined ? {} : { user: src.user }),
    ...(src.password === undefined ? {} : { password: src.password }),
  };
  try {
    const transfer = await tools.openRemote(request, ctx);
    // The protocol, host and port that delivered the bytes: tftp's own port after the ftp fallback.
    return {
      transfer,
      origin: { ...transfer.origin, path: src.path },
      done: () => progress?.done(),
    };
  } catch (e) {
    progress?.done();
    throw e;
  }
}

/**
 * On a terminal, what the default policy tries, in the progress bar's place until bytes flow:
 * `trying ftp 192.0.2.1:21…`, then `ftp 192.0.2.1:21 failed (no answer), trying tftp 192.0.2.1…`
 * (an unreachable host would otherwise show nothing for seconds).
 */
function onPolicyStep(
  progress: ProgressHandle | undefined,
  ascii: boolean,
): Pick<TransportContext, 'onPolicyStep'> {
  const note = progress?.note;
  if (note === undefined) return {};
  const dots = ascii ? '...' : '…';
  return {
    onPolicyStep: ({ origin, previous }) =>
      note(
        previous === undefined
          ? `trying ${origin}${dots}`
          : `${previous.origin} failed (${previous.reason}), trying ${origin}${dots}`,
      ),
  };
}

/**
 * On a terminal, a login refused after a password was typed or given on the line gets one more
 * try, as ssh asks again: the operator is told and asked for the password, instead of typing the
 * whole line again. Script mode fails at once (the next line of a script is not a second password).
 */
function withPasswordRetry(tools: TransportTools, env: CommandEnv): TransportTools {
  if (!env.session.interactive) return tools;
  return {
    ...tools,
    openRemote: async (request, ctx) => {
      const getPassword = ctx.getPassword;
      let asked = false;
      const counting: TransportContext =
        getPassword === undefined
          ? ctx
          : {
              ...ctx,
              getPassword: (prompt) => {
                asked = true;
                return getPassword(prompt);
              },
            };
      try {
        return await tools.openRemote(request, counting);
      } catch (e) {
        const refused = refusedLogin(e);
        if (refused === undefined || getPassword === undefined || (!asked && request.password === undefined))
          throw e;
        env.out.warn(`${refused}; try again`);
        const { password: _, ...again } = request;
        return tools.openRemote(again, ctx);
      }
    },
  };
}

/** The message of a refused login, alone or among the failures of the ftp→tftp policy. */
function refusedLogin(e: unknown): string | undefined {
  const error = e as { code?: unknown; message?: unknown; failures?: readonly unknown[] } | null;
  if (
    error?.code === 'TRANSPORT_AUTH' &&
    typeof error.message === 'string' &&
    /login refused/.test(error.message)
  )
    return error.message;
  for (const f of error?.code === 'TRANSPORT_ALL_FAILED' ? (error.failures ?? []) : []) {
    const found = refusedLogin(f);
    if (found !== undefined) return found;
  }
  return undefined;
}

function onProgress(progress: ProgressHandle | undefined): { onProgress?: ProgressHandle['update'] } {
  return progress === undefined ? {} : { onProgress: progress.update };
}
