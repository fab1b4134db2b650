// Small parts of the shell: command line, locale, output filters, progress line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { promptHostname } from '../../contexts/errors.js';
import { filters } from '../../contexts/filters.js';
import type { Args } from '../../contexts/grammar.js';
import { regex } from '../../contexts/param-types.js';
import { parseEdgeshArgs } from '../../shell/args.js';
import { FilteredOutput } from '../../shell/output.js';
import { progressLine } from '../../shell/progress.js';
import { initialTerminal, isUtf8Locale } from '../../shell/terminal.js';

test('edgesh command line', () => {
  const a = parseEdgeshArgs(
    ['--device', 'd', '-c', 'package show', '-c', 'whoami', '-y', '--echo', '--exit-on-error'],
    {},
  );
  assert.deepEqual(
    { ...a },
    {
      device: 'd',
      user: undefined,
      commands: ['package show', 'whoami'],
      yes: true,
      acceptNewHostKeys: false,
      echo: true,
      exitOnError: true,
      help: false,
    },
  );
  assert.equal(parseEdgeshArgs(['--accept-new-host-keys'], {}).acceptNewHostKeys, true);
  assert.equal(parseEdgeshArgs([], { EDGESH_DEVICE: '/var/lib/dev' }).device, '/var/lib/dev');
  assert.equal(parseEdgeshArgs([], {}).device, './.device');
  assert.throws(
    () => parseEdgeshArgs(['--frobnicate'], {}),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CLI_USAGE');
      assert.match(e.message, /--frobnicate.*\(see edgesh --help\)$/);
      return true;
    },
  );
  assert.throws(() => parseEdgeshArgs(['extra'], {}), /see edgesh --help/);
});

test('UTF-8 locale as setlocale reads it: LC_ALL, then LC_CTYPE, then LANG', () => {
  assert.equal(isUtf8Locale({ LANG: 'en_US.UTF-8' }), true);
  assert.equal(isUtf8Locale({ LANG: 'C.utf8' }), true);
  assert.equal(isUtf8Locale({ LANG: 'C' }), false);
  assert.equal(isUtf8Locale({}), false);
  assert.equal(isUtf8Locale({ LC_ALL: 'C', LANG: 'en_US.UTF-8' }), false);
  assert.equal(isUtf8Locale({ LC_CTYPE: 'de_DE.UTF-8', LANG: 'C' }), true);
});

test('terminal settings: paging and width only from a TTY, 80 columns otherwise', () => {
  const pipe = initialTerminal(false, { columns: 132, rows: 50 });
  assert.deepEqual({ length: pipe.length, width: pipe.width }, { length: 0, width: 80 });
  const tty = initialTerminal(true, { columns: 132, rows: 50 });
  assert.equal(tty.length, 49);
  assert.equal(tty.width, 132);
  assert.equal(initialTerminal(true, {}).width, 80);
});

test('terminal width and length N fix the size; auto follows the terminal again, resizes included', () => {
  const window = { columns: 132, rows: 50 };
  const tty = initialTerminal(true, window);
  tty.setWidth(60);
  tty.setLength(0);
  window.columns = 100;
  window.rows = 30;
  assert.deepEqual({ width: tty.width, length: tty.length }, { width: 60, length: 0 });
  tty.setWidth('auto');
  tty.setLength('auto');
  assert.deepEqual({ width: tty.width, length: tty.length }, { width: 100, length: 29 });
  window.columns = 0; // a serial console reports no size
  assert.equal(tty.width, 80);
  const pipe = initialTerminal(false, window);
  pipe.setLength(20);
  pipe.setLength('auto');
  assert.equal(pipe.length, 0);
});

function filter(name: string, args: Args) {
  const command = filters.commands.find((c) => c.name === name)!;
  return command.filter!(args);
}

test('filters chain left to right; count flushes at the end', async () => {
  const lines: string[] = [];
  const out = new FilteredOutput(
    [
      filter('begin', { re: regex.parse('^b') }),
      filter('exclude', { re: regex.parse('x') }),
      filter('count', {}),
    ],
    { line: (t) => lines.push(t), warn: () => {} },
  );
  out.line('a\nb1\nbx\nc');
  out.line('d');
  assert.deepEqual(lines, []);
  await out.end();
  assert.deepEqual(lines, ['3']);
  out.line('late');
  assert.deepEqual(lines, ['3']);
});

