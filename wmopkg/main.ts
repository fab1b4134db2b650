// `wmopkg`: the packaging tool — keygen, build, removal, sign, verify, info, contents, index (SPEC §6); it prints, the libraries do the work.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../common/atomic.js';
import { oneLine, printable } from '../common/text.js';
import type { Verification } from '../common/vocabulary.js';
import {
  FormatError,
  formatPublicKey,
  formatSecretKey,
  GzipTarParser,
  generateKeyPair,
  isEncryptedSecretKey,
  keyNumberHex,
  loadTrustStore,
  parsePublicKey,
  parseRevocationList,
  parseSecretKey,
  readBuildTree,
  readPackageFile,
  removalPackageSpec,
  resolveOwner,
  type SecretKey,
  signPackageFile,
  trustStoreOf,
  type Verdict,
  verifyPackage,
  writePackage,
} from '../firmware-sim/format/index.js';
import { formatInfo, formatListing } from './describe.js';

/** Exit status of `verify`, one per verdict; 1 is any other error, 2 a usage error. */
const VERIFY_EXIT: Readonly<Record<Verification, number>> = {
  Signed: 0,
  Untrusted: 3,
  Unsigned: 4,
  Invalid: 5,
};

class UsageError extends Error {}

/** An option's value as parseArgs gives it (a list for an option given `multiple`). */
type OptionValue = string | boolean | string[] | undefined;

interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  readonly run: (values: Record<string, OptionValue>, positionals: string[]) => Promise<number>;
}

const passphraseFileOption = { 'passphrase-file': { type: 'string' } } as const;

