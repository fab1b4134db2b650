import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Services } from '../../contexts/env.js';
import type { Context } from '../../contexts/grammar.js';
import {
  completeAt,
  formatHelp,
  helpAt,
  helpRequest,
  lookup,
  parseLine,
  type Registry,
  redact,
  registry,
} from '../../contexts/index.js';
import type { Device } from '../../firmware-sim/api.js';
import { makeTestPki } from '../../lab/certs.js';
import { installFile, makeTestDevice } from '../helpers/device-fixtures.js';
import { buildPackage } from '../helpers/package-fixtures.js';

interface Case {
  readonly title: string;
  readonly context?: string;
  readonly line: string;
  /** `command` in `context`, or `enter NAME`, or `empty`, with the arguments; or an error message. */
  readonly expected:
    | { readonly run: string; readonly in?: string; readonly args?: object }
    | { readonly enter: string }
    | 'empty'
    | RegExp;
}

const cases: readonly Case[] = [
  { title: 'empty line', line: '   ', expected: 'empty' },
  { title: 'full words', line: 'show version', expected: { run: 'show version' } },
  { title: 'abbreviated words', line: 'sh ver', expected: { run: 'show version' } },
  { title: 'case-insensitive keywords', line: 'SHOW Log', expected: { run: 'show log' } },
  { title: 'context name enters it', line: 'package', expected: { enter: 'package' } },
  { title: 'abbreviated context name', line: 'pack', expected: { enter: 'package' } },
  {
    title: 'one command of a context',
    line: 'package show',
    expected: { run: 'show', in: 'package', args: {} },
  },
  {
    title: 'context command with a value',
    line: 'pack sh pkgname',
    expected: { run: 'show', in: 'package', args: { name: 'pkgname' } },
  },
  {
    title: 'do from a context',
    context: 'package',
    line: 'do show media',
    expected: { run: 'show media', in: 'exec' },
  },
  { title: 'do enters another context', context: 'package', line: 'do boot', expected: { enter: 'boot' } },
  {
    title: 'manual: install address file',
    context: 'package',
    line: 'install 192.0.2.1 pkgname.wmopkg',
    expected: {
      run: 'install',
      args: { target: { address: { host: '192.0.2.1' } }, file: { path: 'pkgname.wmopkg', name: 'pkgname' } },
    },
  },
  {
    title: 'manual: install persistent',
    context: 'package',
    line: 'install persistent 192.0.2.1 pkgname.wmopkg',
    expected: {
      run: 'install',
      args: {
        persistent: true,
        target: { address: { host: '192.0.2.1' } },
        file: { path: 'pkgname.wmopkg', name: 'pkgname' },
      },
    },
  },
  {
    title: 'manual: install proto tftp',
    context: 'package',
    line: 'install proto tftp 192.0.2.1 pkgname.wmopkg',
    expected: {
      run: 'install',
      args: {
        proto: 'tftp',
        target: { address: { host: '192.0.2.1' } },
        file: { path: 'pkgname.wmopkg', name: 'pkgname' },
      },
    },
  },
  {
    title: 'manual: install media external path',
    context: 'package',
    line: 'install media external path/on/media/pkgname.wmopkg',
    expected: {
      run: 'install',
      args: { media: 'external', file: { path: 'path/on/media/pkgname.wmopkg', name: 'pkgname' } },
    },
  },
  {
    title: 'options abbreviated, in any order, IPv6 with port',
    context: 'package',
    line: 'inst us admin pr sf pa "se cret" pers [2001:db8::1]:2222 a/b.wmopkg',
    expected: {
      run: 'install',
      args: {
        user: 'admin',
        proto: 'sftp',
        password: 'se cret',
        persistent: true,
        target: { address: { host: '2001:db8::1', port: 2222 } },
        file: { path: 'a/b.wmopkg', name: 'b' },
      },
    },
  },
  {
    title: 'a quoted word is never a keyword',
    context: 'package',
    line: 'install "media" x.wmopkg',
    expected: {
      run: 'install',
      args: { target: { address: { host: 'media' }, name: 'media' }, file: { path: 'x.wmopkg', name: 'x' } },
    },
  },
  {
    title: 'install a package of the feeds by name',
    context: 'package',
    line: 'install hello',
    expected: { run: 'install', args: { target: { address: { host: 'hello' }, name: 'hello' } } },
  },
  {
    title: 'install by name: dry-run and no-recommends',
    context: 'package',
    line: 'inst persistent lib+x dry no-r',
    expected: {
      run: 'install',
      args: { persistent: true, target: { name: 'lib+x' }, dryRun: true, noRecommends: true },
    },
  },
  {
    title: 'dry-run after a server address is refused',
    context: 'package',
    line: 'install 192.0.2.1 dry-run',
    expected:
      /^dry-run follows the file when installing from a server or a media \(install ADDRESS FILE dry-run\)$/,
  },
  {
    title: 'dry-run after proto is refused',
    context: 'package',
    line: 'install proto ftp hello dry-run',
    expected:
      /^dry-run follows the file when installing from a server or a media \(install ADDRESS FILE dry-run\)$/,
  },
  {
    title: 'feed with a persistent flag',
    context: 'package',
    line: 'feed persistent base http://192.0.2.1/feed/',
    expected: { run: 'feed', args: { persistent: true, name: 'base', url: 'http://192.0.2.1/feed' } },
  },
  {
    title: 'a password in a feed URL is refused without showing it',
    context: 'package',
    line: 'feed base ftp://admin:hunter2@192.0.2.1/feed',
    expected:
      /^invalid URL: a password cannot be part of a feed URL: give user@ only \(the password is asked for at update\), or use a key$/,
  },
  {
    title: 'no feed',
    context: 'package',
    line: 'no feed base',
    expected: { run: 'no feed', args: { name: 'base' } },
  },
  {
    title: 'show whatdepends recursive',
    context: 'package',
    line: 'sh whatd liba rec',
    expected: { run: 'show whatdepends', args: { name: 'liba', recursive: true } },
  },
  {
    title: 'upgrade all by default',
    context: 'package',
    line: 'upgrade',
    expected: { run: 'upgrade', args: {} },
  },
  { title: 'alias', context: 'package', line: 'list', expected: { run: 'show', args: {} } },
  { title: 'alias abbreviated', context: 'package', line: 'l', expected: { run: 'show', args: {} } },
  {
    title: 'remove without argument',
    context: 'package',
    line: 'remove',
    expected: { run: 'remove', args: {} },
  },
  {
    title: 'remove all',
    context: 'package',
    line: 'remove all',
    expected: { run: 'remove', args: { target: { all: true } } },
  },
  {
    title: 'remove a package',
    context: 'package',
    line: 'rem pkgname',
    expected: { run: 'remove', args: { target: { all: false, name: 'pkgname' } } },
  },
  {
    title: 'boot media label with options',
    context: 'boot',
    line: 'media my-usb usb part 2',
    expected: { run: 'media', args: { label: 'my-usb', bus: 'usb', partition: 2 } },
  },
  {
    title: 'boot no media',
    context: 'boot',
    line: 'no media my-usb',
    expected: { run: 'no media', args: { label: 'my-usb' } },
  },
  { title: 'terminal length', line: 'term len 0', expected: { run: 'terminal length', args: { n: 0 } } },
  { title: 'navigation', context: 'boot', line: 'end', expected: { run: 'end', in: 'boot' } },
  // The error classes of SPEC §3.3.
  { title: 'unknown command', line: 'foo', expected: /^unknown command "foo"$/ },
  { title: 'unknown second word', line: 'show foo', expected: /^unknown command "show foo"$/ },
  {
    title: 'unknown command in a context',
    line: 'package frobnicate',
    expected: /^unknown command "package frobnicate"$/,
  },
  {
    title: 'navigation is not a one-shot command',
    line: 'package exit',
    expected: /^unknown command "package exit"$/,
  },
  {
    title: 'ambiguous command',
    context: 'package',
    line: 'e',
    expected: /^ambiguous command "e": end, exit$/,
  },
  {
    title: 'ambiguous keyword',
    context: 'package',
    line: 'install p 192.0.2.1 x.wmopkg',
    expected: /^ambiguous command "install p": password, persistent, proto$/,
  },
  {
    title: 'incomplete group',
    line: 'show',
    expected: /^incomplete command "show": expected backup, last-boot, log, media, version$/,
  },
  {
    title: 'incomplete install',
    context: 'package',
    line: 'install',
    expected: /^incomplete command "install": expected address\[:port\]\|PKGNAME$/,
  },
  {
    title: 'incomplete after the address',
    context: 'package',
    line: 'install 192.0.2.1',
    expected: /^incomplete command "install 192.0.2.1": expected PKGNAME\.wmopkg$/,
  },
  {
    title: 'incomplete option value',
    context: 'package',
    line: 'install media',
    expected: /^incomplete command "install media": expected <label>$/,
  },
  {
    title: 'no address after media',
    context: 'package',
    line: 'install media external',
    expected: /^incomplete command "install media external": expected PKGNAME\.wmopkg$/,
  },
  {
    title: 'incomplete do',
    context: 'package',
    line: 'do',
    expected: /^incomplete command "do": expected a command$/,
  },
  {
    title: 'word left over',
    line: 'show version now',
    expected: /^unexpected word "now" after "show version"$/,
  },
  {
    title: 'option given twice',
    context: 'package',
    line: 'install persistent persistent 192.0.2.1 x.wmopkg',
    expected: /"persistent" given twice/,
  },
  {
    title: 'invalid value says what it expected and got',
    context: 'package',
    line: 'install 192.0.2.1 x.tar',
    expected: /^invalid PKGNAME\.wmopkg "x\.tar": the file must have the \.wmopkg extension$/,
  },
  {
    title: 'media does not go with remote options',
    context: 'package',
    line: 'install proto ftp media external x.wmopkg',
    expected: /^media cannot be combined with proto, user or password$/,
  },
  {
    title: 'proto after media: the same wording',
    context: 'package',
    line: 'install media external proto ftp x.wmopkg',
    expected: /^media cannot be combined with proto, user or password$/,
  },
  {
    title: 'password before media: the same wording',
    context: 'package',
    line: 'install password x media external x.wmopkg',
    expected: /^media cannot be combined with proto, user or password$/,
  },
  {
    title: 'a long word is repeated cut at 80 characters',
    line: `${'x'.repeat(1_000_000)} y`,
    expected: new RegExp(`^unknown command "${'x'.repeat(79)}…"$`),
  },
  {
    title: 'remote options do not go with media',
    context: 'package',
    line: 'install media external user admin x.wmopkg',
    expected: /^media cannot be combined with proto, user or password$/,
  },
  {
    title: 'a version constraint as two words: the relation waits for its version',
    context: 'updater',
    line: 'install b version >= 2.0 priority 60',
    expected: {
      run: 'install',
      args: { name: 'b', version: { relation: '>=', version: '2.0' }, priority: 60 },
    },
  },
  {
    title: 'a version constraint as one word',
    context: 'updater',
    line: 'install b version <<3',
    expected: { run: 'install', args: { name: 'b', version: { relation: '<<', version: '3' } } },
  },
  {
    title: 'a version constraint quoted with its space',
    context: 'updater',
    line: 'install b version "= 1.2.0"',
    expected: { run: 'install', args: { name: 'b', version: { relation: '=', version: '1.2.0' } } },
  },
  {
    title: 'a relation with no version after it',
    context: 'updater',
    line: 'install b version >=',
    expected: /^incomplete command "install b version >=": expected CONSTRAINT$/,
  },
  {
    title: 'a version with no relation',
    context: 'updater',
    line: 'install b version 2.0',
    expected:
      /^invalid CONSTRAINT "2\.0": expected a relation \(<< <= >= >> =\) and a version, e\.g\. >= 2\.0 or >=2\.0$/,
  },
  {
    title: 'a quoted relation is the whole value, not joined to the next word',
    context: 'updater',
    line: 'install b version ">=" 2.0',
    expected: /^invalid CONSTRAINT ">=": expected a relation/,
  },
  { title: 'unterminated quote', line: 'show log | include "x', expected: /unterminated double quote/ },
  { title: 'empty filter', line: 'show log |', expected: /^incomplete command "\|": expected a filter$/ },
  { title: 'unknown filter', line: 'show log | grep x', expected: /^unknown command "\| grep"$/ },
  {
    title: 'filter on navigation',
    line: 'package | count',
    expected: /output filters apply to commands only/,
  },
  // `confirm` and `dry-run` (docs/automation.md).
  {
    title: 'remove NAME confirm',
    context: 'package',
    line: 'remove pkgname confirm',
    expected: { run: 'remove', args: { target: { all: false, name: 'pkgname' }, confirm: true } },
  },
  {
    title: 'remove confirm: all, confirmed',
    context: 'package',
    line: 'remove confirm',
    expected: { run: 'remove', args: { confirm: true } },
  },
  {
    title: 'a package named confirm is a quoted name',
    context: 'package',
    line: 'remove "confirm" confirm',
    expected: { run: 'remove', args: { target: { all: false, name: 'confirm' }, confirm: true } },
  },
  {
    title: 'where a name may stand, an abbreviation of confirm is a name',
    context: 'package',
    line: 'remove conf',
    expected: { run: 'remove', args: { target: { all: false, name: 'conf' } } },
  },
  {
    title: 'after the name an abbreviation of confirm is the keyword',
    context: 'package',
    line: 'remove pkgname conf',
    expected: { run: 'remove', args: { target: { all: false, name: 'pkgname' }, confirm: true } },
  },
  {
    title: 'reboot confirm',
    line: 'reboot confirm',
    expected: { run: 'reboot', args: { confirm: true } },
  },
  {
    title: 'install … dry-run confirm, in either order',
    context: 'package',
    line: 'install 192.0.2.1 x.wmopkg confirm dry-run',
    expected: {
      run: 'install',
      args: {
        target: { address: { host: '192.0.2.1' } },
        file: { path: 'x.wmopkg', name: 'x' },
        confirm: true,
        dryRun: true,
      },
    },
  },
  {
    title: 'a command that never asks takes no confirm',
    line: 'show version confirm',
    expected: /^unexpected word "confirm" after "show version"$/,
  },
  {
    title: 'json after a command with a document',
    line: 'sh ver | js | include pend',
    expected: { run: 'show version' },
  },
  {
    title: 'json after a command without one',
    line: 'whoami | json',
    expected: /^whoami has no JSON output$/,
  },
  {
    title: 'json after a command of a context without one',
    context: 'boot',
    line: 'allow-untrusted | json',
    expected: /^boot allow-untrusted has no JSON output$/,
  },
  {
    title: 'json after another filter',
    line: 'show log | count | json',
    expected: /^json comes right after the command, before the other filters$/,
  },
];