test('filtered lines are filtered a slice at a time: an abort between two slices drops the rest', async () => {
  const controller = new AbortController();
  const lines: string[] = [];
  const out = new FilteredOutput(
    [filter('include', { re: regex.parse('^k') })],
    {
      line: (t) => {
        lines.push(t);
        // Ctrl-C or SIGTERM arriving while the first lines are shown.
        if (lines.length === 1) controller.abort(new Error('interrupted'));
      },
      warn: () => {},
    },
    controller.signal,
  );
  // Half a million lines printed by one loop that never waits, as `show log` prints.
  for (let i = 0; i < 500_000; i++) out.line(`keep ${i}`);
  await assert.rejects(out.end(), /interrupted/);
  assert.ok(lines.length > 0 && lines.length < 500_000, String(lines.length));
  out.line('late');
  assert.ok(!lines.includes('late'));
});

test('a question waits until the filtered lines printed before it are out', async () => {
  const lines: string[] = [];
  const out = new FilteredOutput([filter('exclude', { re: regex.parse('x') })], {
    line: (t) => lines.push(t),
    warn: () => {},
  });
  out.line('a\nx\nb');
  await out.flush();
  assert.deepEqual(lines, ['a', 'b']);
  await out.end();
});

test('filter patterns match in linear time, RE2 syntax; backtracking constructs are refused', () => {
  // Exponential for a backtracking engine: minutes on a line of 40 characters.
  const evil = regex.parse('^([0-9a-z: -]+)+X');
  const line = `2026-11-21 10:02:41 boot: firmware 1.0.0, 2 packages installed ${'a'.repeat(5000)}`;
  for (let i = 0; i < 100; i++) assert.equal(evil.test(line), false);
  assert.equal(regex.parse('(?i)^BOOT').test('boot: done'), true);
  assert.equal(regex.parse('hello|pkgname').test('a pkgname'), true);
  assert.throws(
    () => regex.parse('(a)\\1'),
    /invalid regular expression "\(a\)\\1": invalid escape sequence/,
  );
  assert.throws(() => regex.parse('(?=x)'), /unsupported Perl syntax/);
  assert.throws(() => regex.parse('['), /^CliError: invalid regular expression "\[": missing closing \]$/);
  assert.throws(() => regex.parse('a'.repeat(1025)), /longer than 1024 characters/);
});

test('warnings bypass the filters', () => {
  const warned: string[] = [];
  const out = new FilteredOutput([filter('count', {})], { line: () => {}, warn: (t) => warned.push(t) });
  out.warn('pkg is Unsigned');
  assert.deepEqual(warned, ['Warning: pkg is Unsigned']);
});

test('progress line: bar, percent, rate, ETA; fits the width; ASCII when asked', () => {
  const p = { bytes: 5 * 1024 * 1024, total: 10 * 1024 * 1024, elapsedMs: 1000 };
  const line = progressLine('big.wmopkg', p, 80, false);
  assert.match(line, /^big\.wmopkg {2}█+░+ {3}50% {2}5\.0 MiB {2}5\.0 MiB\/s {2}ETA 0:01$/);
  assert.ok(line.length <= 79);
  assert.match(progressLine('big.wmopkg', p, 80, true), /\[#+-+\]/);
  assert.equal(
    progressLine('x', { bytes: 2048, total: undefined, elapsedMs: 2000 }, 80, false),
    'x  2.0 KiB  1.0 KiB/s',
  );
  assert.ok(progressLine('a-very-long-package-name.wmopkg', p, 30, false).length <= 29);
});

test('what a command prints reaches the terminal without control sequences', () => {
  const lines: string[] = [];
  const warnings: string[] = [];
  const out = new FilteredOutput([], { line: (t) => lines.push(t), warn: (t) => warnings.push(t) });
  out.line('Description: \x1b]0;owned\x07x\x1b[2J\ty\x9b31m\rz \u202egpj.exe');
  out.warn('pkg is \x1b[5mUnsigned\nsecond \u2066line');
  // A TAB too: it would move the cursor out of a table's cell.
  assert.deepEqual(lines, ['Description: \\x1b]0;owned\\x07x\\x1b[2J\\x09y\\x9b31m\\x0dz \\u202egpj.exe']);
  assert.deepEqual(warnings, ['Warning: pkg is \\x1b[5mUnsigned second \\u2066line']);
});

test('the host name in a prompt: escaped, at most 64 characters, never empty', () => {
  assert.equal(promptHostname('example'), 'example');
  assert.equal(promptHostname('ex\x1b[31mample'), 'ex\\x1b[31mample');
  assert.equal(promptHostname('h'.repeat(300)), `${'h'.repeat(63)}…`);
  assert.equal(promptHostname(''), '?');
});
