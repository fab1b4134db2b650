// The `trust` context: the keys packages are verified with, their revocation, SSH host keys, CA certificates.
import type { Readable } from 'node:stream';
import { formatHostPort } from '../common/host.js';
import { printable } from '../common/text.js';
import type { CaCertificateInfo, KnownHostInfo, TrustedKeys } from '../firmware-sim/api.js';
import { commonCommands } from './common.js';
import { CliError } from './errors.js';
import { type ArgsOf, arg, type CommandEnv, type Context, command, confirmFlag, options } from './grammar.js';
import { address, certificateName, filePath, keyNumber, knownHost, trustedKeyNumber } from './param-types.js';
import { openSource, sourceOptions } from './source.js';
import { renderTable } from './table.js';

/** When a key stops counting: installs verify with the keys at once, boots activate by them. */
const KEY_GONE = 'installs no longer trust it; the next boot takes out what it signed';
/** The default port of SSH, which known_hosts leaves unwritten. */
const SSH_PORT = 22;

function notConfirmed(): CliError {
  return new CliError('CLI_NOT_CONFIRMED', 'not confirmed, nothing was changed');
}

/** Asks `question`; anything but yes stops the command with nothing changed. */
async function confirmOrStop(env: CommandEnv, question: string): Promise<void> {
  if (!(await env.ui.confirm(question))) throw notConfirmed();
}