const COMMANDS: Record<string, Command> = {
  keygen: {
    summary: 'make a signing key pair (signify/usign compatible)',
    usage: `wmopkg keygen -p KEY.pub -s KEY.sec [-c COMMENT] [-n] [--passphrase-file FILE]

  -p FILE               public key file to write
  -s FILE               secret key file to write (mode 0600)
  -c COMMENT            comment for both files (default: "wmopkg")
  -n                    no passphrase: the secret key is stored unencrypted
  --passphrase-file F   read the passphrase from the first line of F instead of the terminal`,
    options: {
      p: { type: 'string' },
      s: { type: 'string' },
      c: { type: 'string' },
      n: { type: 'boolean' },
      ...passphraseFileOption,
    },
    async run(values) {
      const pub = required(values.p, '-p KEY.pub');
      const sec = required(values.s, '-s KEY.sec');
      for (const file of [pub, sec])
        if (existsSync(file)) throw new UsageError(`${file} exists; not overwriting it`);
      const passphrase = values.n ? undefined : await newPassphrase(values['passphrase-file']);
      const comment = typeof values.c === 'string' ? values.c : 'wmopkg';
      const { publicKey, secretKey } = generateKeyPair(comment);
      await writeFileAtomic(sec, formatSecretKey(secretKey, passphrase), 0o600);
      await writeFileAtomic(pub, formatPublicKey(publicKey));
      console.log(`key ${keyNumberHex(publicKey.keyNumber)}: public ${pub}, secret ${sec}`);
      return 0;
    },
  },
  build: {
    summary: 'build a package from a directory (CONTROL/ or DEBIAN/ plus the files)',
    usage: `wmopkg build [-o OWNER] [-g GROUP] [--sign KEY.sec] [--out FILE] DIR

  -o OWNER              owner of every file in the package (root or a number)
  -g GROUP              group of every file in the package (root or a number)
  --sign KEY.sec        sign the package with this secret key
  --passphrase-file F   passphrase of an encrypted secret key
  --out FILE            output file (default: PACKAGE.wmopkg in the current directory)

SOURCE_DATE_EPOCH, when set, fixes every timestamp: the same tree gives the same bytes.`,
    options: {
      o: { type: 'string' },
      g: { type: 'string' },
      sign: { type: 'string' },
      out: { type: 'string' },
      ...passphraseFileOption,
    },
    async run(values, positionals) {
      const dir = single(positionals, 'DIR');
      const epoch = sourceDateEpoch();
      const owner = typeof values.o === 'string' ? await resolveOwner(values.o, 'user') : undefined;
      const group = typeof values.g === 'string' ? await resolveOwner(values.g, 'group') : undefined;
      const key =
        typeof values.sign === 'string'
          ? await loadSecretKey(values.sign, values['passphrase-file'])
          : undefined;
      const tree = await readBuildTree(dir, {
        ...(owner ? { owner } : {}),
        ...(group ? { group } : {}),
        ...(epoch === undefined ? {} : { sourceDateEpoch: epoch }),
      });
      for (const warning of tree.warnings) console.error(`Warning: ${oneLine(warning)}`);
      if (tree.kind === 'firmware' && !key) {
        console.error(
          'Warning: a device accepts a firmware package only when it is signed by its vendor key (--sign KEY.sec, or wmopkg sign)',
        );
      }
      const control = tree.spec.control as { package: string };
      const out = typeof values.out === 'string' ? values.out : `${control.package}.wmopkg`;
      await writePackage({ ...tree.spec, ...(key ? { sign: key } : {}) }, out);
      console.log(
        `Packaged contents of ${printable(dir)} into ${printable(out)}${key ? ` (signed with key ${keyNumberHex(key.keyNumber)})` : ''}`,
      );
      return 0;
    },
  },
  removal: {
    summary: 'make a removal package: installed on a device, it removes PKGNAME',
    usage: `wmopkg removal PKGNAME [--backup] --sign KEY.sec [--out FILE] [--maintainer TEXT] [--passphrase-file FILE]

  --backup              also remove it from the backup, even when it is persistent
  --sign KEY.sec        sign with this secret key (required: a device acts only on a trusted one)
  --out FILE            output file (default: PKGNAME-remove.wmopkg, PKGNAME-remove-backup.wmopkg)
  --maintainer TEXT     the Maintainer field (default: the key's comment)
  --passphrase-file F   passphrase of an encrypted secret key

Installed like any package (install media external hello-remove.wmopkg, or over the network), it
removes PKGNAME at the next boot and is never listed as installed. Without --backup a persistent
package stays in the backup and comes back after a firmware upgrade or a factory reset.
SOURCE_DATE_EPOCH, when set, fixes every timestamp.`,
    options: {
      backup: { type: 'boolean' },
      sign: { type: 'string' },
      out: { type: 'string' },
      maintainer: { type: 'string' },
      ...passphraseFileOption,
    },
    async run(values, positionals) {
      const target = single(positionals, 'PKGNAME');
      const key = await loadSecretKey(required(values.sign, '--sign KEY.sec'), values['passphrase-file']);
      const backup = values.backup === true;
      const spec = removalPackageSpec(target, {
        backup,
        mtime: sourceDateEpoch() ?? Math.floor(Date.now() / 1000),
        maintainer:
          typeof values.maintainer === 'string' && values.maintainer !== ''
            ? values.maintainer
            : key.comment.replace(/ secret key$/, '') || 'wmopkg',
      });
      const control = spec.control as ReadonlyArray<readonly [string, string]>;
      const out = typeof values.out === 'string' ? values.out : `${control[0]![1]}.wmopkg`;
      await writePackage({ ...spec, sign: key }, out);
      console.log(
        `${out}: removes ${target}${backup ? ' and its backup' : ''} at the next boot (signed with key ${keyNumberHex(key.keyNumber)})`,
      );
      return 0;
    },
  },
  sign: {
    summary: 'sign a package (writes its _manifest and _manifest.sig)',
    usage: `wmopkg sign PKG -s KEY.sec [--out FILE] [--passphrase-file FILE]

  -s FILE               secret key
  --out FILE            write the signed package here instead of replacing PKG
  --passphrase-file F   passphrase of an encrypted secret key`,
    options: { s: { type: 'string' }, out: { type: 'string' }, ...passphraseFileOption },
    async run(values, positionals) {
      const pkg = single(positionals, 'PKG');
      const key = await loadSecretKey(required(values.s, '-s KEY.sec'), values['passphrase-file']);
      const out = typeof values.out === 'string' ? values.out : pkg;
      await signPackageFile(pkg, key, out);
      console.log(`${out}: signed with key ${keyNumberHex(key.keyNumber)}`);
      return 0;
    },
  },
  verify: {
    summary: 'verify signature and digests; the exit status is the verdict',
    usage: `wmopkg verify PKG (-p KEY.pub | --keys DIR) [--revoked FILE]

  -p FILE               the key that must have signed the package
  --keys DIR            trusted keys: every file in DIR is a public key
  --revoked FILE        revoked key numbers, one per line

Exit status: 0 Signed, 3 Untrusted (unknown or revoked key), 4 Unsigned,
5 Invalid (bad signature, tampered or corrupt), 1 other error, 2 usage error.`,
    options: { p: { type: 'string' }, keys: { type: 'string' }, revoked: { type: 'string' } },
    async run(values, positionals) {
      const pkg = single(positionals, 'PKG');
      if ((values.p === undefined) === (values.keys === undefined))
        throw new UsageError('give exactly one of -p KEY.pub or --keys DIR');
      let required: string | undefined;
      let trust: Awaited<ReturnType<typeof loadTrustStore>>;
      if (typeof values.p === 'string') {
        const publicKey = parsePublicKey(await readFile(values.p));
        required = keyNumberHex(publicKey.keyNumber);
        const { revoked, unreadable } = await revokedList(values.revoked);
        // An unreadable revocation list fails closed, as on the device.
        trust = {
          ...trustStoreOf([{ publicKey, source: values.p }], revoked),
          ...(unreadable.length > 0 ? { revocationProblems: unreadable } : {}),
        };
      } else {
        trust = await loadTrustStore(
          values.keys as string,
          typeof values.revoked === 'string' ? values.revoked : undefined,
        );
        for (const problem of trust.problems) console.error(`Warning: ${problem}`);
      }
      let verdict: Verdict;
      try {
        verdict = verifyPackage(await readPackageFile(pkg), trust, required);
      } catch (error) {
        if (!(error instanceof FormatError)) throw error;
        verdict = { status: 'Invalid', reason: error.message };
      }
      console.log(`${printable(pkg)}: ${verdict.status}: ${oneLine(verdict.reason)}`);
      return VERIFY_EXIT[verdict.status];
    },
  },
  'unlock-token': {
    summary: "make a secure-boot unlock token for one device's serial",
    usage: `wmopkg unlock-token -s VENDOR.sec --serial SERIAL [--out FILE] [--passphrase-file FILE]

  -s FILE               the vendor's secret key (its public key is the device's anchor)
  --serial SERIAL       the serial number of the device to unlock (show version)
  --out FILE            where to write the token (default: token.lic)
  --passphrase-file F   passphrase of an encrypted secret key

The token lets that device, and no other, turn on allow-untrusted in the boot context
(unlock media LABEL FILE, or unlock [proto …] ADDRESS FILE).`,
    options: {
      s: { type: 'string' },
      serial: { type: 'string' },
      out: { type: 'string' },
      ...passphraseFileOption,
    },
    async run(values) {
      const key = await loadSecretKey(required(values.s, '-s VENDOR.sec'), values['passphrase-file']);
      const serial = required(values.serial, '--serial SERIAL');
      const out = typeof values.out === 'string' ? values.out : 'token.lic';
      const { makeUnlockToken } = await import('../firmware-sim/config/unlock.js');
      await writeFileAtomic(out, makeUnlockToken(key, serial));
      console.log(
        `${out}: unlock token for serial ${serial}, signed with key ${keyNumberHex(key.keyNumber)}`,
      );
      return 0;
    },
  },
  index: {
    summary: 'index a feed: Packages, Packages.gz, Packages.sig, Release, Release.sig',
    usage: `wmopkg index DIR [--sign KEY.sec] [--valid-for DAYS] [--rollout PKG=N]... [--passphrase-file FILE]

  --sign KEY.sec        sign Packages (and Release) into Packages.sig (Release.sig)
  --valid-for DAYS      write Release (Date, Valid-Until, SHA256 of the index), valid for DAYS days
  --rollout PKG=N       Rollout: N (percent of devices) on the newest version of PKG; repeatable
  --passphrase-file F   passphrase of an encrypted secret key

Every .wmopkg under DIR is read once (several at a time) and indexed, every version of each
package. The files are written to temporary names first and renamed into place together;
index files of an earlier run that would no longer match are removed. SOURCE_DATE_EPOCH,
when set, is the date written into Release.`,
    options: {
      sign: { type: 'string' },
      'valid-for': { type: 'string' },
      rollout: { type: 'string', multiple: true },
      ...passphraseFileOption,
    },
    async run(values, positionals) {
      const dir = single(positionals, 'DIR');
      const validFor = values['valid-for'];
      let validForDays: number | undefined;
      if (validFor !== undefined) {
        validForDays = typeof validFor === 'string' && /^[0-9]{1,5}$/.test(validFor) ? Number(validFor) : 0;
        if (!(validForDays >= 1 && validForDays <= 36500))
          throw new UsageError(
            `--valid-for takes a number of days from 1 to 36500, got "${String(validFor)}"`,
          );
      }
      const rollout = new Map<string, number>();
      for (const item of Array.isArray(values.rollout) ? values.rollout : []) {
        const m = /^([a-z0-9][a-z0-9.+-]*)=([0-9]{1,3}(?:\.[0-9]+)?)$/.exec(item);
        if (m === null || Number(m[2]) > 100)
          throw new UsageError(`--rollout takes PKG=N with N a percentage from 0 to 100, got "${item}"`);
        rollout.set(m[1]!, Number(m[2]));
      }
      const key =
        typeof values.sign === 'string'
          ? await loadSecretKey(values.sign, values['passphrase-file'])
          : undefined;
      if (validForDays !== undefined && key === undefined) {
        console.error(
          'Warning: Release is not signed without --sign: devices refuse a Release without Release.sig',
        );
      }
      const epoch = sourceDateEpoch();
      const { indexFeed } = await import('../firmware-sim/feeds/index.js');
      const result = await indexFeed(dir, {
        ...(key ? { sign: key } : {}),
        ...(validForDays === undefined ? {} : { validForDays }),
        ...(rollout.size > 0 ? { rollout } : {}),
        ...(epoch === undefined ? {} : { now: new Date(epoch * 1000) }),
      });
      const signed = key ? ` (signed with key ${keyNumberHex(key.keyNumber)})` : '';
      console.log(`${dir}: ${result.packages} packages indexed; wrote ${result.written.join(', ')}${signed}`);
      if (result.removed.length > 0)
        console.log(`removed ${result.removed.join(', ')} (they no longer match)`);
      return 0;
    },
  },
  info: {
    summary: 'show the control information of a package',
    usage: 'wmopkg info PKG',
    options: {},
    async run(_values, positionals) {
      const pkg = single(positionals, 'PKG');
      const reading = await readPackageFile(pkg);
      process.stdout.write(formatInfo(reading));
      return 0;
    },
  },
  contents: {
    summary: 'list the files a package installs',
    usage: 'wmopkg contents PKG',
    options: {},
    async run(_values, positionals) {
      const pkg = single(positionals, 'PKG');
      const lines: string[] = [];
      const tar = new GzipTarParser('data.tar.gz', async (header, body) => {
        for await (const _ of body) void _;
        lines.push(formatListing(header));
      });
      await readPackageFile(pkg, { onData: (chunk) => tar.write(chunk), onDataEnd: () => tar.end() });
      process.stdout.write(lines.map((l) => `${l}\n`).join(''));
      return 0;
    },
  },
};

