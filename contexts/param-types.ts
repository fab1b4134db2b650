// Parameter types (klish ptypes): each is `parse` plus an optional `complete`; errors say what was expected.

import { formatHostPort } from '../common/host.js';
import {
  FS_LABEL_RULE,
  isFsLabel,
  isLabelName,
  isUuid,
  LABEL_NAME_RULE,
  UUID_RULE,
} from '../common/media-label.js';
import { isPackageName, MAX_PACKAGE_NAME, PACKAGE_NAME } from '../common/package-name.js';
import { shown } from '../common/text.js';
import { PROTOCOLS, type ProtoName } from '../transports/types.js';
import { CliError } from './errors.js';
import { invalid, type ParamType } from './grammar.js';
import { compileLinePattern, type LinePattern, PatternError } from './line-pattern.js';

/** `address[:port]` parsed: an IPv6 host is stored without its brackets. */
export interface Address {
  readonly host: string;
  readonly port?: number;
}

/** `PKGNAME.wmopkg` parsed: the path as typed and the package name it gives. */
export interface PackageFile {
  readonly path: string;
  /** The file name without `.wmopkg`: the package name on the device. */
  readonly name: string;
}

const CONTROL = /[\x00-\x1f\x7f]/;
const IPV4_PART = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const IPV4 = new RegExp(`^${IPV4_PART}(?:\\.${IPV4_PART}){3}$`);

/** A dotted-quad IPv4 address, as node:net's isIPv4 accepts it (no leading zeros). */
export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/**
 * An IPv6 address, optionally with a zone (`fe80::1%eth0`). Checked with the URL parser (built
 * in, no import): node:net would be the natural choice but costs startup time in script mode.
 */
export function isIPv6(text: string): boolean {
  const [address, zone, extra] = text.split('%');
  if (extra !== undefined || address === undefined || !address.includes(':')) return false;
  if (zone !== undefined && !/^[A-Za-z0-9_.-]{1,32}$/.test(zone)) return false;
  return URL.canParse(`http://[${address}]/`);
}
const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function startsWith(prefix: string): (word: string) => boolean {
  return (word) => word.startsWith(prefix);
}

/** A port number 1–65535 (decimal). */
function parsePort(type: ParamType, text: string, port: string): number {
  const n = /^[0-9]{1,5}$/.test(port) ? Number(port) : Number.NaN;
  if (!(n >= 1 && n <= 65535)) throw invalid(type, text, `the port must be a number from 1 to 65535`);
  return n;
}

function isHostName(host: string): boolean {
  if (host.length > 253) return false;
  const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
  if (!labels.every((l) => HOST_LABEL.test(l))) return false;
  // All-numeric names are IPv4 addresses, and must be valid ones.
  return !labels.every((l) => /^[0-9]+$/.test(l)) || isIPv4(host);
}

/** `address[:port]`: IPv4, host name, or IPv6 in brackets (`[2001:db8::1]:21`); a bare IPv6 address takes no port. */
export const address: ParamType<Address> = {
  name: 'address[:port]',
  help: 'Server: IPv4 address, host name or [IPv6], optionally :port',
  parse(text) {
    const expected = 'expected an IPv4 address, a host name or [IPv6 address], optionally followed by :port';
    // `user:password@host` (or a URL holding one): refused without repeating it, it may hold a password.
    if (text.includes('@')) {
      throw new CliError(
        'CLI_INVALID_VALUE',
        `invalid ${this.name}: a user name or password cannot be part of the address; give them with user and password`,
      );
    }
    if (text.includes('://'))
      throw invalid(this, text, `expected an address, not a URL (name the protocol with proto)`);
    if (text.startsWith('[')) {
      const m = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
      if (m === null || !isIPv6(m[1]!)) throw invalid(this, text, expected);
      return m[2] === undefined ? { host: m[1]! } : { host: m[1]!, port: parsePort(this, text, m[2]) };
    }
    if (isIPv6(text)) return { host: text };
    const m = /^([^:]+)(?::(.*))?$/.exec(text);
    if (m === null || !(isIPv4(m[1]!) || isHostName(m[1]!))) throw invalid(this, text, expected);
    return m[2] === undefined ? { host: m[1]! } : { host: m[1]!, port: parsePort(this, text, m[2]) };
  },
};

/**
 * `PKGNAME.wmopkg`, possibly a path on the server or media. The file name without `.wmopkg` is the
 * package name: 1–64 characters out of `[a-z0-9.+-]`, starting with a letter or digit.
 */
