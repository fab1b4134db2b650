// http and https with undici: bounded redirects (never https→http), Basic auth, the device's extra CAs.

import { readdir, readFile } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { oneLine } from '../common/text.js';
import { loadUndici } from '../tuning/undici-bundle.js';
import { keepWasmOnLiftoff } from '../tuning/wasm-liftoff.js';
import { endpointOf, formatHostPort, originOf, portOf } from './address.js';
import { fromSystemError, MESSAGE_MAX, TransportError } from './errors.js';
import { checkAnnouncedSize, guardReadable } from './guard.js';
import { OpenPhase } from './open-phase.js';
import { askPassword, checkPassword, passwordPrompt } from './password.js';
import { tlsFailure } from './tls-errors.js';
import type { RemoteSource, RemoteTransfer, Transport, TransportContext } from './types.js';

keepWasmOnLiftoff();
/** undici, loaded with this module (itself loaded at the first http or https transfer). */
const { Agent, request } = loadUndici();

/** Redirects followed at most, like curl's sane limits and undici's examples. */
const MAX_REDIRECTS = 5;

/** http: plain GET. */
export const httpTransport: Transport = { name: 'http', open: openHttp };
/** https: GET over TLS, certificates checked against the system CAs plus every PEM in `ctx.caDir`. */
export const httpsTransport: Transport = { name: 'https', open: openHttp };

/** Where the operating system keeps its CA bundle, first existing wins (Debian, Red Hat, Alpine/BSD). */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
];

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

let systemCas: Promise<string[]> | undefined;

/** The CAs an https transfer trusts: Node's bundled roots, the system bundle, and the device's directory. */
async function trustedCas(caDir: string): Promise<string[]> {
  systemCas ??= (async () => {
    const files = process.env.SSL_CERT_FILE ? [process.env.SSL_CERT_FILE, ...SYSTEM_BUNDLES] : SYSTEM_BUNDLES;
    for (const file of files) {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text) return [...rootCertificates, ...(text.match(PEM_CERTIFICATE) ?? [])];
    }
    return [...rootCertificates];
  })();
  const names = await readdir(caDir).catch(() => [] as string[]);
  const device: string[] = [];
  for (const name of names.sort()) {
    // Every certificate in every readable file counts, whatever its name (.pem, .crt, a hash link).
    const text = await readFile(join(caDir, name), 'utf8').catch(() => undefined);
    device.push(...(text?.match(PEM_CERTIFICATE) ?? []));
  }
  return [...(await systemCas), ...device];
}

/** The URL of a source: the path as a file path, each segment percent-encoded. */
function urlOf(source: RemoteSource, port: number): URL {
  const path = source.path.split('/').map(encodeURIComponent).join('/');
  return new URL(
    `${source.proto}://${formatHostPort(source.host, port)}${path.startsWith('/') ? '' : '/'}${path}`,
  );
}