const MAIN_USAGE = `Usage: wmopkg COMMAND [OPTIONS]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(14)}${command.summary}`)
  .join('\n')}

Run "wmopkg COMMAND --help" for the options of a command.`;

/** Runs the tool; returns the exit status. Errors are printed as one line. */
export async function wmopkgMain(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(MAIN_USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`Error: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`Usage: ${command.usage}`);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: command.options ?? {},
      allowPositionals: true,
    });
    return await command.run(values as Record<string, OptionValue>, positionals);
  } catch (error) {
    const usage =
      error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`Error: ${oneLine(errorText(error))}${usage ? ` (see "wmopkg ${name} --help")` : ''}`);
    return usage ? 2 : 1;
  }
}

/** What `Error:` says: a format or usage error as it is, a file-system error in its words. */
function errorText(error: unknown): string {
  if (error instanceof FormatError || error instanceof UsageError) return error.message;
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'ENOENT' && e.path) return `${e.path}: no such file`;
  if (e.code === 'EACCES' && e.path) return `${e.path}: permission denied`;
  if (e.code === 'EISDIR' && e.path) return `${e.path}: is a directory`;
  return (e.message ?? String(error)).split('\n')[0]!;
}

function required(value: OptionValue, what: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`missing ${what}`);
  return value;
}

