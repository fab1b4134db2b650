// Shell benchmarks: first prompt and one-command script vs `node -e ''` in the same run; TAB with 2,000 packages.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registry } from '../contexts/index.js';
import { completeAt } from '../contexts/parser.js';
import { FakeDevice, freshState } from '../test/helpers/fake-device.js';
import { fakeServices } from '../test/helpers/fake-services.js';
import { PtyShell } from '../test/helpers/pty.js';
import { BIN, FAKE_SERVICES } from '../test/helpers/run-edgesh.js';
import type { Bench, BenchResult } from './types.js';

const RUNS = 20;
const PACKAGES = 2000;

/** The lowest time: the fairest figure for both sides on a shared machine (as bench/util.ts `best`). */
function best(xs: readonly number[]): number {
  return Math.min(...xs);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * The services the shell benches run on: the real device when it is part of the build, else the
 * fake of the tests (the device store lands separately; its startup cost is then not measured).
 */
function servicesEnv(device: string): { env: Record<string, string>; note: string } {
  const real = spawnSync(process.execPath, [BIN, '--device', device, '--user', 'admin', '-c', 'whoami'], {
    env: benchEnv({ EDGESH_SERVICES: '' }),
    encoding: 'utf8',
  });
  if (real.status === 0) return { env: { EDGESH_SERVICES: '' }, note: `real device, ${envNote()}` };
  return {
    env: { EDGESH_SERVICES: FAKE_SERVICES },
    note: `fake device (firmware-sim not in this build), ${envNote()}`,
  };
}

/**
 * Both sides run in the caller's environment (what it costs node to start is part of the
 * reference); NODE_EXTRA_CA_CERTS, when set, makes every node start load those certificates.
 */
function benchEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  return { ...process.env, LANG: 'C.UTF-8', ...extra };
}

function envNote(): string {
  return process.env.NODE_EXTRA_CA_CERTS ? 'NODE_EXTRA_CA_CERTS set' : 'NODE_EXTRA_CA_CERTS unset';
}

