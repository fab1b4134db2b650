// Golden transcripts: script mode of the real binary on the real device in a temporary directory, only
// the network and the drive list faked (test/helpers/world.ts); UPDATE_GOLDEN=1 rewrites test/golden/.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, runEdgesh, WORLD } from '../helpers/run-edgesh.js';
import type { Provisioning } from '../helpers/world.js';

interface Golden {
  /** File name in test/golden/ (without .txt). */
  readonly name: string;
  readonly title: string;
  readonly args?: readonly string[];
  /** Lines of stdin: commands and answers. */
  readonly stdin?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** How the device is provisioned besides the world's defaults (secure boot, a held lock). */
  readonly provision?: Provisioning;
}

const INSTALL = ['package', 'install 192.0.2.1 pkgname.wmopkg'];

/** An ssh-ed25519 key line's key part (base64 of the blob) made of one repeated byte. */
function edKey(byte: number): string {
  const type = Buffer.from('ssh-ed25519');
  const length = (n: number) => Buffer.from([0, 0, 0, n]);
  return Buffer.concat([length(type.length), type, length(32), Buffer.alloc(32, byte)]).toString('base64');
}

/** A hashed known_hosts name (`ssh-keygen -H`) with a fixed salt, so that the transcript is stable. */
function hashedName(name: string): string {
  const salt = Buffer.alloc(20, 7);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/** known_hosts of the host-key transcript: the server of the world, another port, hashed, a wildcard. */
const KNOWN_HOSTS = [
  `192.0.2.3 ssh-ed25519 ${edKey(1)}`,
  `[192.0.2.3]:2222 ssh-ed25519 ${edKey(2)}`,
  `${hashedName('192.0.2.3')} ssh-ed25519 ${edKey(3)}`,
  `*.lab ssh-ed25519 ${edKey(4)}`,
];

const goldens: readonly Golden[] = [
  // Automation (docs/automation.md): documents, confirm on the line, dry-run, unchanged, classes.
  {
    name: 'json-documents',
    title: '| json after each show command and for install, remove, reboot, factory-reset',
    stdin: [
      'show version | json',
      'package install 192.0.2.1 pkgname.wmopkg | json',
      'package install persistent 192.0.2.1 hello.wmopkg | json',
      'package install 192.0.2.1 unsigned.wmopkg | json',
      'package show | json',
      'package show hello | json',
      'show version | json | include "reboot_pending|hello|pkgname|unsigned"',
      'reboot confirm | json',
      'show last-boot | json | count',
      'show last-boot',
      'show media | json',
      'boot show | json',
      'show backup | json',
      'show log | json | include install',
      'package remove unsigned confirm | json',
      'factory-reset confirm | json',
      'package remove confirm | json',
      'package remove confirm | json',
    ],
  },
  {
    name: 'json-escapes',
    title: 'a document is ASCII whatever the package says; the text form escapes only controls',
    stdin: [
      'package',
      'install 192.0.2.1 intl.wmopkg',
      'show intl | json',
      'show intl | include Description',
    ],
  },
  {
    name: 'json-refused',
    title: '| json only first, only after a command that has a document; errors stay one line',
    stdin: [
      'whoami | json',
      'show log | count | json',
      'package | json',
      'package show ghost | json',
      'show version | json | count',
    ],
  },
  {
    name: 'json-question',
    title: 'with | json a question goes to stderr: stdout holds the document alone',
    stdin: [
      'package install 192.0.2.1 pkgname.wmopkg',
      'package remove pkgname | json',
      'y',
      'reboot | json',
      'n',
    ],
  },
  {
    name: 'confirm-keyword',
    title: 'confirm on the line answers the command, never a host key; a command that never asks refuses it',
    args: [
      '-c',
      'package install 192.0.2.1 v2/pkgname.wmopkg; package install 192.0.2.1 v1/pkgname.wmopkg confirm',
      '-c',
      'package remove pkgname conf; reboot confirm; show version confirm',
      '-c',
      'package install proto sftp user admin password x 192.0.2.3 pkgname.wmopkg confirm',
      '-c',
      'trust revoke 0123456789abcdef confirm',
    ],
  },
  {
    name: 'dry-run',
    title: 'install … dry-run fetches and verifies, stores nothing, asks nothing',
    stdin: [
      'package',
      'install 192.0.2.1 v1/pkgname.wmopkg dry-run',
      'install 192.0.2.1 v2/pkgname.wmopkg',
      'install 192.0.2.1 v1/pkgname.wmopkg dry-run | json',
      'install 192.0.2.1 v2/pkgname.wmopkg dry-run',
      'install 192.0.2.1 tampered.wmopkg dry-run',
      'show',
      'do show log | include pkgname',
    ],
  },
  {
    name: 'unchanged',
    title: 'the same package again is unchanged; persistent sets the flag alone; a reboot clears pending',
    stdin: [
      'package',
      'install 192.0.2.1 pkgname.wmopkg',
      'install proto tftp 192.0.2.1 pkgname.wmopkg',
      'install persistent media external path/on/media/pkgname.wmopkg | json',
      'do show version | include Reboot',
      'do reboot confirm',
      'do show version | include Reboot',
      'install 192.0.2.1 pkgname.wmopkg | json | include "result|changed|reboot"',
      'do show version | include Reboot',
      'do boot allow-untrusted',
      'do show version | include Reboot',
      'show',
    ],
  },
  {
    name: 'automation-script',
    title: 'terminal automation: nothing asked, tables never cut, no password prompt',
    stdin: [
      'terminal automation',
      'package install 192.0.2.1 hello.wmopkg',
      'package install 192.0.2.1 v2/pkgname.wmopkg',
      'package install 192.0.2.1 intl.wmopkg',
      'package install 192.0.2.1 v1/pkgname.wmopkg',
      'package remove hello',
      'reboot',
      'package show',
      'package install proto ftp user admin 192.0.2.3 pkgname.wmopkg',
      'terminal automation off',
      'package remove hello',
      'n',
    ],
  },
  // The firmware lifecycle (issue 16), from the stick: the firmware and the hotfix samples.
  {
    name: 'firmware-upgrade',
    title: 'a whole firmware upgrade from the stick: show version, the hotfix gone, firmware fallback',
    stdin: [
      'package',
      'install media external fix-1.wmopkg',
      'install media external hello.wmopkg',
      'do reboot',
      'y',
      'install media external firmware-5.27.0.wmopkg',
      'do show version | exclude Uptime',
      'do reboot',
      'y',
      'do show version | exclude Uptime',
      'show',
      'do show log | include "hotfix|firmware"',
      'do boot firmware fallback',
      'y',
      'do reboot',
      'y',
      'do show version | exclude Uptime',
    ],
  },
  // Every example of the vendor manual (SPEC §3.4).
  {
    name: 'manual-install',
    title: 'install address file (ftp, tftp as fallback)',
    stdin: [...INSTALL, 'show pkgname'],
  },
  {
    name: 'manual-install-persistent',
    title: 'install persistent',
    stdin: ['package', 'install persistent 192.0.2.1 pkgname.wmopkg', 'show'],
  },
  {
    name: 'manual-install-proto-ftp',
    title: 'install proto ftp',
    stdin: ['package', 'install proto ftp 192.0.2.1 pkgname.wmopkg', 'show pkgname | include Source'],
  },
  {
    name: 'manual-install-proto-tftp',
    title: 'install proto tftp',
    stdin: ['package', 'install proto tftp 192.0.2.1 pkgname.wmopkg', 'show pkgname | include Source'],
  },
  {
    name: 'manual-install-media-external',
    title: 'install media external path/on/media/pkgname.wmopkg',
    stdin: [
      'package',
      'install media external path/on/media/pkgname.wmopkg',
      'show pkgname | include Source',
    ],
  },
  {
    name: 'manual-install-media-my-usb',
    title: 'install media my-usb relative/path/pkgname.wmopkg, after defining the label',
    stdin: [
      'boot',
      'media my-usb usb',
      'show',
      'exit',
      'package',
      'install media my-usb relative/path/pkgname.wmopkg',
      'do show media',
    ],
  },
  {
    name: 'manual-remove',
    title: 'remove pkgname, confirmed',
    stdin: [...INSTALL, 'remove pkgname', 'y', 'show'],
  },
  {
    name: 'manual-remove-all',
    title: 'remove all, confirmed',
    stdin: [
      ...INSTALL,
      'install 192.0.2.1 hello.wmopkg',
      'remove all',
      'y',
      'show',
      'do reboot',
      'yes',
      'show',
    ],
  },
  {
    name: 'manual-show',
    title: 'show after install and reboot: the table of the manual',
    stdin: [...INSTALL, 'do reboot', 'y', 'show', 'list'],
  },
  // The rest of the package context.
  {
    name: 'remove-default-all',
    title: 'remove without argument means all',
    stdin: [...INSTALL, 'remove', 'y'],
  },
  {
    name: 'remove-declined',
    title: 'anything but y/yes aborts',
    stdin: [...INSTALL, 'remove pkgname', 'no', 'remove pkgname', 'Y', 'show'],
  },
  { name: 'remove-eof', title: 'end of input at a prompt means no', stdin: [...INSTALL, 'remove pkgname'] },
  {
    name: 'remove-yes-flag',
    title: '-y answers every confirmation',
    args: ['-y'],
    stdin: [...INSTALL, 'remove pkgname', 'show'],
  },
  {
    name: 'remove-not-installed',
    title: 'removing a package that is not installed',
    stdin: ['package', 'remove ghost'],
  },
  {
    name: 'show-markers',
    title: 'active, pending, not active and removed are visible',
    stdin: [
      'package',
      'install 192.0.2.1 pkgname.wmopkg',
      'install 192.0.2.1 hello.wmopkg',
      'install 192.0.2.1 unsigned.wmopkg',
      'do reboot',
      'y',
      'remove hello',
      'y',
      'install 192.0.2.1 v2/pkgname.wmopkg',
      'y',
      'show',
      'show pkgname | include "^(State|Verification)"',
      'show unsigned | include "^(State|Verification)"',
    ],
  },
  {
    name: 'upgrade',
    title: 'installing an installed name is an upgrade, from which version to which',
    stdin: [
      'package',
      'install 192.0.2.1 v1/pkgname.wmopkg',
      'install 192.0.2.1 v2/pkgname.wmopkg',
      'install 192.0.2.1 v2/pkgname.wmopkg',
    ],
  },
  {
    name: 'downgrade',
    title: 'an older version asks first',
    stdin: [
      ...INSTALL,
      'install 192.0.2.1 v2/pkgname.wmopkg',
      'n',
      'install 192.0.2.1 v2/pkgname.wmopkg',
      'y',
      'show',
    ],
  },
  {
    name: 'verification-warnings',
    title: 'unsigned and untrusted packages install with a warning; allow-untrusted changes it',
    stdin: [
      'package',
      'install 192.0.2.1 unsigned.wmopkg',
      'install 192.0.2.1 untrusted.wmopkg',
      'do boot',
      'allow-untrusted',
      'do package',
      'install 192.0.2.1 untrusted.wmopkg',
      'install 192.0.2.1 tampered.wmopkg',
      'show',
      'install 192.0.2.1 revoked.wmopkg',
      'do boot no allow-untrusted',
      'show revoked | include "^(State|Verification)"',
      'show untrusted | include "^(State|Verification)"',
    ],
  },
  {
    name: 'transport-fallback',
    title: 'no protocol: ftp, then tftp; both failing names both',
    stdin: [
      'package',
      'install 192.0.2.2 pkgname.wmopkg',
      'show pkgname | include Source',
      // A port typed for ftp: tftp answers on its own port, and the source names that one.
      'install 192.0.2.2:2121 pkgname.wmopkg',
      'show pkgname | include Source',
      'install 192.0.2.9 pkgname.wmopkg',
    ],
  },
  {
    name: 'transport-ipv6',
    title: 'IPv6 address in brackets with a port',
    stdin: ['package', 'install [2001:db8::1]:21 pkgname.wmopkg', 'show pkgname | include Source'],
  },
  {
    name: 'transport-host-key-password',
    title:
      'unknown SSH host asks y/N with its fingerprint; the password prompt reads stdin and echoes nothing',
    stdin: [
      'package',
      'install proto sftp 192.0.2.3 pkgname.wmopkg',
      'y',
      'secret',
      'install proto scp 192.0.2.3 pkgname.wmopkg',
      'n',
    ],
  },
  {
    name: 'host-key-yes-flag',
    title: "-y confirms the operator's commands, not a new SSH host key: that question reads stdin",
    args: ['-y'],
    stdin: [
      'package',
      'install proto sftp password secret 192.0.2.3 pkgname.wmopkg',
      'n',
      'install proto scp password secret 192.0.2.3 pkgname.wmopkg',
      'y',
      'remove all',
    ],
  },
  {
    name: 'host-key-accept-new',
    title: '--accept-new-host-keys trusts a key not in known_hosts without asking, and says which',
    args: ['--accept-new-host-keys'],
    stdin: ['package', 'install proto sftp password secret 192.0.2.3 pkgname.wmopkg'],
  },
  {
    name: 'transport-login-refused',
    title: 'a wrong password is refused; end of input gives no password',
    stdin: [
      'package',
      'install proto ftp user admin 192.0.2.3 pkgname.wmopkg',
      'wrong',
      'install proto ftp 192.0.2.3 pkgname.wmopkg',
    ],
  },
  {
    name: 'password-masked',
    title: 'a password on the line appears as password **** in echo and history',
    args: ['--echo'],
    stdin: [
      'package',
      'install proto ftp user admin password secret 192.0.2.3 pkgname.wmopkg',
      'install password secret',
      // Refused without showing it; | and ; belong to the password; a ? at its end too.
      'install password "Hunter2\u0001" 192.0.2.3 pkgname.wmopkg',
      'install password Xq7|Yz9 192.0.2.3 pkgname.wmopkg',
      'install pass Gh1;Jk2 192.0.2.3 pkgname.wmopkg | count',
      'install PA Wv3? 192.0.2.3 pkgname.wmopkg',
      'install password Wv3?',
      'do history',
    ],
  },
  {
    name: 'script-c-password',
    title: 'a ; inside a password given with -c does not split the command',
    args: [
      '--echo',
      '-c',
      'package install password Gh1;Jk2 192.0.2.3 pkgname.wmopkg; history',
      '-c',
      'history',
    ],
  },
  {
    name: 'address-credentials',
    title: 'user:password@ in an address is refused without repeating it, and masked in history',
    args: ['--echo'],
    stdin: [
      'package',
      'install admin:Hunter2@192.0.2.1 pkgname.wmopkg',
      'install proto ftp ftp://admin:Hunter2@192.0.2.1 pkgname.wmopkg',
      'install admin@192.0.2.1:21 pkgname.wmopkg',
      'history',
    ],
  },
  {
    name: 'long-words',
    title: 'a message repeats at most 80 characters of a word',
    stdin: [
      `${'x'.repeat(120)}`,
      'package',
      `install 192.0.2.1 ${'d'.repeat(300)}/pkgname.wmopkg`,
      `install proto ${'f'.repeat(100)} 192.0.2.1 pkgname.wmopkg`,
      `show ${'p'.repeat(100)}`,
    ],
  },
  {
    name: 'package-names',
    title: 'package file names: extension, path, spaces, control characters, length',
    stdin: [
      'package',
      'install 192.0.2.1 ../pkgname.wmopkg',
      'install 192.0.2.1 pkgname',
      'install 192.0.2.1 pkgname.WMOPKG',
      'install 192.0.2.1 "my pkg.wmopkg"',
      'install 192.0.2.1 "bad\u0007.wmopkg"',
      `install 192.0.2.1 ${'a'.repeat(300)}.wmopkg`,
      'install media external ../../etc/pkgname.wmopkg',
      'install media external missing.wmopkg',
      'install 192.0.2.1 garbage.wmopkg',
    ],
  },
  // The error classes of SPEC §3.3, one line each on stderr.
  {
    name: 'error-classes',
    title: 'unknown, ambiguous, incomplete, failed, internal',
    stdin: [
      'frobnicate',
      'e',
      'show',
      'package',
      'inst',
      'install p 192.0.2.1 pkgname.wmopkg',
      'install 192.0.2.1 nothere.wmopkg',
      'install 192.0.2.1 crash.wmopkg',
      'show version extra',
    ],
  },
  {
    name: 'media-conflict',
    title: 'media and a remote option: one wording, whichever comes first',
    stdin: [
      'package',
      'install media external proto ftp pkgname.wmopkg',
      'install proto ftp media external pkgname.wmopkg',
      'install user admin media external pkgname.wmopkg',
      'install password x media external pkgname.wmopkg',
      'do boot unlock media external password x token.lic',
    ],
  },
  {
    name: 'lock-held',
    title: 'another session holds the device lock',
    provision: { lockedBy: { user: 'operator', session: 'console', since: '2026-11-21T09:58:00.000Z' } },
    stdin: [...INSTALL, 'show'],
  },
  // Output filters, also in script mode.
  {
    name: 'filters',
    title: '| include, | exclude, | begin, | count',
    stdin: [
      ...INSTALL,
      'install 192.0.2.1 hello.wmopkg',
      'do show log | include hello',
      'do show log | exclude hello',
      'do show log | count',
      'show pkgname | begin Verification',
      'show pkgname | begin Verification | count',
      'show | include "hello|pkgname"',
      'show hello | begin Description | exclude "^(Verification|Signing|Persistent|Source|Installed|Size|Files)"',
      // Catastrophic for a backtracking engine (it ran for hours); linear here.
      'do show log | include ^([0-9a-z: -]+)+X',
      'do show log | include (?i)INSTALL HELLO',
      'do show log | include (a)\\1',
    ],
  },
  // Script mode rules (SPEC §3.6).
  {
    name: 'script-comments',
    title: 'blank lines and # comments are skipped; an error does not stop the script',
    stdin: ['# set up', '', 'package', '   ', 'frobnicate', 'show', '# done'],
  },
  {
    name: 'script-exit-on-error',
    title: '--exit-on-error stops at the first error',
    args: ['--exit-on-error'],
    stdin: ['whoami', 'frobnicate', 'whoami'],
  },
  {
    name: 'script-c',
    title: '-c lines, ; separates, repeatable, one session',
    args: [
      '-c',
      'package show; package install 192.0.2.1 pkgname.wmopkg',
      '-c',
      'package; show',
      '-c',
      'do show log | count',
    ],
  },
  {
    name: 'script-c-failure',
    title: '-c exits with the status of the command',
    args: ['-c', 'package remove ghost'],
  },
  {
    name: 'script-echo',
    title: '--echo prints the prompt and the command',
    args: ['--echo'],
    stdin: ['package', 'show', 'exit', 'whoami'],
  },
  {
    name: 'script-slow-command',
    title: 'lines after a slow command are all run, in order, and answer the prompts',
    stdin: [
      'package',
      'install 192.0.2.1 delayed.wmopkg',
      'remove delayed',
      'y',
      'install 192.0.2.1 delayed.wmopkg',
      'show',
      'do whoami',
    ],
  },
  { name: 'script-exit', title: 'exit at the top ends the script', stdin: ['whoami', 'exit', 'whoami'] },
  {
    name: 'top-level-words',
    title: 'a top-level command typed in a context says how to reach it; errors name their stdin line',
    stdin: [
      '# line 1',
      'package',
      'whoami',
      '',
      'package show',
      'install 192.0.2.1 pkgname.wmopkg',
      'remove pkgname',
      'n',
      'do whoami',
      'end',
      'frobnicate',
    ],
  },
  {
    name: 'script-c-context-carries',
    title: 'a context entered by one -c stays for the next (vtysh); a top-level word there says how',
    args: ['-c', 'package', '-c', 'package show', '-c', 'show; end; package show'],
  },
  {
    name: 'history-everywhere',
    title: 'history in every context, like do and exit',
    stdin: [
      'package',
      'show | count',
      'history',
      'do boot',
      'history | include boot',
      'exit',
      'history | count',
    ],
  },
  {
    name: 'remove-all-empty',
    title: 'remove all with nothing installed says so, and still succeeds',
    stdin: ['package', 'remove all', 'y', 'remove', 'y'],
  },
  {
    name: 'narrow-terminal',
    title: 'tables and legends never exceed the width; too narrow, rows become records',
    stdin: [
      ...INSTALL,
      'install 192.0.2.1 unsigned.wmopkg',
      'do terminal width 66',
      'show',
      'do terminal width 50',
      'show',
      'do show media',
      'do terminal width 40',
      'do show media',
      'do reboot',
      'y',
      'help',
      'help install',
      'install ?',
    ],
  },
  {
    name: 'script-help',
    title: '? at the end of a line lists what may come next',
    stdin: ['?', 'sh?', 'package', 'install ?', 'install media ?', 'remove ?'],
  },
  // The top level and the boot context.
  {
    name: 'exec-commands',
    title: 'show version, show media, whoami, help, terminal',
    args: ['--user', 'operator'],
    stdin: [
      'show version | exclude Uptime',
      'show media',
      'whoami',
      'help show version',
      'help package install',
      'terminal ascii',
      'show media',
    ],
  },
  {
    name: 'reboot-factory-reset',
    title: 'reboot and factory-reset print the boot report; persistent packages stay',
    stdin: [
      'package',
      'install persistent 192.0.2.1 pkgname.wmopkg',
      'install 192.0.2.1 hello.wmopkg',
      'do reboot',
      'n',
      'do reboot',
      'y',
      'do factory-reset',
      'y',
      'show',
    ],
  },
  {
    name: 'boot-context',
    title: 'allow-untrusted, media labels, show',
    stdin: [
      'boot',
      'show',
      'allow-untrusted',
      'media stick usb fs-label FIRMWARE partition 2',
      'show',
      'no media stick',
      'no allow-untrusted',
      'no media stick',
      'show',
    ],
  },
  {
    name: 'boot-secure',
    title: 'secure boot refuses allow-untrusted until an unlock token is installed',
    provision: { secureBoot: true },
    stdin: ['boot', 'allow-untrusted', 'unlock media external token.lic', 'allow-untrusted', 'show'],
  },
  {
    name: 'boot-secure-not-in-force',
    title: 'allow-untrusted set but not honoured: secure boot without an unlock token says so',
    provision: { secureBoot: true, allowUntrusted: true },
    stdin: [
      'boot',
      'show',
      'do package install 192.0.2.1 untrusted.wmopkg',
      'do package show untrusted | include "^(State|Verification)"',
    ],
  },
  // The trust context: a transcript per command, and its help.
  {
    name: 'trust-show',
    title: 'trust show: keys, known SSH hosts, CA certificates at once',
    provision: { knownHosts: KNOWN_HOSTS },
    stdin: ['trust', 'certificate media external lab-ca.pem', 'show'],
  },
  {
    name: 'trust-show-keys',
    title: 'trust show keys: the anchor, a revoked key, from the top level too',
    stdin: ['trust show keys', 'trust', 'show keys | include revoked'],
  },
  {
    name: 'trust-key',
    title: 'trust key: a signify public key from a media; twice, or not a key, refused',
    stdin: [
      'trust',
      'key media external partner.pub',
      'show keys',
      'key media external partner.pub',
      'key media external token.lic',
      'do show log | include trust',
    ],
  },
  {
    name: 'trust-no-key',
    title: 'trust no key: asks first; a key that is not there, or not a key number',
    stdin: [
      'trust',
      'key media external partner.pub',
      'no key b0a7d5e6c1f20394',
      'n',
      'no key b0a7d5e6c1f20394',
      'y',
      'show keys',
      'no key b0a7d5e6c1f20394',
      'no key b0a7',
      'do show log | include trust',
    ],
  },
  {
    name: 'trust-revoke',
    title: 'trust revoke: asks first; revoked already changes nothing; a number without a key file',
    stdin: [
      'trust',
      'key media external partner.pub',
      'revoke b0a7d5e6c1f20394',
      'n',
      'revoke b0a7d5e6c1f20394',
      'y',
      'revoke b0a7d5e6c1f20394',
      'revoke 0123456789ABCDEF',
      'yes',
      'show keys',
      'do show log | include trust',
    ],
  },
  {
    name: 'trust-show-hosts',
    title: 'trust show hosts: known_hosts as written, hashed entries as such',
    provision: { knownHosts: KNOWN_HOSTS },
    stdin: ['trust', 'show hosts'],
  },
  {
    name: 'trust-no-host',
    title: 'trust no host: asks first; by name, hashed too; another port is another server',
    provision: { knownHosts: KNOWN_HOSTS },
    stdin: [
      'trust',
      'no host 192.0.2.3',
      'n',
      'no host 192.0.2.3',
      'y',
      'show hosts',
      'no host 192.0.2.3',
      'no host 192.0.2.3:2222',
      'y',
      'do show log | include trust',
    ],
  },
  {
    name: 'trust-show-certificates',
    title: 'trust show certificates: each file, with why one does not count',
    stdin: ['trust', 'show certificates', 'certificate media external lab-ca.pem', 'show certificates'],
  },
  {
    name: 'trust-certificate',
    title: 'trust certificate: a PEM CA certificate from a media; twice, or a server certificate, refused',
    stdin: [
      'trust',
      'certificate media external lab-ca.pem',
      'certificate media external lab-ca.pem',
      'certificate media external server.pem',
      'certificate media external partner.pub',
      'do show log | include trust',
    ],
  },
  {
    name: 'trust-no-certificate',
    title: 'trust no certificate: asks first; a file that is not there',
    stdin: [
      'trust',
      'certificate media external lab-ca.pem',
      'no certificate ca-3cb9dfd2cbaaeee8.pem',
      'n',
      'no certificate ca-3cb9dfd2cbaaeee8.pem',
      'y',
      'show certificates',
      'no certificate ca-3cb9dfd2cbaaeee8.pem',
      'do show log | include trust',
    ],
  },
  {
    name: 'trust-help',
    title: '? and help in the trust context, as everywhere',
    stdin: [
      'trust ?',
      'trust',
      '?',
      'no ?',
      'show ?',
      'revoke ?',
      'no host ?',
      'help key',
      'help no certificate',
    ],
  },
  {
    name: 'ascii-locale',
    title: 'a non-UTF-8 locale draws ASCII tables',
    env: { LANG: 'C' },
    stdin: [...INSTALL, 'remove pkgname', 'y', 'show'],
  },
];

const GOLDEN_DIR = join(ROOT, 'test/golden');

function transcript(g: Golden): string {
  const r = runEdgesh({
    ...(g.args === undefined ? {} : { args: g.args }),
    stdin: g.stdin === undefined ? '' : `${g.stdin.join('\n')}\n`,
    ...(g.env === undefined ? {} : { env: g.env }),
    // A held lock is reported at once, not after the ten seconds a second session waits.
    ...(g.provision === undefined
      ? {}
      : { world: { provision: { ...WORLD.config.provision, ...g.provision }, lockWaitMs: 0 } }),
  });
  // What changes from run to run is written as a placeholder of the same length, so that no column moves:
  // times (the device's clock), the temporary directories of the world and the device, and the serial
  // a new device is created with (the event log's first line; the world provisions another after it).
  const stable = (text: string): string =>
    text
      .replace(/\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\b/g, 'YYYY-MM-DD hh:mm:ss')
      .replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\b/g, 'YYYY-MM-DDThh:mm:ss.sssZ')
      .replace(/("uptime_seconds": )\d+/g, '$1N')
      .replace(/(device created: .*serial )WM[0-9A-F]{10}\b/g, '$1WMXXXXXXXXXX')
      .replace(/\/tmp\/edgesh-(world|run)-[A-Za-z0-9]{6}/g, '/tmp/edgesh-$1-XXXXXX');
  const shown = (text: string): string =>
    stable(text).replace(
      /[\x00-\x08\x0b-\x1f\x7f]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    );
  const parts = [
    `# ${g.title}`,
    `$ edgesh --user admin ${(g.args ?? []).map((a) => (/\s|;/.test(a) ? `'${a}'` : a)).join(' ')}`.trimEnd(),
  ];
  if (g.env !== undefined)
    parts.push(
      `# env: ${Object.entries(g.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
  if (g.provision !== undefined) parts.push(`# provisioned: ${JSON.stringify(g.provision)}`);
  parts.push('--- stdin', ...(g.stdin ?? []).map(shown));
  parts.push('--- stdout', shown(r.stdout).replace(/\n$/, ''));
  parts.push('--- stderr', shown(r.stderr).replace(/\n$/, ''));
  parts.push(`--- exit status ${r.status}`);
  return `${parts.join('\n')}\n`;
}

for (const g of goldens) {
  test(`golden ${g.name}: ${g.title}`, () => {
    const file = join(GOLDEN_DIR, `${g.name}.txt`);
    const actual = transcript(g);
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(file, actual);
      return;
    }
    assert.ok(existsSync(file), `${file} is missing: run UPDATE_GOLDEN=1 npm test and review it`);
    assert.equal(actual, readFileSync(file, 'utf8'));
  });
}

test('golden files: every one belongs to a case', async () => {
  const { readdirSync } = await import('node:fs');
  const names = new Set(goldens.map((g) => `${g.name}.txt`));
  for (const f of readdirSync(GOLDEN_DIR)) assert.ok(names.has(f), `test/golden/${f} has no case`);
});

test('golden transcripts: no stack trace, no password, errors one line each', () => {
  for (const f of goldens.map((g) => join(GOLDEN_DIR, `${g.name}.txt`))) {
    const text = readFileSync(f, 'utf8');
    const out = text.slice(text.indexOf('--- stdout'));
    assert.doesNotMatch(out, /\n\s+at .+:\d+:\d+\)?\n/, f);
    assert.doesNotMatch(out, /secret|hunter2|Hunter2|Xq7|Yz9|Gh1|Jk2|Wv3/, f);
    const stderr = out.slice(out.indexOf('--- stderr') + 11, out.indexOf('--- exit status'));
    // With `| json` a question goes to stderr, its answer read from stdin echoed after it.
    for (const line of stderr.split('\n').filter((l) => l !== ''))
      assert.match(line, /^(Error|Warning): \S|\(y\/N\)\?[yn]?$/, `${f}: ${line}`);
  }
});