function check(c: Case): void {
  const run = (): ReturnType<typeof parseLine> => parseLine(registry, c.context ?? 'exec', c.line);
  if (c.expected instanceof RegExp) {
    assert.throws(run, (e: Error & { code?: string }) => {
      assert.match(e.message, c.expected as RegExp);
      assert.match(String(e.code), /^CLI_/);
      return true;
    });
    return;
  }
  const inv = run().invocation;
  if (c.expected === 'empty') {
    assert.equal(inv.kind, 'empty');
    return;
  }
  if ('enter' in c.expected) {
    assert.deepEqual(inv, { kind: 'enter', context: c.expected.enter });
    return;
  }
  assert.equal(inv.kind, 'run');
  if (inv.kind !== 'run') return;
  assert.equal(inv.command.name, c.expected.run);
  assert.equal(inv.context.name, c.expected.in ?? c.context ?? 'exec');
  if (c.expected.args !== undefined) assert.deepEqual({ ...inv.args }, c.expected.args);
}

for (const c of cases) test(`parse: ${c.title}`, () => check(c));

test('parse: an exact match wins over a longer word it is a prefix of', () => {
  const ctx: Context = {
    name: 'exec',
    path: '/',
    commands: [
      { name: 'set', help: 'a' },
      { name: 'setup', help: 'b' },
    ],
  };
  const mini: Registry = { contexts: { exec: ctx }, filters: registry.filters };
  const inv = parseLine(mini, 'exec', 'set').invocation;
  assert.equal(inv.kind === 'run' && inv.command.name, 'set');
  assert.throws(
    () => parseLine(mini, 'exec', 'se'),
    /^Error: ambiguous command "se": set, setup$|ambiguous command "se": set, setup/,
  );
});

