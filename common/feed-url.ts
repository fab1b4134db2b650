// The feed-URL rule: which addresses a feed may have (`feed NAME URL`), checked alike by the shell and the device.
import { isLabelName } from './media-label.js';
import { shown } from './text.js';
import type { ProtoName } from './vocabulary.js';

/** Where a feed lives: a directory on a server, or on a media. */
export type FeedUrl =
  | {
      readonly kind: 'remote';
      readonly proto: ProtoName;
      /** Host name or IP address; an IPv6 address without its brackets. */
      readonly host: string;
      readonly port?: number;
      /** Login name (`user@`); never a password. */
      readonly user?: string;
      /**
       * The feed's directory as the transport takes a path: relative to the server's root (http, tftp)
       * or the login directory (ftp, sftp, scp); absolute when the URL has two slashes after the host
       * (`sftp://host//srv/feed`). Empty for the root itself. No trailing slash.
       */
      readonly dir: string;
    }
  | { readonly kind: 'media'; readonly label: string; readonly dir: string };

/** The schemes a feed URL may have. */
export const FEED_SCHEMES = ['http', 'https', 'ftp', 'tftp', 'sftp', 'scp', 'media'] as const;

/** The feed-name rule: what `feed NAME URL` accepts. */
export const FEED_NAME = /^[a-z0-9][a-z0-9._-]{0,31}$/;
/** The feed-name rule in words. */
export const FEED_NAME_RULE = "1-32 of a-z, 0-9, '.', '_' and '-', starting with a-z or 0-9";

/** Whether `name` may name a feed. */
export function isFeedName(name: string): boolean {
  return FEED_NAME.test(name);
}

/** Why a text is not a feed URL, as one line for the operator. */
export class FeedUrlError extends Error {
  override readonly name = 'FeedUrlError';
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_URL = 2048;

/**
 * Parses `http[s]://host[:port]/path`, `ftp://[user@]host[:port]/path`, `tftp://host[:port]/path`,
 * `sftp://user@host[:port]/path`, `scp://user@host[:port]/path` and `media://LABEL/path`. A password
 * in the URL is refused without being repeated (it would end up in the configuration and in every
 * `show feeds`): the password is asked for at `update`, or a key is used. Path segments are
 * percent-decoded; `..` segments and control characters are refused.
 */
export function parseFeedUrl(text: string): FeedUrl {
  if (text.length > MAX_URL) throw new FeedUrlError(`a feed URL may be at most ${MAX_URL} characters`);
  if (CONTROL.test(text)) throw new FeedUrlError('a feed URL may not contain control characters');
  // Before anything that could repeat the text: a password in it is never shown.
  const authority0 = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/]*)/.exec(text)?.[1] ?? '';
  if (authority0.slice(0, Math.max(0, authority0.lastIndexOf('@'))).includes(':')) throw passwordError();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(\/[^?#]*)?$/.exec(text);
  if (m === null) {
    throw new FeedUrlError(
      `"${shown(text)}" is not a feed URL: expected SCHEME://HOST/PATH (${FEED_SCHEMES.join(', ')}), or media://LABEL/PATH`,
    );
  }
  const scheme = m[1]!.toLowerCase();
  const authority = m[2]!;
  const rawPath = m[3] ?? '';
  if (!(FEED_SCHEMES as readonly string[]).includes(scheme)) {
    throw new FeedUrlError(`unknown scheme "${shown(scheme)}": expected ${FEED_SCHEMES.join(', ')}`);
  }
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? undefined : authority.slice(0, at);
  if (userinfo?.includes(':')) throw passwordError();
  const hostPort = at < 0 ? authority : authority.slice(at + 1);
  const dir = decodePath(rawPath);
  if (scheme === 'media') {
    if (userinfo !== undefined) throw new FeedUrlError('a media URL has no user');
    if (!isLabelName(hostPort)) {
      throw new FeedUrlError(`"${shown(hostPort)}" is not a media label (media://LABEL/PATH)`);
    }
    if (dir.startsWith('/')) throw new FeedUrlError('a path on a media is relative to its root');
    return { kind: 'media', label: hostPort, dir };
  }
  const proto = scheme as ProtoName;
  let user: string | undefined;
  if (userinfo !== undefined) {
    user = decode(userinfo, 'user name');
    if (!/^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/.test(user)) throw new FeedUrlError('invalid user name');
    if (proto === 'http' || proto === 'https' || proto === 'tftp') {
      throw new FeedUrlError(`${proto} feeds take no user name`);
    }
  }
  const { host, port } = parseHostPort(hostPort);
  return {
    kind: 'remote',
    proto,
    host,
    ...(port === undefined ? {} : { port }),
    ...(user === undefined ? {} : { user }),
    dir,
  };
}

/**
 * The URL as written back: `http://127.0.0.1:8080/feed`. Segments are percent-encoded where they
 * must be, so that `parseFeedUrl(formatFeedUrl(u))` gives `u` again.
 */
export function formatFeedUrl(url: FeedUrl): string {
  const path = url.dir === '' ? '' : `/${url.dir.split('/').map(encodeSegment).join('/')}`;
  if (url.kind === 'media') return `media://${url.label}${path}`;
  const host = url.host.includes(':') ? `[${url.host}]` : url.host;
  const port = url.port === undefined ? '' : `:${url.port}`;
  const user = url.user === undefined ? '' : `${encodeURIComponent(url.user)}@`;
  return `${url.proto}://${user}${host}${port}${path}`;
}

/** The path of a file of the feed (`Packages`, `pool/a_1.0.wmopkg`) as the transport or media takes it. */
export function feedFilePath(url: FeedUrl, file: string): string {
  return url.dir === '' ? file : url.dir.endsWith('/') ? `${url.dir}${file}` : `${url.dir}/${file}`;
}

function passwordError(): FeedUrlError {
  return new FeedUrlError(
    'a password cannot be part of a feed URL: give user@ only (the password is asked for at update), or use a key',
  );
}

function parseHostPort(text: string): { host: string; port?: number } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const m = /^\[([0-9A-Fa-f:.]+)\](?::(.*))?$/.exec(text);
    if (m === null || !URL.canParse(`http://[${m[1]}]/`))
      throw new FeedUrlError(`invalid host "${shown(text)}"`);
    host = m[1]!;
    portText = m[2];
  } else {
    const m = /^([^:]*)(?::(.*))?$/.exec(text)!;
    host = m[1]!;
    portText = m[2];
    const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
    const hostName = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
    if (host === '' || host.length > 253 || !labels.every((l) => hostName.test(l))) {
      throw new FeedUrlError(
        `invalid host "${shown(host)}": expected a host name, an IPv4 address or [IPv6]`,
      );
    }
  }
  if (portText === undefined) return { host };
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new FeedUrlError('the port must be a number from 1 to 65535');
  return { host, port };
}

/** `/a/b%20c/` → `a/b c`; `//srv/x` → `/srv/x` (absolute on the server). */
function decodePath(raw: string): string {
  const absolute = raw.startsWith('//');
  const segments = raw
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decode(s, 'path'));
  for (const s of segments) {
    if (s === '..' || s === '.') throw new FeedUrlError('a feed path may not contain "." or ".." segments');
    if (s.includes('/') || CONTROL.test(s) || s.includes('\\')) {
      throw new FeedUrlError('a feed path segment may not hold "/", "\\" or control characters');
    }
  }
  return `${absolute ? '/' : ''}${segments.join('/')}`;
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new FeedUrlError(`invalid percent-encoding in the ${what}`);
  }
}

function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%2B/g, '+').replace(/%40/g, '@').replace(/%3A/g, ':');
}
