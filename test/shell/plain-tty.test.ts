// Automation mode on a real terminal (node-pty): the prompt once, no redraw, no escape sequence, no question, full values.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildPackage } from '../helpers/package-fixtures.js';
import { PtyShell } from '../helpers/pty.js';
import { runEdgesh, WORLD } from '../helpers/run-edgesh.js';
import { VENDOR } from '../helpers/world.js';

const temp = mkdtempSync(join(tmpdir(), 'edgesh-plain-'));
const LONG = `A description much longer than any terminal line: ${'word '.repeat(40)}end of it`;
const scenarioFile = WORLD.configFile({
  servers: {
    ...WORLD.config.servers,
    '192.0.2.78': {
      protos: ['ftp'],
      files: {
        'hello.wmopkg': await buildPackage(temp, {
          name: 'hello',
          version: '1.0',
          description: LONG,
          sign: VENDOR.secretKey,
        }),
      },
    },
  },
});
const shells: PtyShell[] = [];

after(() => {
  for (const s of shells) s.kill();
  rmSync(temp, { recursive: true, force: true });
});

let n = 0;
/** A device with hello installed, and an interactive shell on it in a UTF-8 locale with `env`. */
function shell(env: Record<string, string>): PtyShell {
  const device = join(temp, `device-${n++}`);
  const r = runEdgesh({
    device,
    env: { EDGESH_E2E_CONFIG: scenarioFile },
    stdin: 'package install 192.0.2.78 hello.wmopkg\n',
  });
  assert.equal(r.status, 0, r.stderr);
  const s = new PtyShell(['--device', device, '--user', 'admin'], {
    EDGESH_E2E_CONFIG: scenarioFile,
    LANG: 'C.UTF-8',
    ...env,
  });
  shells.push(s);
  return s;
}

const TOP = 'example:/> ';
const PKG = 'example:/package/#> ';

/** Types `line` and Enter; resolves with the raw output up to the next prompt `prompt`. */
async function run(s: PtyShell, line: string, prompt: string): Promise<string> {
  const m = s.mark();
  s.type(`${line}\r`);
  await s.waitFor(new RegExp(`\\n${prompt.replace(/[/$^.*+?()[\]{}|\\]/g, '\\$&')}$`), m);
  return s.output.slice(m);
}

for (const [what, env] of [
  ['TERM=dumb', { TERM: 'dumb' }],
  ['NO_COLOR', { NO_COLOR: '1' }],
] as const) {
  test(`${what}: automation mode from the first prompt`, async () => {
    const s = shell(env);
    await s.waitFor(TOP);
    // The kernel echoes the line as typed; edgesh writes the prompt once and nothing per key.
    let out = await run(s, 'package show', TOP);
    assert.equal(out.split(TOP).length - 1, 1, out);
    assert.match(out, /^package show\r\n/);
    assert.doesNotMatch(out, /\x1b/);
    // One table encoding whatever the locale (ASCII), the description whole.
    assert.doesNotMatch(out, /[^\x00-\x7f]/);
    assert.ok(out.includes(LONG), out);
    // A command that would ask fails at once, saying what to do; `confirm` on the line answers.
    out = await run(s, 'package', PKG);
    out = await run(s, 'remove hello', PKG);
    assert.match(
      out,
      /Error: not confirmed, nothing was changed \(nothing is asked in automation mode: add confirm to the command\) \[not-confirmed\]/,
    );
    assert.doesNotMatch(out, /\(y\/N\)/);
    out = await run(s, 'remove hello confirm', PKG);
    assert.match(out, /Removed/);
    assert.doesNotMatch(out, /\x1b/);
    // An install draws no progress bar (no carriage return but the line ends').
    out = await run(s, 'install 192.0.2.78 hello.wmopkg', PKG);
    assert.match(out, /Reinstalled|Installed/);
    assert.doesNotMatch(out.replace(/\r\n/g, ''), /[\r\x1b]/);
    // Ctrl-D on an empty line ends the session.
    s.type('\x04');
    assert.equal(await s.exited(), 0);
  });
}

test('terminal automation switches the line editor off and terminal automation off back on', async () => {
  const s = shell({});
  await s.waitFor(TOP);
  // Keys typed before the line editor is up are echoed by the terminal: wait for it (it clears
  // the first prompt's line to draw it again).
  for (let i = 0; i < 150 && !s.output.includes('\r\x1b[K'); i++)
    await new Promise((r) => setTimeout(r, 100));
  let out = await run(s, 'terminal automation', TOP);
  out = await run(s, 'show version', TOP);
  assert.doesNotMatch(out, /\x1b/);
  assert.equal(out.split(TOP).length - 1, 1, out);
  await run(s, 'terminal automation off', TOP);
  // The line editor again: it redraws the line as it is typed.
  out = await run(s, 'show version', TOP);
  assert.match(out, /\x1b\[/);
  s.type('exit\r');
  assert.equal(await s.exited(), 0);
});

test('lines typed while terminal automation runs are read next, each shown after its prompt', async () => {
  const s = shell({});
  await s.waitFor(TOP);
  const m = s.mark();
  // One write: the line editor takes the first line, the second waits (no echo) for automation mode.
  s.type('terminal automation\rpackage show | json\r');
  await s.waitFor(/"packages": \[[\s\S]*\n\}\r?\nexample:\/> $/, m);
  const out = s.output.slice(m).replace(/\r/g, '');
  // The command on its prompt's line, the document from its first line on.
  assert.match(out, /\nexample:\/> package show \| json\n\{\n {2}"packages": \[/);
  s.type('exit\r');
  assert.equal(await s.exited(), 0);
});

test('keys typed before the line editor is up are not echoed by the terminal on a line of their own', async () => {
  const s = shell({});
  await s.waitFor(TOP);
  s.type('show version\r');
  await s.waitFor(/Firmware[\s\S]*example:\/> $/);
  // Before the editor's first drawing (its first escape sequence) nothing but the first prompt: a
  // kernel echo there ended in a line end, under which the editor drew the prompt again, which
  // network_cli took for the end of the command.
  const beforeEditor = s.output.slice(0, s.output.indexOf('\x1b'));
  assert.equal(beforeEditor.replace(/\r$/, ''), TOP);
  s.type('exit\r');
  assert.equal(await s.exited(), 0);
});