test('parse: output filters in order, the regular expression is the rest of the segment', () => {
  const parsed = parseLine(registry, 'exec', 'show log | include install pkg | exclude "a|b" | count');
  assert.deepEqual(
    parsed.filters.map((f) => [
      f.command.name,
      f.args.re === undefined ? undefined : (f.args.re as { pattern(): string }).pattern(),
    ]),
    [
      ['include', 'install pkg'],
      ['exclude', 'a|b'],
      ['count', undefined],
    ],
  );
});

test('parse: | json asks for the document, and the filters after it act on its lines', () => {
  const plain = parseLine(registry, 'exec', 'show log | include x');
  assert.equal(plain.json, false);
  const parsed = parseLine(registry, 'package', 'show | json | include "name" | count');
  assert.equal(parsed.json, true);
  assert.deepEqual(
    parsed.filters.map((f) => f.command.name),
    ['include', 'count'],
  );
});

test('parse: a bad regular expression is an invalid value', () => {
  assert.throws(
    () => parseLine(registry, 'exec', 'show log | include ('),
    (e: Error) => e.message === 'invalid regular expression "(": missing closing )',
  );
});

const secrets: ReadonlyArray<{ context?: string; line: string; expected: string }> = [
  {
    context: 'package',
    line: 'install password hunter2 192.0.2.1 x.wmopkg',
    expected: 'install password **** 192.0.2.1 x.wmopkg',
  },
  {
    context: 'package',
    line: 'install  pass  "hunter 2"  user admin 192.0.2.1 x.wmopkg',
    expected: 'install  pass  ****  user admin 192.0.2.1 x.wmopkg',
  },
  {
    line: 'package install password s3 192.0.2.1 x.wmopkg',
    expected: 'package install password **** 192.0.2.1 x.wmopkg',
  },
  {
    context: 'boot',
    line: 'unlock password s3 192.0.2.1 t.lic',
    expected: 'unlock password **** 192.0.2.1 t.lic',
  },
  { context: 'package', line: 'install bogus! password s3cret', expected: 'install bogus! password ****' },
  { context: 'package', line: 'instal password s3cret', expected: 'instal password ****' },
  {
    // A user named like the keyword: the tokenizer cannot tell, so the next word is masked (the
    // safe side); quoted, it is a value and not a keyword.
    context: 'package',
    line: 'install user password 1.2.3.4 x.wmopkg',
    expected: 'install user password **** x.wmopkg',
  },
  {
    context: 'package',
    line: 'install user "password" 1.2.3.4 x.wmopkg',
    expected: 'install user "password" 1.2.3.4 x.wmopkg',
  },
  // | and ; belong to an unquoted password; the filter after a blank stays a filter.
  {
    context: 'package',
    line: 'install password Abc|Def 192.0.2.1 x.wmopkg | count',
    expected: 'install password **** 192.0.2.1 x.wmopkg | count',
  },
  {
    context: 'package',
    line: 'install pa Ghi;Jkl 192.0.2.1 x.wmopkg',
    expected: 'install pa **** 192.0.2.1 x.wmopkg',
  },
  {
    context: 'package',
    line: 'install PASS a"b 192.0.2.1 x.wmopkg',
    expected: 'install PASS **** 192.0.2.1 x.wmopkg',
  },
  { context: 'package', line: 'install password', expected: 'install password' },
  // Credentials in an address, which the address type refuses.
  {
    context: 'package',
    line: 'install admin:Hunter2@192.0.2.1 x.wmopkg',
    expected: 'install admin:****@192.0.2.1 x.wmopkg',
  },
  {
    context: 'package',
    line: 'install ftp://admin:p@ss/w@192.0.2.1/x.wmopkg',
    expected: 'install ftp://admin:****@192.0.2.1/x.wmopkg',
  },
  {
    context: 'package',
    line: 'install admin@192.0.2.1 x.wmopkg',
    expected: 'install admin@192.0.2.1 x.wmopkg',
  },
  // `pa` in the place of a command is the package context, not the password keyword.
  { line: 'pa show | count', expected: 'pa show | count' },
  { line: 'do pa show|count', expected: 'do pa show|count' },
  { line: 'show log', expected: 'show log' },
  // Words that only look like the keyword: what follows them is masked too, wherever they stand.
  {
    context: 'package',
    line: 'install proto ftp passwd Hunter2 192.0.2.1 x.wmopkg',
    expected: 'install proto ftp passwd **** 192.0.2.1 x.wmopkg',
  },
  {
    context: 'package',
    line: 'install password=Hunter2 192.0.2.1 x.wmopkg',
    expected: 'install password=**** 192.0.2.1 x.wmopkg',
  },
  { context: 'package', line: 'install PASSWD:Hunter2 x', expected: 'install PASSWD:**** x' },
  { line: 'passwd Hunter2', expected: 'passwd ****' },
  { line: 'Passphrase Hunter2 more', expected: 'Passphrase **** more' },
  { line: 'show log | include passing | count', expected: 'show log | include passing | count' },
  { line: '"passwd" Hunter2', expected: '"passwd" Hunter2' },
];