function single(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected one ${what}, got ${positionals.length}`);
  return positionals[0]!;
}

function sourceDateEpoch(): number | undefined {
  const value = process.env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return undefined;
  if (!/^[0-9]{1,12}$/.test(value))
    throw new UsageError(`SOURCE_DATE_EPOCH must be seconds since 1970, got "${value}"`);
  return Number(value);
}

async function revokedList(file: OptionValue) {
  if (typeof file !== 'string') return { revoked: [], unreadable: [] };
  const list = parseRevocationList(await readFile(file, 'utf8'), file);
  for (const problem of list.problems) console.error(`Warning: ${problem}`);
  return list;
}

async function loadSecretKey(path: string, passphraseFile: OptionValue): Promise<SecretKey> {
  const text = await readFile(path);
  if (!isEncryptedSecretKey(text)) return parseSecretKey(text);
  const passphrase =
    typeof passphraseFile === 'string'
      ? await readPassphraseFile(passphraseFile)
      : await askHidden(`passphrase for ${basename(path)}: `);
  return parseSecretKey(text, passphrase);
}

async function newPassphrase(passphraseFile: OptionValue): Promise<string> {
  if (typeof passphraseFile === 'string') return readPassphraseFile(passphraseFile);
  const first = await askHidden('passphrase: ');
  if (first === '') throw new UsageError('empty passphrase; use -n for a key without one');
  if ((await askHidden('confirm passphrase: ')) !== first) throw new UsageError('passphrases do not match');
  return first;
}

async function readPassphraseFile(file: string): Promise<string> {
  const passphrase = (await readFile(file, 'utf8')).split('\n')[0] ?? '';
  if (passphrase === '') throw new UsageError(`${file}: empty passphrase`);
  return passphrase;
}

/**
 * Reads a line from the terminal without echo; refuses when there is no terminal. Listens for
 * 'data' instead of iterating the stream: leaving a `for await` ends (destroys) stdin, and the
 * next question (`confirm passphrase:`) would then fail at once.
 */
async function askHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY)
    throw new UsageError('a passphrase is needed and there is no terminal: use --passphrase-file');
  let onData!: (chunk: Buffer) => void;
  let onEnd!: () => void;
  // Raw (no echo) before the question shows: a passphrase typed at once must not be echoed.
  input.setRawMode(true);
  process.stderr.write(prompt);
  try {
    return await new Promise<string>((resolve, reject) => {
      let line = '';
      onData = (chunk) => {
        for (const char of chunk.toString('utf8')) {
          if (char === '\r' || char === '\n') return resolve(line);
          if (char === '\u0003') return reject(new UsageError('interrupted'));
          if (char === '\u0004' && line === '') return reject(new UsageError('no passphrase given'));
          if (char === '\u007f' || char === '\b') line = line.slice(0, -1);
          else if (char >= ' ') line += char;
        }
      };
      onEnd = () => reject(new UsageError('no passphrase given'));
      input.on('data', onData);
      input.once('end', onEnd);
      input.resume();
    });
  } finally {
    input.removeListener('data', onData);
    input.removeListener('end', onEnd);
    input.setRawMode(false);
    input.pause();
    process.stderr.write('\n');
  }
}