async function openHttp(source: RemoteSource, ctx: TransportContext): Promise<RemoteTransfer> {
  const origin = originOf(source, ctx);
  const user = source.user ?? ctx.user;
  const https = source.proto === 'https';
  const agent = new Agent({
    connect: { timeout: ctx.connectTimeoutMs, ...(https ? { ca: await trustedCas(ctx.caDir) } : {}) },
    headersTimeout: ctx.stallTimeoutMs,
    // The guard times out a stalled body, counting only time spent waiting for the server.
    bodyTimeout: 0,
  });
  const close = () => {
    agent.destroy().catch(() => undefined);
  };
  const phase = new OpenPhase(ctx, origin, close);
  try {
    const response = await phase.run(async () => {
      const first = urlOf(source, portOf(source, ctx));
      let url = first;
      let password = source.password === undefined ? undefined : checkPassword(origin, source.password);
      let authorization = password === undefined ? undefined : basic(user, password);
      const visited = new Set([url.href]);
      for (;;) {
        // Credentials go only to the server the operator named, never to one a redirect points at.
        const headers: Record<string, string> = { 'user-agent': 'edgesh' };
        if (authorization && url.origin === first.origin) headers.authorization = authorization;
        const since = source.unlessUnchanged;
        if (since?.lastModified !== undefined) headers['if-modified-since'] = since.lastModified;
        if (since?.etag !== undefined) headers['if-none-match'] = since.etag;
        const res = await request(url, { dispatcher: agent, method: 'GET', headers });
        const { statusCode } = res;
        const location = res.headers.location;
        if (statusCode >= 300 && statusCode < 400 && typeof location === 'string') {
          await res.body.dump().catch(() => undefined);
          url = nextUrl(origin, url, location, visited);
          continue;
        }
        if (statusCode === 401 && authorization === undefined) {
          await res.body.dump().catch(() => undefined);
          const challenge = String(res.headers['www-authenticate'] ?? '');
          if (!/^\s*basic\b/i.test(challenge)) {
            throw new TransportError(
              'TRANSPORT_AUTH',
              `${origin}: server asks for ${oneLine(challenge.split(/\s/)[0] || 'unknown', MESSAGE_MAX)} authentication; only Basic is supported`,
            );
          }
          password ??= await askPassword(ctx, phase, origin, user, passwordPrompt(user, source.host));
          authorization = basic(user, password);
          continue;
        }
        if (statusCode === 200 || statusCode === 203) return { res, url };
        if (statusCode === 304 && source.unlessUnchanged !== undefined) return { res, url };
        await res.body.dump().catch(() => undefined);
        throw statusError(origin, source.path, statusCode, url === first ? undefined : url, user);
      }
    });
    const { headers } = response.res;
    if (response.res.statusCode === 304) {
      await response.res.body.dump().catch(() => undefined);
      close();
      return { stream: Readable.from([]), size: 0, origin: endpointOf(source, ctx), notModified: true };
    }
    const size = contentLength(headers['content-length']);
    checkAnnouncedSize(origin, size, ctx.maxBytes);
    const transfer = guardReadable(response.res.body, {
      origin,
      // The server named (a redirect elsewhere is the server's doing; the path typed is the record's).
      endpoint: endpointOf(source, ctx),
      size,
      ctx,
      release: close,
      describe: (error) => describeHttpError(origin, error),
    });
    const lastModified = headerText(headers['last-modified']);
    const etag = headerText(headers.etag);
    if (lastModified === undefined && etag === undefined) return transfer;
    return {
      ...transfer,
      validators: {
        ...(lastModified === undefined ? {} : { lastModified }),
        ...(etag === undefined ? {} : { etag }),
      },
    };
  } catch (error) {
    close();
    throw describeHttpError(origin, error);
  }
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** The target of a redirect, refusing loops, too many hops, other schemes and any https→http downgrade. */
function nextUrl(origin: string, from: URL, location: string, visited: Set<string>): URL {
  const refuse = (what: string) => new TransportError('TRANSPORT_REDIRECT', `${origin}: ${what}`);
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw refuse(`invalid redirect to "${oneLine(location, 80)}"`);
  }
  next.username = '';
  next.password = '';
  next.hash = '';
  if (next.protocol !== 'http:' && next.protocol !== 'https:')
    throw refuse(`redirect to ${next.protocol} refused`);
  if (from.protocol === 'https:' && next.protocol === 'http:') {
    throw refuse(`redirect from https to http refused (${next.href})`);
  }
  if (visited.has(next.href)) throw refuse(`redirect loop (${next.href})`);
  if (visited.size > MAX_REDIRECTS) throw refuse(`more than ${MAX_REDIRECTS} redirects`);
  visited.add(next.href);
  return next;
}

function statusError(
  origin: string,
  path: string,
  status: number,
  redirected: URL | undefined,
  user: string,
): TransportError {
  const where = redirected ? ` at ${redirected.href}` : '';
  const http = `(HTTP ${status} ${STATUS_CODES[status] ?? ''})`.replace(' )', ')');
  switch (status) {
    case 401:
      return new TransportError('TRANSPORT_AUTH', `${origin}: login refused for user ${user} ${http}`);
    case 403:
      return new TransportError(
        'TRANSPORT_ACCESS_DENIED',
        `${origin}: access denied: ${path}${where} ${http}`,
      );
    case 404:
    case 410:
      return new TransportError('TRANSPORT_NOT_FOUND', `${origin}: file not found: ${path}${where} ${http}`);
    default:
      return new TransportError('TRANSPORT_HTTP_STATUS', `${origin}: server answered ${http}${where}`);
  }
}

/** A validator header as it may be sent back: one printable line, not too long. */
function headerText(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && header.length <= 256 && /^[\x20-\x7e]+$/.test(header)
    ? header
    : undefined;
}

function contentLength(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string' || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}

/** Operator's words for undici's and TLS's errors (TLS: see tls-errors.ts). */
function describeHttpError(origin: string, error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const tls = tlsFailure(origin, error);
  if (tls) return tls;
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const say = (c: TransportError['code'], what: string) =>
    new TransportError(c, `${origin}: ${what}`, { cause: error });
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return say('TRANSPORT_CONNECT_TIMEOUT', 'no answer (connect timeout)');
    case 'UND_ERR_HEADERS_TIMEOUT':
      return say('TRANSPORT_STALLED', 'no answer to the request (stall timeout)');
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return say('TRANSPORT_TRUNCATED', 'connection closed by the server');
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return say('TRANSPORT_PROTOCOL', 'invalid HTTP response');
  }
  const system = fromSystemError(origin, error);
  if (system) return system;
  const text = error instanceof Error ? error.message : String(error);
  return say('TRANSPORT_PROTOCOL', oneLine(text, 160));
}