for (const s of secrets) {
  test(`redact: ${s.line}`, () => assert.equal(redact(registry, s.context ?? 'exec', s.line), s.expected));
}

test('a password is taken whole up to the next blank: | and ; are part of it', () => {
  const parsed = parseLine(registry, 'package', 'install password Abc|Def;x 192.0.2.1 x.wmopkg | count');
  assert.equal(parsed.invocation.kind, 'run');
  if (parsed.invocation.kind !== 'run') return;
  assert.equal(parsed.invocation.args.password, 'Abc|Def;x');
  assert.equal(parsed.filters.length, 1);
  const quoted = parseLine(registry, 'package', 'install pa "a b|c" 192.0.2.1 x.wmopkg');
  assert.equal(quoted.invocation.kind === 'run' && quoted.invocation.args.password, 'a b|c');
  // Not a keyword in the place of a command: `pa` is the package context there.
  assert.equal(parseLine(registry, 'exec', 'pa show|count').filters.length, 1);
});

test('a ? that ends a password is part of it; alone after password it asks for help', () => {
  assert.equal(helpRequest('install password Abc?'), undefined);
  assert.equal(helpRequest('install password ?'), 'install password ');
  assert.equal(helpRequest('install ?'), 'install ');
});

test('an invalid password is refused without showing it', () => {
  for (const line of [
    'install password "Hunter2\u0001" 192.0.2.1 x.wmopkg',
    'install pa "" 192.0.2.1 x.wmopkg',
  ]) {
    assert.throws(
      () => parseLine(registry, 'package', line),
      (e: Error) => e.message === 'invalid password: expected a word without control characters',
    );
  }
});

