// Parameter types of the feed commands: feed names and URLs, feed packages (TAB from the kept indexes), install targets.
import { FEED_NAME_RULE, FeedUrlError, formatFeedUrl, isFeedName, parseFeedUrl } from '../common/feed-url.js';
import { isPackageName, PACKAGE_NAME_RULE } from '../common/package-name.js';
import { CliError } from './errors.js';
import { invalid, type ParamType } from './grammar.js';
import { type Address, address, installedPackage, isIPv4, isIPv6 } from './param-types.js';

const CONTROL = /[\x00-\x1f\x7f]/;

function startsWith(prefix: string): (word: string) => boolean {
  return (word) => word.startsWith(prefix);
}

/**
 * What `install` names after its options: a server, whose `.wmopkg` file follows, or a package of the
 * feeds (a bare name: no address form, no `.wmopkg`). A word that could be either (`hello` is a host
 * name too) keeps both; what follows decides.
 */
export interface InstallTarget {
  /** The word as a server address, when it is one. */
  readonly address?: Address;
  /** The word as a feed package name, when it is one. */
  readonly name?: string;
}

/** `address[:port]|PKGNAME`: TAB offers the package names of the kept feed indexes. */
export const installTarget: ParamType<InstallTarget> = {
  name: 'address[:port]|PKGNAME',
  help: 'Server of the .wmopkg file, or a package of the feeds to install with what it needs',
  parse(text) {
    // An address form (IPv4, [IPv6], a port) or a file name is never a feed package.
    const addressOnly =
      isIPv4(text) || isIPv6(text) || text.startsWith('[') || text.includes(':') || text.endsWith('.wmopkg');
    const name = !addressOnly && !CONTROL.test(text) && isPackageName(text) ? text : undefined;
    try {
      const parsed = address.parse(text);
      return name === undefined ? { address: parsed } : { address: parsed, name };
    } catch (error) {
      if (name !== undefined) return { name };
      if (
        error instanceof CliError &&
        /^invalid address\[:port\]/.test(error.message) &&
        !text.includes('@')
      ) {
        throw invalid(this, text, `expected a server address, or a package name (${PACKAGE_NAME_RULE})`);
      }
      throw error;
    }
  },
  async complete(prefix, env) {
    return (await env.services.device.feedNames()).filter(startsWith(prefix));
  },
};

/** A package of the feeds (`show available NAME`, `show depends NAME`); TAB offers the kept indexes' names. */
export const feedPackage: ParamType<string> = {
  name: 'PKGNAME',
  help: 'Package of the feeds',
  parse(text) {
    if (CONTROL.test(text) || !isPackageName(text))
      throw invalid(this, text, `expected a package name (${PACKAGE_NAME_RULE})`);
    return text;
  },
  async complete(prefix, env) {
    return (await env.services.device.feedNames()).filter(startsWith(prefix));
  },
};

/** A package installed or offered by the feeds (`show depends`): TAB offers both. */
export const anyPackage: ParamType<string> = {
  ...feedPackage,
  help: 'Installed package, or a package of the feeds',
  async complete(prefix, env) {
    const [installed, offered] = await Promise.all([
      env.services.device.names(),
      env.services.device.feedNames(),
    ]);
    return [...new Set([...installed, ...offered])].filter(startsWith(prefix)).sort();
  },
};

/** `upgrade`'s argument: `all` or an installed package. */
export const upgradeTarget: ParamType<string> = {
  name: 'PKGNAME|all',
  help: 'Installed package, or all (the default)',
  parse(text) {
    return text === 'all' ? 'all' : installedPackage.parse(text);
  },
  async complete(prefix, env) {
    return ['all', ...(await env.services.device.names())].filter(startsWith(prefix));
  },
};

/** A configured feed's name; TAB offers them. */
export const feedName: ParamType<string> = {
  name: 'NAME',
  help: 'Name of the feed',
  parse(text) {
    if (!isFeedName(text)) throw invalid({ name: 'feed name' }, text, `expected ${FEED_NAME_RULE}`);
    return text;
  },
  async complete(prefix, env) {
    return (await env.services.device.feeds()).map((f) => f.name).filter(startsWith(prefix));
  },
};

/**
 * A feed URL (`http[s]://host[:port]/path`, `ftp://[user@]host[:port]/path`, `tftp://…`,
 * `sftp://user@host[:port]/path`, `scp://…`, `media://LABEL/path`), stored as written back. A
 * password in it is refused without being repeated.
 */
export const feedUrl: ParamType<string> = {
  name: 'URL',
  help: 'Where the feed is: http[s]://, ftp://, tftp://, sftp://, scp:// or media://LABEL/PATH',
  parse(text) {
    try {
      return formatFeedUrl(parseFeedUrl(text));
    } catch (error) {
      if (!(error instanceof FeedUrlError)) throw error;
      throw new CliError('CLI_INVALID_VALUE', `invalid URL: ${error.message}`, { expected: error.message });
    }
  },
};

/** What `search` looks for: one word, or several in quotes. */
export const searchText: ParamType<string> = {
  name: 'TEXT',
  help: 'Text to find in package names and descriptions (case does not matter)',
  parse(text) {
    if (text === '' || CONTROL.test(text))
      throw invalid(this, text, 'expected text without control characters');
    return text;
  },
};