export const packageFile: ParamType<PackageFile> = {
  name: 'PKGNAME.wmopkg',
  help: 'Package file (.wmopkg), may be a path on the server or media',
  parse(text) {
    if (CONTROL.test(text)) throw invalid(this, text, 'control characters are not allowed');
    const parts = text.split('/');
    if (parts.includes('..')) throw invalid(this, text, 'a path may not contain ".." components');
    const base = parts[parts.length - 1]!;
    if (!base.endsWith('.wmopkg')) {
      throw invalid(
        this,
        text,
        base.toLowerCase().endsWith('.wmopkg')
          ? 'the extension must be .wmopkg in lower case'
          : 'the file must have the .wmopkg extension',
      );
    }
    const name = base.slice(0, -'.wmopkg'.length);
    if (name === '') throw invalid(this, text, 'the package name before .wmopkg is empty');
    if (/\s/.test(name)) throw invalid(this, text, 'the package name may not contain spaces');
    if (name.length > MAX_PACKAGE_NAME) {
      throw invalid(this, text, `the package name is longer than ${MAX_PACKAGE_NAME} characters`);
    }
    if (!PACKAGE_NAME.test(name)) {
      throw invalid(
        this,
        text,
        "the package name may hold only a-z, 0-9, '.', '+' and '-', starting with a-z or 0-9",
      );
    }
    return { path: text, name };
  },
};

/** A package name as installed; TAB offers the installed names (`device.names()`, the fast call). */
export const installedPackage: ParamType<string> = {
  name: 'PKGNAME',
  help: 'Installed package',
  parse(text) {
    if (CONTROL.test(text) || !isPackageName(text)) {
      throw invalid(this, text, "expected a package name (a-z, 0-9, '.', '+', '-'; see show)");
    }
    return text;
  },
  async complete(prefix, env) {
    return (await env.services.device.names()).filter(startsWith(prefix));
  },
};

/** `remove`'s argument: `all` or an installed package. */
export const packageOrAll: ParamType<
  { readonly all: true } | { readonly all: false; readonly name: string }
> = {
  name: 'PKGNAME|all',
  help: 'Installed package, or all',
  parse(text) {
    if (text === 'all') return { all: true };
    return { all: false, name: installedPackage.parse(text) };
  },
  async complete(prefix, env) {
    return ['all', ...(await env.services.device.names())].filter(startsWith(prefix));
  },
};

/** A protocol name; a unique prefix is accepted (`sf` → `sftp`). */
export const proto: ParamType<ProtoName> = {
  name: '<ftp|tftp|scp|sftp|http|https>',
  help: 'Protocol of the remote source',
  parse(text) {
    const t = text.toLowerCase();
    const exact = PROTOCOLS.find((p) => p === t);
    if (exact !== undefined) return exact;
    const hits = t === '' ? [] : PROTOCOLS.filter((p) => p.startsWith(t));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) {
      throw new CliError('CLI_AMBIGUOUS', `ambiguous protocol "${shown(text)}": ${hits.join(', ')}`);
    }
    throw invalid({ name: 'protocol' }, text, `expected ${PROTOCOLS.join(', ')}`);
  },
  complete(prefix) {
    return PROTOCOLS.filter(startsWith(prefix.toLowerCase()));
  },
};

/** A media label name; TAB offers the labels of the boot configuration. */
export const mediaLabel: ParamType<string> = {
  name: '<label>',
  help: 'Media label from the boot configuration (show media lists them)',
  parse(text) {
    if (!isLabelName(text)) throw invalid({ name: 'media label' }, text, `expected ${LABEL_NAME_RULE}`);
    return text;
  },
  async complete(prefix, env) {
    return (await env.services.device.bootConfig()).media.map((l) => l.name).filter(startsWith(prefix));
  },
};

/** Any single word without control characters (user names, passwords, fs labels). */
export function word(name: string, help: string): ParamType<string> {
  return {
    name,
    help,
    parse(text) {
      if (text === '' || CONTROL.test(text))
        throw invalid({ name }, text, 'expected a word without control characters');
      return text;
    },
  };
}

/** The filesystem label a media label matches (`fs-label X`), as `lsblk -o LABEL` shows it. */
export const fsLabel: ParamType<string> = {
  name: 'X',
  help: 'Filesystem label',
  parse(text) {
    if (!isFsLabel(text)) throw invalid({ name: 'fs-label' }, text, `expected ${FS_LABEL_RULE}`);
    return text;
  },
};

/** The filesystem uuid a media label matches (`uuid U`), as lsblk shows it. */
export const fsUuid: ParamType<string> = {
  name: 'U',
  help: 'Filesystem UUID',
  parse(text) {
    if (!isUuid(text)) throw invalid({ name: 'uuid' }, text, `expected ${UUID_RULE}`);
    return text;
  },
};