test('redact: error messages never show a password', () => {
  assert.throws(
    () => parseLine(registry, 'package', 'install password hunter2'),
    (e: Error) => e.message === 'incomplete command "install password ****": expected address[:port]|PKGNAME',
  );
  assert.throws(
    () => parseLine(registry, 'package', 'install password hunter2 1.2.3.4 x.wmopkg extra'),
    (e: Error) => !e.message.includes('hunter2') && e.message.includes('****'),
  );
});

/** A real device with three packages installed, shared by the completion and help cases. */
const testDevice = await makeTestDevice();
after(() => testDevice.cleanup());
for (const name of ['pkgname', 'pkgtwo', 'other']) {
  await installFile(
    testDevice.device,
    await buildPackage(testDevice.root, { name, version: '1', sign: testDevice.vendorKey }),
  );
}

/** Services over the test device; completion asks only the device. */
function services(device: Device = testDevice.device): Services {
  const none = async (): Promise<never> => {
    throw new Error('not used by completion');
  };
  return { device, transports: none, media: none, close: async () => {} };
}

const helps: ReadonlyArray<{ context?: string; line: string; expected: string[] }> = [
  { line: 'show ', expected: ['media', 'version', 'backup', 'log', 'last-boot'] },
  { line: 'sh', expected: ['show'] },
  { line: 'show version ', expected: ['<cr>', '|'] },
  {
    context: 'package',
    line: 'install ',
    expected: ['persistent', 'media', 'proto', 'user', 'password', 'address[:port]|PKGNAME'],
  },
  {
    context: 'package',
    line: 'install persistent ',
    expected: ['media', 'proto', 'user', 'password', 'address[:port]|PKGNAME'],
  },
  {
    context: 'package',
    line: 'install hello ',
    expected: ['dry-run', 'no-recommends', 'confirm', 'PKGNAME.wmopkg', '<cr>', '|'],
  },
  { context: 'package', line: 'install media ', expected: ['<label>'] },
  { context: 'package', line: 'install media external ', expected: ['persistent', 'PKGNAME.wmopkg'] },
  {
    context: 'package',
    line: 'install proto ftp ',
    expected: ['persistent', 'user', 'password', 'address[:port]|PKGNAME'],
  },
  { context: 'package', line: 'install 192.0.2.1 ', expected: ['PKGNAME.wmopkg'] },
  {
    context: 'package',
    line: 'install 192.0.2.1 x.wmopkg ',
    expected: ['dry-run', 'confirm', 'reboot', 'version', '<cr>', '|'],
  },
  { line: 'reboot ', expected: ['confirm', '<cr>', '|'] },
  { context: 'package', line: 'install proto ', expected: ['<ftp|tftp|scp|sftp|http|https>'] },
  { context: 'package', line: 'remove p', expected: ['pkgname', 'pkgtwo'] },
  {
    context: 'package',
    line: 'show ',
    expected: ['feeds', 'available', 'upgradable', 'depends', 'whatdepends', 'files', 'PKGNAME', '<cr>', '|'],
  },
  { context: 'package', line: 'e', expected: ['exit', 'end'] },
  {
    line: 'package ',
    expected: [
      'install',
      'remove',
      'show',
      'list',
      'feed',
      'no',
      'update',
      'upgrade',
      'autoremove',
      'search',
      'help',
      '<cr>',
    ],
  },
  { line: 'show log | ', expected: ['json', 'include', 'exclude', 'begin', 'count'] },
  // json only first, and only after a command that has a document.
  { line: 'show log | json | ', expected: ['include', 'exclude', 'begin', 'count'] },
  { line: 'whoami | ', expected: ['include', 'exclude', 'begin', 'count'] },
  { line: 'show log | count ', expected: ['<cr>', '|'] },
  { line: 'frobnicate ', expected: [] },
];