function keyLines(keys: TrustedKeys, env: CommandEnv): string[] {
  const rows = keys.keys.map((k) => [
    k.keyNumber,
    k.revoked ? 'revoked' : k.anchor ? 'trusted (anchor)' : 'trusted',
    k.file.replace(/^etc\/wmopkg\/keys\//, ''),
    printable(k.comment),
  ]);
  // A revoked number without a key file is still a revocation: listed so that nothing is hidden.
  const filed = new Set(keys.keys.map((k) => k.keyNumber));
  for (const number of keys.revoked)
    if (!filed.has(number)) rows.push([number, 'revoked', '-', '(no key file)']);
  const lines = renderTable(
    { title: 'Package keys', columns: ['KEY', 'STATE', 'FILE', 'COMMENT'], rows, wrap: true },
    env.session.terminal,
  );
  for (const problem of keys.problems) lines.push(`Warning: ${printable(problem)}`);
  return lines;
}

function hostLines(hosts: readonly KnownHostInfo[], env: CommandEnv): string[] {
  // The fingerprint as OpenSSH prints it, `SHA256:` in the heading: a row then fits 80 columns.
  const rows = hosts.map((h) => [
    printable(h.marker === undefined ? h.hosts : `${h.marker} ${h.hosts}`),
    printable(h.type),
    h.fingerprint.replace(/^SHA256:/, ''),
  ]);
  return renderTable(
    { title: 'Known SSH hosts', columns: ['HOST', 'TYPE', 'SHA256 FINGERPRINT'], rows, wrap: true },
    env.session.terminal,
  );
}

function certificateLines(certificates: readonly CaCertificateInfo[], env: CommandEnv): string[] {
  // The name holds the start of the SHA-256 fingerprint (the whole one is in the event log).
  const rows = certificates.map((c) => [
    printable(c.name),
    printable(c.subject || '-'),
    c.validTo === '' ? '-' : c.validTo.slice(0, 10),
    c.problem === undefined ? 'trusted' : `not used: ${printable(c.problem)}`,
  ]);
  return renderTable(
    { title: 'CA certificates', columns: ['NAME', 'SUBJECT', 'VALID UNTIL', 'STATE'], rows, wrap: true },
    env.session.terminal,
  );
}

async function showKeys(env: CommandEnv): Promise<void> {
  for (const line of keyLines(await env.services.device.trust.keys(), env)) env.out.line(line);
}

async function showHosts(env: CommandEnv): Promise<void> {
  for (const line of hostLines(await env.services.device.trust.knownHosts(), env)) env.out.line(line);
}

async function showCertificates(env: CommandEnv): Promise<void> {
  for (const line of certificateLines(await env.services.device.trust.certificates(), env))
    env.out.line(line);
}

const sourceParams = (help: string) =>
  [
    options(...sourceOptions),
    arg('address', address, { skipIf: (a) => a.media !== undefined }),
    arg('file', filePath, { help }),
  ] as const;
const keyParams = sourceParams('Signify public key file, e.g. partner.pub');
const certificateParams = sourceParams('CA certificate file (PEM), e.g. lab-ca.pem');

/** Reads the file a `key` or `certificate` command names, hands its stream to `take`, and closes it. */
async function fromSource<T>(
  args: ArgsOf<typeof keyParams>,
  env: CommandEnv,
  what: string,
  take: (stream: Readable) => Promise<T>,
): Promise<T> {
  try {
    const source = await openSource({ ...args, path: args.file }, env);
    try {
      return await take(source.transfer.stream);
    } finally {
      source.done();
      source.transfer.stream.destroy();
    }
  } catch (e) {
    if (!env.signal.aborted) throw e;
    throw new CliError('CLI_ABORTED', `${what} cancelled; nothing was added`, { cause: e });
  }
}

async function addKey(args: ArgsOf<typeof keyParams>, env: CommandEnv): Promise<void> {
  const key = await fromSource(args, env, 'key', (stream) => env.services.device.trust.addKey(stream));
  env.out.line(
    `Key ${key.keyNumber} trusted (${key.file}): ${printable(key.comment)}. Installs trust it now; the next boot activates what it signed.`,
  );
  if (key.revoked) env.out.warn(`key ${key.keyNumber} is revoked: packages it signed stay Untrusted`);
}

async function removeKey(args: ArgsOf<typeof removeKeyParams>, env: CommandEnv): Promise<void> {
  const trust = env.services.device.trust;
  const found = (await trust.keys()).keys.filter((k) => k.keyNumber === args.keyNumber);
  if (found.length === 0) {
    throw new CliError('CLI_NOT_FOUND', `no trusted key ${args.keyNumber} (see show keys)`);
  }
  const named = found.map((k) => printable(k.comment)).join(', ');
  const anchor = found.some((k) => k.anchor) ? ', the vendor key' : '';
  await confirmOrStop(env, `Remove trusted key ${args.keyNumber} (${named}${anchor}) (y/N)?`);
  const removed = await trust.removeKey(args.keyNumber);
  env.out.line(`Key ${args.keyNumber} removed (${removed.map((k) => k.file).join(', ')}): ${KEY_GONE}.`);
}

async function revoke(args: ArgsOf<typeof revokeParams>, env: CommandEnv): Promise<void> {
  const trust = env.services.device.trust;
  const keys = await trust.keys();
  if (keys.revoked.includes(args.keyNumber)) {
    env.out.line(`Key ${args.keyNumber} is revoked already.`);
    return;
  }
  const key = keys.keys.find((k) => k.keyNumber === args.keyNumber);
  const named = key === undefined ? 'no key file on this device' : printable(key.comment);
  await confirmOrStop(env, `Revoke key ${args.keyNumber} (${named}) (y/N)?`);
  await trust.revokeKey(args.keyNumber);
  env.out.line(`Key ${args.keyNumber} revoked: ${KEY_GONE}.`);
}

async function forgetHost(args: ArgsOf<typeof hostParams>, env: CommandEnv): Promise<void> {
  const trust = env.services.device.trust;
  const port = args.address.port ?? SSH_PORT;
  const where = formatHostPort(args.address.host, port === SSH_PORT ? undefined : port);
  const entries = await trust.knownHostEntries(args.address.host, port);
  if (entries.length === 0)
    throw new CliError('CLI_NOT_FOUND', `no known host key of ${where} (see show hosts)`);
  const keys = entries.map((e) => `${printable(e.type)} ${e.fingerprint}`).join(', ');
  await confirmOrStop(
    env,
    `Forget the host key${entries.length > 1 ? 's' : ''} of ${where} (${keys}) (y/N)?`,
  );
  const removed = await trust.removeKnownHost(args.address.host, port);
  env.out.line(
    `${removed.length} host key${removed.length > 1 ? 's' : ''} of ${where} forgotten: the next scp or sftp connection asks again.`,
  );
}

async function addCertificate(args: ArgsOf<typeof certificateParams>, env: CommandEnv): Promise<void> {
  const cert = await fromSource(args, env, 'certificate', (stream) =>
    env.services.device.trust.addCertificate(stream),
  );
  env.out.line(
    `CA certificate ${printable(cert.name)} trusted: ${printable(cert.subject)}, valid until ${cert.validTo.slice(0, 10)}. https uses it from the next transfer.`,
  );
}

async function removeCertificate(
  args: ArgsOf<typeof removeCertificateParams>,
  env: CommandEnv,
): Promise<void> {
  const trust = env.services.device.trust;
  const found = (await trust.certificates()).filter((c) => c.name === args.name);
  if (found.length === 0) {
    throw new CliError('CLI_NOT_FOUND', `no CA certificate ${printable(args.name)} (see show certificates)`);
  }
  const named = found.map((c) => printable(c.subject || c.problem || '?')).join(', ');
  await confirmOrStop(env, `Remove CA certificate ${printable(args.name)} (${named}) (y/N)?`);
  await trust.removeCertificate(args.name);
  env.out.line(`CA certificate ${printable(args.name)} removed: https no longer trusts it.`);
}

// Every command that asks takes `confirm` as its last word (docs/automation.md).
const removeKeyParams = [
  arg('keyNumber', trustedKeyNumber, { help: 'Key number of a trusted key' }),
  options(confirmFlag),
] as const;
const revokeParams = [
  arg('keyNumber', keyNumber, { help: 'Key number to revoke (16 hex digits)' }),
  options(confirmFlag),
] as const;
const hostParams = [arg('address', knownHost), options(confirmFlag)] as const;
const removeCertificateParams = [arg('name', certificateName), options(confirmFlag)] as const;

/** The `trust` context. */
export const trustContext: Context = {
  name: 'trust',
  path: '/trust/#',
  groups: { show: 'Show what the device trusts', no: 'Remove trust' },
  commands: [
    command({
      name: 'show',
      help: 'Show trusted and revoked keys, known SSH hosts and CA certificates',
      run: async (_args, env) => {
        await showKeys(env);
        await showHosts(env);
        await showCertificates(env);
      },
    }),
    command({
      name: 'show keys',
      help: 'Show the keys packages are verified with, and the revoked key numbers',
      run: async (_args, env) => showKeys(env),
    }),
    command({
      name: 'show hosts',
      help: 'Show the known SSH host keys (scp, sftp)',
      run: async (_args, env) => showHosts(env),
    }),
    command({
      name: 'show certificates',
      help: 'Show the CA certificates https trusts besides the system ones',
      run: async (_args, env) => showCertificates(env),
    }),
    command({
      name: 'key',
      help: 'Trust a package signing key: a signify public key file, from a server or a media',
      params: keyParams,
      run: addKey,
    }),
    command({
      name: 'no key',
      help: 'Stop trusting a package signing key (asks first)',
      params: removeKeyParams,
      run: removeKey,
    }),
    command({
      name: 'revoke',
      help: 'Revoke a key number: packages it signed are no longer trusted (asks first)',
      params: revokeParams,
      run: revoke,
    }),
    command({
      name: 'no host',
      help: 'Forget the SSH host keys of a server (asks first)',
      params: hostParams,
      run: forgetHost,
    }),
    command({
      name: 'certificate',
      help: 'Trust a CA certificate for https: a PEM file, from a server or a media',
      params: certificateParams,
      run: addCertificate,
    }),
    command({
      name: 'no certificate',
      help: 'Stop trusting a CA certificate (asks first)',
      params: removeCertificateParams,
      run: removeCertificate,
    }),
    ...commonCommands,
  ],
};