/** A relative file path on a server or media (`unlock … FILE`). */
export const filePath: ParamType<string> = {
  name: 'FILE',
  help: 'File on the server or media',
  parse(text) {
    if (text === '' || CONTROL.test(text))
      throw invalid(this, text, 'expected a path without control characters');
    if (text.split('/').includes('..')) throw invalid(this, text, 'a path may not contain ".." components');
    return text;
  },
};

/** A whole number from `min` to `max`. */
export function number(name: string, help: string, min: number, max: number): ParamType<number> {
  return {
    name,
    help,
    parse(text) {
      const n = /^[0-9]{1,9}$/.test(text) ? Number(text) : Number.NaN;
      if (!(n >= min && n <= max)) throw invalid({ name }, text, `expected a number from ${min} to ${max}`);
      return n;
    },
  };
}

/** A whole number from `min` to `max`, or `auto` (`terminal width auto`): the value follows the terminal. */
export function numberOrAuto(
  name: string,
  help: string,
  min: number,
  max: number,
): ParamType<number | 'auto'> {
  const n = number(name, help, min, max);
  return {
    name: `${name}|auto`,
    help,
    parse(text) {
      if (text.toLowerCase() === 'auto') return 'auto';
      try {
        return n.parse(text);
      } catch {
        throw invalid({ name }, text, `expected a number from ${min} to ${max}, or auto`);
      }
    },
    complete: (prefix) => (prefix !== '' && 'auto'.startsWith(prefix.toLowerCase()) ? ['auto'] : []),
  };
}

/** The rest of the line as a regular expression (output filters): RE2 syntax, linear-time matching. */
export const regex: ParamType<LinePattern> = {
  name: 'RE',
  help: 'Regular expression, RE2 syntax (the rest of the line)',
  rest: true,
  parse(text) {
    try {
      return compileLinePattern(text);
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
      throw invalid({ name: 'regular expression' }, text, e.message);
    }
  },
};

/** The rest of the line as words (`help show version`). */
export const restWords: ParamType<string> = {
  name: 'COMMAND',
  help: 'Command to explain',
  rest: true,
  parse(text) {
    return text;
  },
};

/** A key number: 16 hex digits (`0x` in front allowed, any letter case), stored in lower case. */
export const keyNumber: ParamType<string> = {
  name: 'KEYNUMBER',
  help: 'Key number: 16 hex digits (show keys lists them)',
  parse(text) {
    const match = /^(?:0x)?([0-9a-fA-F]{16})$/.exec(text);
    if (!match) throw invalid({ name: 'key number' }, text, 'expected 16 hex digits, e.g. 0123456789abcdef');
    return match[1]!.toLowerCase();
  },
  async complete(prefix, env) {
    const keys = await env.services.device.trust.keys();
    const numbers = [...keys.keys.filter((k) => !k.revoked).map((k) => k.keyNumber)];
    return [...new Set(numbers)].filter(startsWith(prefix.toLowerCase()));
  },
};

/** The key number of a key the device has (`no key`): completes from every key file. */
export const trustedKeyNumber: ParamType<string> = {
  ...keyNumber,
  async complete(prefix, env) {
    const keys = await env.services.device.trust.keys();
    return [...new Set(keys.keys.map((k) => k.keyNumber))].filter(startsWith(prefix.toLowerCase()));
  },
};

/** A file of `etc/ssl/certs/` by name (`no certificate`); completes from the certificates there. */
export const certificateName: ParamType<string> = {
  name: 'NAME',
  help: 'CA certificate file name (show certificates lists them)',
  parse(text) {
    if (text === '' || text.includes('/') || text.startsWith('.') || CONTROL.test(text))
      throw invalid({ name: 'certificate name' }, text, 'expected a file name of etc/ssl/certs/');
    return text;
  },
  async complete(prefix, env) {
    const names = (await env.services.device.trust.certificates()).map((c) => c.name);
    return [...new Set(names)].filter(startsWith(prefix));
  },
};

/** A server with SSH host keys on the device (`no host`): `address[:port]`, completed from known_hosts. */
export const knownHost: ParamType<Address> = {
  ...address,
  help: 'Server whose SSH host keys to forget (show hosts lists them), optionally :port',
  async complete(prefix, env) {
    const names = new Set<string>();
    for (const entry of await env.services.device.trust.knownHosts()) {
      if (entry.marker !== undefined || entry.hosts === '(hashed)') continue;
      for (const pattern of entry.hosts.split(',')) {
        if (/[*?!]/.test(pattern)) continue;
        // known_hosts writes `[host]:port` for another port than 22; the address syntax is host:port.
        const bracketed = /^\[(.+)\]:([0-9]+)$/.exec(pattern);
        names.add(bracketed ? formatHostPort(bracketed[1]!, Number(bracketed[2])) : pattern);
      }
    }
    return [...names].filter(startsWith(prefix));
  },
};