for (const h of helps) {
  test(`? after "${h.line}"`, async () => {
    const s = services();
    const items = await helpAt(registry, h.context ?? 'exec', h.line, { services: s });
    assert.deepEqual(
      items.map((i) => i.label),
      h.expected,
    );
    for (const i of items) assert.equal(typeof i.help, 'string');
  });
}

test('? lists help text for each item and says so when nothing fits', async () => {
  const s = services();
  const lines = formatHelp(await helpAt(registry, 'package', 'install ', { services: s }), 80);
  assert.match(lines[0]!, /^ {2}persistent +Survive a factory reset/);
  assert.deepEqual(formatHelp(await helpAt(registry, 'exec', 'nonsense ', { services: s }), 80), [
    '% Unrecognized command',
  ]);
});

test('? help on a narrow terminal is wrapped at spaces, never cut in a word by the terminal', async () => {
  const items = await helpAt(registry, 'package', 'install ', { services: services() });
  const words = items.flatMap((i) => [i.label, ...i.help.split(' ')]).filter((w) => w !== '');
  for (const width of [30, 40, 50, 60, 80]) {
    const lines = formatHelp(items, width);
    assert.ok(
      lines.every((l) => l.length <= width),
      `${width}:\n${lines.join('\n')}`,
    );
    // Every word of the help is whole on some line.
    assert.deepEqual(
      lines.flatMap((l) => l.trim().split(/ +/)),
      words,
      `${width}:\n${lines.join('\n')}`,
    );
  }
  assert.deepEqual(formatHelp(items, 60).slice(0, 3), [
    '  persistent              Survive a factory reset; only',
    '                          remove takes it away',
    '  media                   Read the file from a connected',
  ]);
});