function hasHyperfine(): boolean {
  return spawnSync('hyperfine', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Best wall time of each command, interleaved in one run: hyperfine when installed, else our own loop. */
function timeCommands(commands: readonly string[][], env: NodeJS.ProcessEnv): number[] {
  if (hasHyperfine()) {
    const dir = mkdtempSync(join(tmpdir(), 'edgesh-bench-'));
    try {
      const out = join(dir, 'h.json');
      const quoted = commands.map((c) => c.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(' '));
      const r = spawnSync(
        'hyperfine',
        ['-N', '--warmup', '3', '--runs', String(RUNS * 2), '--export-json', out, ...quoted],
        {
          env,
          encoding: 'utf8',
        },
      );
      if (r.status !== 0) throw new Error(`hyperfine failed: ${r.stderr}`);
      const json = JSON.parse(readFileSync(out, 'utf8')) as { results: Array<{ min: number }> };
      return json.results.map((x) => x.min * 1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const times: number[][] = commands.map(() => []);
  for (let i = 0; i < RUNS * 2 + 3; i++) {
    commands.forEach((c, k) => {
      const t = performance.now();
      spawnSync(c[0]!, c.slice(1), { env, stdio: 'ignore' });
      if (i >= 3) times[k]!.push(performance.now() - t);
    });
  }
  return times.map(best);
}

/**
 * Time from spawn to the first prompt on a pty, to a line editor that completes a TAB, and
 * `node -e ''` to exit on a pty, interleaved.
 */
async function firstPrompt(device: string, env: Record<string, string>): Promise<[number, number, number]> {
  const ours: number[] = [];
  const ready: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < RUNS + 2; i++) {
    let t = performance.now();
    const shell = new PtyShell(['--device', device, '--user', 'admin'], env, undefined, benchEnv({}));
    await shell.waitFor('example:/>');
    if (i >= 2) ours.push(performance.now() - t);
    shell.type('pack\t');
    await shell.waitFor('package ');
    if (i >= 2) ready.push(performance.now() - t);
    shell.kill();
    t = performance.now();
    const bare = new PtyShell([], env, [process.execPath, ['-e', '']], benchEnv({}));
    await bare.exited();
    if (i >= 2) theirs.push(performance.now() - t);
  }
  return [best(ours), best(ready), best(theirs)];
}

function benchName(i: number): string {
  return `zz-bench-${String(i).padStart(2, '0')}-longname`;
}

/** A fake device with `n` installed packages, kept in `dir` (written directly: installing 2,000 takes long). */
function deviceWith(dir: string, n: number): void {
  const state = freshState();
  for (let i = 0; i < n; i++) {
    // The last ones have long names that a short prefix completes uniquely.
    const name = i < n - RUNS ? `pkg${String(i).padStart(4, '0')}` : benchName(n - 1 - i);
    state.packages[name] = {
      name,
      version: '1.0',
      persistent: false,
      verification: 'Signed',
      description: name,
      fields: [['Package', name]],
      origin: { kind: 'media', label: 'external', path: `${name}.wmopkg` },
      installedAt: '2026-11-21T10:00:00.000Z',
      size: 100,
      fileCount: 1,
    };
  }
  writeFileSync(join(dir, 'fake-device.json'), JSON.stringify(state));
}

/** `startup`: script mode and first prompt against `node -e ''`; `completion`: TAB with 2,000 packages. */
export const benches: Record<string, Bench> = {
  async startup(): Promise<BenchResult[]> {
    const dir = mkdtempSync(join(tmpdir(), 'edgesh-bench-'));
    try {
      const device = join(dir, 'device');
      const { env, note } = servicesEnv(device);
      const [script, bare] = timeCommands(
        [
          [process.execPath, BIN, '--device', device, '--user', 'admin', '-c', 'whoami'],
          [process.execPath, '-e', ''],
        ],
        benchEnv(env),
      );
      const [prompt, ready, barePty] = await firstPrompt(device, env);
      return [
        {
          name: 'script mode, one command (edgesh -c whoami)',
          reference: "node -e ''",
          ours: script!,
          theirs: bare!,
          target: 2.0,
          kind: 'ratio',
          unit: 'ms',
          note: `${note}; best of ${RUNS * 2}${hasHyperfine() ? ' (hyperfine)' : ''}`,
        },
        {
          name: 'interactive, time to first prompt on a pty',
          reference: "node -e '' on a pty",
          ours: prompt,
          theirs: barePty,
          target: 2.0,
          kind: 'ratio',
          unit: 'ms',
          note: `${note}; best of ${RUNS}`,
        },
        {
          name: 'interactive, time until the line editor completes a first TAB (pty)',
          reference: '-',
          ours: ready,
          theirs: barePty,
          target: 150,
          kind: 'absolute',
          unit: 'ms',
          note: `${note}; not a SPEC target: vorpal and the grammar load after the prompt is drawn, 150 ms is about when a wait becomes noticeable; node -e '' on a pty ${barePty.toFixed(1)} ms; best of ${RUNS}`,
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  async completion(): Promise<BenchResult[]> {
    const dir = mkdtempSync(join(tmpdir(), 'edgesh-bench-'));
    try {
      // The parser with the device call, in process.
      deviceWith(dir, PACKAGES);
      const env = { services: { ...fakeServices(undefined), device: FakeDevice.open(dir) } };
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        const c = await completeAt(registry, 'package', `remove ${benchName(i % RUNS).slice(0, 12)}`, env);
        times.push(performance.now() - t);
        if (c.candidates.length !== 1) throw new Error('completion found the wrong candidates');
      }
      // The whole way through the terminal: TAB typed, completed line drawn.
      const shell = new PtyShell(['--device', dir, '--user', 'admin'], { EDGESH_SERVICES: FAKE_SERVICES });
      await shell.waitFor('example:/>');
      shell.type('package\r');
      await shell.waitFor('example:/package/#>');
      const pty: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const m = shell.mark();
        shell.type(`remove ${benchName(i).slice(0, 12)}`);
        await shell.waitFor(benchName(i).slice(0, 12), m);
        const t = performance.now();
        shell.type('\t');
        await shell.waitFor(benchName(i), m);
        pty.push(performance.now() - t);
        shell.type('\x15');
      }
      shell.kill();
      return [
        {
          name: `TAB completion of a package name, ${PACKAGES} installed (parser + device.names())`,
          reference: '-',
          ours: median(times),
          theirs: 0,
          target: 15,
          kind: 'absolute',
          unit: 'ms',
          note: 'fake device in memory (names() of the real store is one directory read); median of 200',
        },
        {
          name: `TAB completion of a package name, ${PACKAGES} installed (key to redrawn line, pty)`,
          reference: '-',
          ours: median(pty),
          theirs: 0,
          target: 15,
          kind: 'absolute',
          unit: 'ms',
          note: `fake device; median of ${RUNS}`,
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
