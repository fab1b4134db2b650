// Shell benchmarks: a one-command script and the first prompt against `node -e ''` in the same run (with
// and without NODE_EXTRA_CA_CERTS), and TAB completion with 2,000 packages installed in a real device.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { registry } from '../contexts/index.js';
import { completeAt } from '../contexts/parser.js';
import { loadVendorSecretKey, openDevice } from '../firmware-sim/index.js';
import { buildPackage, installFile } from '../lab/packages.js';
import { BIN, shebangCommand } from '../lab/paths.js';
import { PtyShell } from '../lab/pty.js';
import { loadServices } from '../shell/services.js';
import type { Bench, BenchResult } from './types.js';
import { haveCommand, lowest, median, scratch } from './util.js';

const RUNS = 20;
const PACKAGES = 2000;

/** One environment both sides run in. */
interface Side {
  readonly label: string;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * The environments to measure in: the caller's, and when it sets NODE_EXTRA_CA_CERTS (every node
 * start then loads those certificates, 40-50 ms here; edgesh's shebang drops it, `node -e ''` pays it),
 * also without it, as CI or an operator may run.
 * Always the real device (EDGESH_SERVICES empty), UTF-8.
 */
function sides(): Side[] {
  const env: NodeJS.ProcessEnv = { ...process.env, LANG: 'C.UTF-8', EDGESH_SERVICES: '' };
  const unset = { ...env };
  delete unset.NODE_EXTRA_CA_CERTS;
  const without = { label: 'NODE_EXTRA_CA_CERTS unset', env: unset };
  return process.env.NODE_EXTRA_CA_CERTS ? [{ label: 'NODE_EXTRA_CA_CERTS set', env }, without] : [without];
}

/** Lowest wall time in ms of each command, interleaved in one run: hyperfine when installed, else our own loop. */
async function timeCommands(commands: readonly string[][], env: NodeJS.ProcessEnv): Promise<number[]> {
  if (await haveCommand('hyperfine')) {
    const { dir, cleanup } = await scratch('hyperfine');
    try {
      const out = join(dir, 'h.json');
      const quoted = commands.map((c) => c.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(' '));
      const r = spawnSync(
        'hyperfine',
        ['-N', '--warmup', '3', '--runs', String(RUNS * 2), '--export-json', out, ...quoted],
        { env, encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`hyperfine failed: ${r.stderr}`);
      const json = JSON.parse(readFileSync(out, 'utf8')) as { results: Array<{ min: number }> };
      return json.results.map((x) => x.min * 1000);
    } finally {
      await cleanup();
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
  return times.map(lowest);
}

/**
 * Time from spawn to the first prompt on a pty, to a line editor that completes a TAB, and
 * `node -e ''` to exit on a pty, interleaved.
 */
async function firstPrompt(
  edgesh: readonly string[],
  device: string,
  env: NodeJS.ProcessEnv,
): Promise<[number, number, number]> {
  const [command, ...args] = edgesh;
  const ours: number[] = [];
  const ready: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < RUNS + 2; i++) {
    let t = performance.now();
    const shell = new PtyShell([], {}, [command!, [...args, '--device', device, '--user', 'admin']], env);
    await shell.waitFor('example:/>');
    if (i >= 2) ours.push(performance.now() - t);
    shell.type('pack\t');
    await shell.waitFor('package ');
    if (i >= 2) ready.push(performance.now() - t);
    shell.kill();
    t = performance.now();
    const bare = new PtyShell([], {}, [process.execPath, ['-e', '']], env);
    await bare.exited();
    if (i >= 2) theirs.push(performance.now() - t);
  }
  return [lowest(ours), lowest(ready), lowest(theirs)];
}

function benchName(i: number): string {
  return `zz-bench-${String(i).padStart(2, '0')}-longname`;
}

/**
 * A real device in `dir` with `n` tiny signed packages installed through the store (`install`, as
 * from the USB stick); the last RUNS have long names that a short prefix completes uniquely.
 */
async function deviceWith(dir: string, n: number): Promise<{ device: string; seconds: number }> {
  const started = performance.now();
  const device = join(dir, 'device');
  const store = await openDevice(device, { session: { user: 'bench', id: 'bench' } });
  const key = await loadVendorSecretKey(`${device}.vendor`);
  const files = join(dir, 'packages');
  await mkdir(files);
  const names = Array.from({ length: n }, (_, i) =>
    i < n - RUNS ? `pkg${String(i).padStart(4, '0')}` : benchName(n - 1 - i),
  );
  // Written a few at a time (each write is fsynced), installed one after the other (the device lock).
  for (let i = 0; i < names.length; i += 16) {
    const batch = names.slice(i, i + 16);
    const paths = await Promise.all(
      batch.map((name) => buildPackage(files, { name, sign: key, description: `Bench package ${name}` })),
    );
    for (const path of paths) await installFile(store, path);
  }
  return { device, seconds: (performance.now() - started) / 1000 };
}

/** `startup`: script mode and first prompt against `node -e ''`; `completion`: TAB with 2,000 packages. */
export const benches: Record<string, Bench> = {
  async startup(): Promise<BenchResult[]> {
    const { dir, cleanup } = await scratch('shell');
    try {
      const device = join(dir, 'device');
      const made = spawnSync(process.execPath, [BIN, '--device', device, '-c', 'whoami'], {
        env: sides()[0]!.env,
        encoding: 'utf8',
      });
      if (made.status !== 0) throw new Error(`edgesh could not create the device: ${made.stderr}`);
      const hyperfine = (await haveCommand('hyperfine')) ? ' (hyperfine)' : '';
      // The installed `edgesh`, started as the kernel starts it from its shebang (which drops
      // NODE_EXTRA_CA_CERTS: bin/edgesh-start.cts).
      const bin = shebangCommand(BIN);
      const rows: BenchResult[] = [];
      for (const side of sides()) {
        const edgesh = (line: string): string[] => [
          ...bin,
          '--device',
          device,
          '--user',
          'admin',
          '-c',
          line,
        ];
        const [show, whoami, bare] = await timeCommands(
          [edgesh('package show'), edgesh('whoami'), [process.execPath, '-e', '']],
          side.env,
        );
        const [prompt, ready, barePty] = await firstPrompt(bin, device, side.env);
        const note = `real device, ${side.label}`;
        rows.push(
          {
            name: `script mode, one command (edgesh -c 'package show'), ${side.label}`,
            reference: "node -e ''",
            ours: show!,
            theirs: bare!,
            target: 2.0,
            kind: 'ratio',
            unit: 'ms',
            note: `${note}; best of ${RUNS * 2}${hyperfine}`,
          },
          {
            name: `script mode, one command (edgesh -c whoami), ${side.label}`,
            reference: "node -e ''",
            ours: whoami!,
            theirs: bare!,
            target: 2.0,
            kind: 'ratio',
            unit: 'ms',
            note: `${note}; best of ${RUNS * 2}${hyperfine}`,
          },
          {
            name: `interactive, time to first prompt on a pty, ${side.label}`,
            reference: "node -e '' on a pty",
            ours: prompt,
            theirs: barePty,
            target: 2.0,
            kind: 'ratio',
            unit: 'ms',
            note: `${note}; best of ${RUNS}`,
          },
          {
            name: `interactive, time until the line editor completes a first TAB (pty), ${side.label}`,
            reference: '-',
            ours: ready,
            theirs: barePty,
            target: 150,
            kind: 'absolute',
            unit: 'ms',
            note: `${note}; not a SPEC target: vorpal and the grammar load after the prompt is drawn, 150 ms is about when a wait becomes noticeable; node -e '' on a pty ${barePty.toFixed(1)} ms; best of ${RUNS}`,
          },
        );
      }
      return rows;
    } finally {
      await cleanup();
    }
  },

  async completion(): Promise<BenchResult[]> {
    const { dir, cleanup } = await scratch('shell-completion');
    const hook = process.env.EDGESH_SERVICES;
    try {
      const { device, seconds } = await deviceWith(dir, PACKAGES);
      const setup = `real device, ${PACKAGES} signed packages installed through the store in ${seconds.toFixed(0)} s`;
      // The parser with the device call, in process, on the real services.
      delete process.env.EDGESH_SERVICES;
      const services = await loadServices({ deviceDir: device, user: 'admin', sessionId: 'bench' });
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        const c = await completeAt(registry, 'package', `remove ${benchName(i % RUNS).slice(0, 12)}`, {
          services,
        });
        times.push(performance.now() - t);
        if (c.candidates.length !== 1) throw new Error('completion found the wrong candidates');
      }
      // The whole way through the terminal: TAB typed, completed line drawn.
      const shell = new PtyShell(['--device', device, '--user', 'admin'], {}, undefined, sides()[0]!.env);
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
          note: `${setup}; in process; median of 200`,
        },
        {
          name: `TAB completion of a package name, ${PACKAGES} installed (key to redrawn line, pty)`,
          reference: '-',
          ours: median(pty),
          theirs: 0,
          target: 15,
          kind: 'absolute',
          unit: 'ms',
          note: `${setup}; median of ${RUNS}`,
        },
      ];
    } finally {
      if (hook === undefined) delete process.env.EDGESH_SERVICES;
      else process.env.EDGESH_SERVICES = hook;
      await cleanup();
    }
  },
};