test('? is a help request only at the end and outside quotes', () => {
  assert.equal(helpRequest('install ?'), 'install ');
  assert.equal(helpRequest('sh?'), 'sh');
  assert.equal(helpRequest('show log | include "a?'), undefined);
  assert.equal(helpRequest('show log'), undefined);
});

const completions: ReadonlyArray<{ context?: string; line: string; start: number; expected: string[] }> = [
  { line: 'pa', start: 0, expected: ['package'] },
  { line: 'terminal ', start: 9, expected: ['ascii', 'automation', 'length', 'utf8', 'width'] },
  { context: 'package', line: 'remove p', start: 7, expected: ['pkgname', 'pkgtwo'] },
  {
    context: 'package',
    line: 'remove ',
    start: 7,
    expected: ['all', 'confirm', 'other', 'pkgname', 'pkgtwo'],
  },
  { context: 'package', line: 'show pkgn', start: 5, expected: ['pkgname'] },
  { line: 'package remove o', start: 15, expected: ['other'] },
  { context: 'package', line: 'install proto h', start: 14, expected: ['http', 'https'] },
  { context: 'package', line: 'install media ', start: 14, expected: ['external'] },
  { context: 'package', line: 'install pe', start: 8, expected: ['persistent'] },
  { line: 'show log | c', start: 11, expected: ['count'] },
  { line: 'frobnicate x', start: 12, expected: [] },
  { context: 'package', line: 'install "unterminated', start: 8, expected: [] },
];

