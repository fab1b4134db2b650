// Golden transcripts on the real device: how one is run and written down, and the checks every set of them gets.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runEdgesh, WORLD } from './run-edgesh.js';
import type { Provisioning, WorldConfig } from './world.js';

/** One transcript: a script run of the shell on a fresh device in the world. */
export interface Golden {
  /** File name in the golden directory (without .txt). */
  readonly name: string;
  readonly title: string;
  readonly args?: readonly string[];
  /** Lines of stdin: commands and answers. */
  readonly stdin?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** How the device is provisioned besides the world's defaults (secure boot, a held lock). */
  readonly provision?: Provisioning;
  /** Changes to the world for this run (more servers); not written into the transcript. */
  readonly world?: Partial<WorldConfig>;
}

/** Runs a golden case and writes it down, what varies between runs hidden by placeholders of the same length. */
export function transcript(g: Golden): string {
  const r = runEdgesh({
    ...(g.args === undefined ? {} : { args: g.args }),
    stdin: g.stdin === undefined ? '' : `${g.stdin.join('\n')}\n`,
    ...(g.env === undefined ? {} : { env: g.env }),
    // A held lock is reported at once, not after the ten seconds a second session waits.
    ...(g.provision === undefined && g.world === undefined
      ? {}
      : {
          world: {
            ...g.world,
            ...(g.provision === undefined
              ? {}
              : { provision: { ...WORLD.config.provision, ...g.provision }, lockWaitMs: 0 }),
          },
        }),
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

/**
 * Registers a test per golden case (`UPDATE_GOLDEN=1` rewrites the files), one that every file of `dir`
 * belongs to a case, and one that no transcript shows a stack trace or a password.
 */
export function registerGoldens(goldens: readonly Golden[], dir: string): void {
  for (const g of goldens) {
    test(`golden ${g.name}: ${g.title}`, () => {
      const file = join(dir, `${g.name}.txt`);
      const actual = transcript(g);
      if (process.env.UPDATE_GOLDEN === '1') {
        writeFileSync(file, actual);
        return;
      }
      assert.ok(existsSync(file), `${file} is missing: run UPDATE_GOLDEN=1 npm test and review it`);
      assert.equal(actual, readFileSync(file, 'utf8'));
    });
  }

  test(`golden files of ${dir}: every one belongs to a case`, () => {
    const names = new Set(goldens.map((g) => `${g.name}.txt`));
    for (const f of readdirSync(dir)) {
      if (statSync(join(dir, f)).isDirectory()) continue;
      assert.ok(names.has(f), `${join(dir, f)} has no case`);
    }
  });

  test(`golden transcripts of ${dir}: no stack trace, no password, errors one line each`, () => {
    for (const f of goldens.map((g) => join(dir, `${g.name}.txt`))) {
      const text = readFileSync(f, 'utf8');
      const out = text.slice(text.indexOf('--- stdout'));
      assert.doesNotMatch(out, /\n\s+at .+:\d+:\d+\)?\n/, f);
      assert.doesNotMatch(out, /secret|hunter2|Hunter2|Xq7|Yz9|Gh1|Jk2|Wv3/, f);
      const stderr = out.slice(out.indexOf('--- stderr') + 11, out.indexOf('--- exit status'));
      // With `| json` a question goes to stderr, its answer read from stdin echoed after it, and so
      // does what the command prints while it works (a plan, each feed's update): only in such a
      // transcript may stderr hold other lines than errors and warnings.
      const json = text.slice(0, text.indexOf('--- stdout')).includes('| json');
      for (const line of stderr.split('\n').filter((l) => l !== '')) {
        if (json && !/^(Error|Warning)\b/i.test(line) && !/^ {4}at /.test(line)) continue;
        assert.match(line, /^(Error|Warning): \S|\(y\/N\)\?[yn]?$/, `${f}: ${line}`);
      }
    }
  });
}