for (const c of completions) {
  test(`TAB after "${c.line}"`, async () => {
    const s = services();
    const r = await completeAt(registry, c.context ?? 'exec', c.line, { services: s });
    assert.deepEqual(r.candidates, c.expected);
    if (c.expected.length > 0) assert.equal(r.start, c.start);
  });
}

test('TAB in the trust context: key numbers, known hosts and certificate names from the device', async () => {
  const paths = testDevice.device.paths;
  const key = 'AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB';
  await writeFile(
    paths.knownHostsFile,
    `192.0.2.3 ssh-ed25519 ${key}\n[192.0.2.4]:2222 ssh-ed25519 ${key}\n*.lab ssh-ed25519 ${key}\n|1|c2FsdA==|aGFzaA== ssh-ed25519 ${key}\n`,
  );
  await mkdir(paths.caDir, { recursive: true });
  await writeFile(join(paths.caDir, 'lab.pem'), makeTestPki().caCert);
  const vendor = (await testDevice.device.trust.keys()).keys[0]!.keyNumber;
  const at = async (line: string) =>
    (await completeAt(registry, 'trust', line, { services: services() })).candidates;
  assert.deepEqual(await at('no key '), [vendor]);
  assert.deepEqual(await at(`revoke ${vendor.slice(0, 3)}`), [vendor]);
  assert.deepEqual(await at('no host 192'), ['192.0.2.3', '192.0.2.4:2222']);
  assert.deepEqual(await at('no certificate '), ['lab.pem']);
  assert.deepEqual(await at('no '), ['certificate', 'host', 'key']);
  assert.deepEqual(await at('show c'), ['certificates']);
  const help = await helpAt(registry, 'trust', 'no ', { services: services() });
  assert.deepEqual(
    help.map((i) => i.label),
    ['key', 'host', 'certificate'],
  );
});

test('TAB never fails, even when the device does', async () => {
  const failing = Object.create(testDevice.device) as Device;
  failing.names = async () => {
    throw new Error('store unreadable');
  };
  const r = await completeAt(registry, 'package', 'remove p', { services: services(failing) });
  assert.deepEqual(r.candidates, []);
});

test('help COMMAND finds commands through contexts and abbreviations', () => {
  assert.equal(lookup(registry, 'exec', 'sh ver').command.name, 'show version');
  const nested = lookup(registry, 'exec', 'package inst');
  assert.equal(nested.command.name, 'install');
  assert.equal(nested.context.name, 'package');
  assert.equal(lookup(registry, 'package', 'install persistent').command.name, 'install');
  assert.throws(() => lookup(registry, 'exec', 'nope'), /unknown command "nope"/);
});
