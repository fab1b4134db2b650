// Build step after `tsc`: bundles the edgesh program into one CommonJS file and records its V8 code cache.
//
// Why (docs/shell.md, "Startup"): an ES module graph of some forty files costs Node 20 a resolution,
// a file read and an instantiation per file, and a bundle compiled from a code cache costs almost
// nothing to compile. `dist/bin/edgesh-start.cjs` (the installed `edgesh`) runs the bundle.
//
// The bundle is made from tsc's output (dist/), so it runs exactly the code the tests type-check;
// packages in node_modules stay outside it and are still loaded only where the code imports them.
// `import.meta.url` of each module is kept pointing at that module's file in dist/, so that what is
// found relative to it (the unpack worker, packages through createRequire) is found as before.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { vorpalStandIns } from '../shell/vorpal.js';
import { HTTP2_CONSTANTS } from './http2-constants.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = join(root, 'dist');
const outDir = join(dist, 'bundle');
const bundle = join(outDir, 'edgesh.cjs');
const launcher = join(dist, 'bin/edgesh-start.cjs');

/**
 * The bundle's entry: undici's `Agent` and `request`, the latter made as undici's index.js makes it
 * (`makeDispatcher(api.request)`, its argument checks included), from the modules of that same version.
 * Its requires are template literals, which esbuild bundles as static ones: they name undici's files,
 * not this repository's (test/layering.test.ts reads quoted requires as imports of the product).
 */
const UNDICI_ENTRY = `'use strict'
const Dispatcher = require(\`./lib/dispatcher/dispatcher\`)
const Agent = require(\`./lib/dispatcher/agent\`)
const errors = require(\`./lib/core/errors\`)
const util = require(\`./lib/core/util\`)
const api = require(\`./lib/api\`)
const { getGlobalDispatcher } = require(\`./lib/global\`)
const { InvalidArgumentError } = errors
Object.assign(Dispatcher.prototype, api)
function makeDispatcher (fn) {
  return (url, opts, handler) => {
    if (typeof opts === 'function') {
      handler = opts
      opts = null
    }
    if (!url || (typeof url !== 'string' && typeof url !== 'object' && !(url instanceof URL))) {
      throw new InvalidArgumentError('invalid url')
    }
    if (opts != null && typeof opts !== 'object') {
      throw new InvalidArgumentError('invalid opts')
    }
    if (opts && opts.path != null) {
      if (typeof opts.path !== 'string') {
        throw new InvalidArgumentError('invalid opts.path')
      }
      let path = opts.path
      if (!opts.path.startsWith('/')) {
        path = '/' + path
      }
      url = new URL(util.parseOrigin(url).origin + path)
    } else {
      if (!opts) {
        opts = typeof url === 'object' ? url : {}
      }
      url = util.parseURL(url)
    }
    const { agent, dispatcher = getGlobalDispatcher() } = opts
    if (agent) {
      throw new InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?')
    }
    return fn.call(dispatcher, {
      ...opts,
      origin: url.origin,
      path: url.search ? url.pathname + url.search : url.pathname,
      method: opts.method || (opts.body ? 'PUT' : 'GET')
    }, handler)
  }
}
module.exports.Agent = Agent
module.exports.errors = errors
module.exports.request = makeDispatcher(api.request)
`;

/** The commands run to fill the code cache: a one-command script, as `ssh host 'package show'` runs. */
const WARM_UP = ['-c', 'package show', '-c', 'show version', '-c', 'whoami'];

/**
 * The environment of every process the build starts to make or check a code cache: V8 refuses a
 * cache made under other V8 flags, so they run as a plain `node` start does, whatever NODE_OPTIONS
 * the build was given.
 */
const { NODE_OPTIONS: _, ...PLAIN_ENV } = process.env;

/** A process that loads vorpal.cjs as the shell does, and nothing else. */
const VORPAL_LOAD = `const m = await import(${JSON.stringify(join(dist, 'shell/vorpal.js'))}); m.loadVorpal(); process.exit(0);`;

/**
 * Replaces `import.meta.url` with the URL of the module's own file in dist/ (found from the bundle's
 * place), and shell/import-file.js with a call to the launcher's `import()` (see that file).
 */
const moduleUrls: Plugin = {
  name: 'edgesh-module-urls',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (args.path === join(dist, 'shell/import-file.js')) {
        return {
          contents: 'export function importFile(url) { return __edgeshImportFile(url); }',
          loader: 'js',
        };
      }
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      const file = relative(dist, args.path).split(sep).join('/');
      const contents = text.replaceAll('import.meta.url', `__edgeshModuleUrl(${JSON.stringify(file)})`);
      if (contents.includes('import.meta')) {
        return { errors: [{ text: `${file}: only import.meta.url can be bundled` }] };
      }
      return { contents, loader: 'js' };
    });
  },
};

/**
 * Packages written into the bundle instead of being required from node_modules: the ones published
 * as ES modules only, which Node 20 before 20.19 cannot `require`, and which the bundle loads at
 * start (the table layout measures text with get-east-asian-width).
 */
const INLINED = new Set(['get-east-asian-width']);

/** Every other package stays outside the bundle, loaded where the code imports it. */
const externalPackages: Plugin = {
  name: 'edgesh-external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const parts = args.path.split('/');
      const name = args.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
      return INLINED.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

rmSync(outDir, { recursive: true, force: true });
for (const bin of ['bin/edgesh-start.cjs', 'bin/wmopkg-start.cjs', 'bin/wmopkg.js']) {
  startWithoutExtraCas(join(dist, bin));
}
const modules = await bundleProgram('edgesh');
await bundleProgram('wmopkg');
await bundleVorpal();
await bundleUndici();

// Fill the code cache: run the installed binary on a scratch device (made by a first run, so that
// the cache holds what a start on an existing device compiles, not what creating one does).
const scratch = mkdtempSync(join(tmpdir(), 'edgesh-bundle-'));
try {
  const device = join(scratch, 'device');
  run(['--device', device, '--user', 'build', '-c', 'whoami'], {});
  if (await warmInteractive(device)) checkCache('vorpal', VORPAL_LOAD);
  run(['--device', device, '--user', 'build', ...WARM_UP], { EDGESH_CODE_CACHE: 'write' });
  const check = run(['--device', device, '--user', 'build', '-c', 'whoami'], { EDGESH_CODE_CACHE: 'report' });
  // Not a build failure: without its cache the bundle only starts slower (the bundle tests say so).
  if (!check.includes('edgesh: code cache accepted')) {
    console.error(`warning: V8 does not take the code cache of the bundle: ${check.trim()}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
warmWmopkg();

// Silent on success, as tsc is (`npm start` runs the build each time); `--verbose` says what was made.
if (process.argv.includes('--verbose')) {
  console.error(`bundle: ${relative(root, bundle)} (${modules} modules)`);
}

/**
 * Bundles a program of this repository, dist/bin/NAME.js and what it imports, into
 * dist/bundle/NAME.cjs (bin/launch-bundle.cts runs it); returns how many modules went in.
 */
async function bundleProgram(name: 'edgesh' | 'wmopkg'): Promise<number> {
  const file = join(outDir, `${name}.cjs`);
  const result = await build({
    entryPoints: [join(dist, `bin/${name}.js`)],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Packages stay outside, but for INLINED (see externalPackages).
    // No `import()` in the bundle (see shell/import-file.ts): imports of packages become `require`.
    supported: { 'dynamic-import': false },
    // Error classes name themselves after their class (`name = new.target.name`): keep the names.
    keepNames: true,
    minifyWhitespace: true,
    minifyIdentifiers: true,
    minifySyntax: true,
    legalComments: 'none',
    // One line (the check below skips it): strict mode for the whole file, as the ES modules were, then
    // the module URLs and `import()` (the launcher's; run without it, the bundle's own works).
    banner: {
      js: [
        '"use strict";',
        'const __edgeshModuleUrl=(f)=>require("node:url").pathToFileURL(require("node:path").join(__dirname,"..",f)).href;',
        'const __edgeshImportFile=typeof __edgeshImport==="function"?__edgeshImport:(u)=>import(u);',
      ].join(''),
    },
    plugins: [moduleUrls, externalPackages],
    metafile: true,
    logLevel: 'warning',
  });
  // The code cache file is named after the bundle's digest: a cache never meets another bundle.
  // The launcher wraps the bundle in a function: no `#!` line, which cannot stand inside one.
  const source = readFileSync(file, 'utf8').replace(/^#!.*\n/, '');
  // Past the banner's line, no `import()` (see shell/import-file.ts).
  if (/\bimport\(/.test(source.slice(source.indexOf('\n')))) {
    throw new Error(`the bundle ${name}.cjs holds an import(): see shell/import-file.ts`);
  }
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  writeFileSync(file, `${source}//# edgesh-code-cache=${name}.${digest}.v8cache\n`);
  return Object.keys(result.metafile.inputs).length;
}

/**
 * Fills wmopkg's code cache: the installed `wmopkg` makes a key pair and a signed package in a scratch
 * directory, then verifies it, each run writing the cache at its exit (what a pipeline's `build` and
 * a `verify` compile: the writer, the reader, the digests, the signature), and checks that V8 takes it.
 */
function warmWmopkg(): void {
  const scratch = mkdtempSync(join(tmpdir(), 'edgesh-bundle-wmopkg-'));
  const wmopkg = (args: readonly string[], env: Readonly<Record<string, string>> = {}): string => {
    const r = spawnSync(process.execPath, [join(dist, 'bin/wmopkg-start.cjs'), ...args], {
      cwd: scratch,
      env: { ...PLAIN_ENV, ...env },
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      throw new Error(`bundle check failed: wmopkg ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
    }
    return r.stderr;
  };
  try {
    mkdirSync(join(scratch, 'tree/CONTROL'), { recursive: true });
    mkdirSync(join(scratch, 'tree/opt/warm-up'), { recursive: true });
    writeFileSync(
      join(scratch, 'tree/CONTROL/control'),
      'Package: warm-up\nVersion: 1.0\nArchitecture: all\nMaintainer: Build <build@example.com>\nDescription: the code cache warm-up\n',
    );
    writeFileSync(join(scratch, 'tree/opt/warm-up/file'), 'warm-up\n');
    // Each run writes back the cache it was given plus what it compiled: the three commands' code.
    const write = { EDGESH_CODE_CACHE: 'write' };
    wmopkg(['keygen', '-n', '-p', 'key.pub', '-s', 'key.sec'], write);
    wmopkg(
      ['build', '-o', 'root', '-g', 'root', '--sign', 'key.sec', '--out', 'warm-up.wmopkg', 'tree'],
      write,
    );
    wmopkg(['verify', 'warm-up.wmopkg', '-p', 'key.pub'], write);
    const check = wmopkg(['verify', 'warm-up.wmopkg', '-p', 'key.pub'], { EDGESH_CODE_CACHE: 'report' });
    if (!check.includes('wmopkg: code cache accepted')) {
      console.error(`warning: V8 does not take the code cache of wmopkg.cjs: ${check.trim()}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Makes a bin start node without NODE_EXTRA_CA_CERTS when it is run as a program: its `#!/usr/bin/env
 * node` line becomes `#!/bin/sh` and a line that sh runs and node reads as a string and a comment
 * (`':' //; unset …; exec node "$0" "$@"`: `:` is sh's builtin that does nothing). Node 20 reads and
 * parses the file that variable names at every start (40-50 ms on a machine that points it at the
 * system bundle), and edgesh never uses it: https trusts the list it builds itself
 * (transports/http.ts), which that variable never changes. A one-line shebang would need `env -S`,
 * which busybox lacks. Done here, after tsc, because tsc puts `"use strict"` or a `;` into the line.
 */
function startWithoutExtraCas(file: string): void {
  const text = readFileSync(file, 'utf8');
  const plain = '#!/usr/bin/env node\n';
  if (!text.startsWith(plain)) return;
  const start = `#!/bin/sh\n':' //; unset NODE_EXTRA_CA_CERTS; exec node "$0" "$@"\n`;
  writeFileSync(file, start + text.slice(plain.length));
}

/** Runs the installed binary; returns what it wrote on stderr. */
function run(args: readonly string[], env: Readonly<Record<string, string>>): string {
  const r = spawnSync(process.execPath, [launcher, ...args], {
    env: { ...PLAIN_ENV, EDGESH_SERVICES: '', ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    throw new Error(`bundle check failed: edgesh ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  }
  return r.stderr;
}

/**
 * The TTY front-end's vorpal, with the stand-ins of `vorpalStandIns` (shell/vorpal.ts), as one
 * CommonJS file with its own code cache: its 120 modules load from node_modules in a third more CPU
 * time than from this file, and the first TAB after start waits for them (docs/shell.md, "Startup").
 * The cache written here holds what loading it compiles (module bodies, the constructor); when
 * node-pty is installed, `warmInteractive` then replaces it with one of a whole interactive start.
 */
async function bundleVorpal(): Promise<void> {
  const { vorpalMain, standIns } = vorpalStandIns();
  await bundleLibrary('vorpal', {
    stdin: {
      contents: `module.exports = require(${JSON.stringify(vorpalMain)});`,
      resolveDir: root,
      loader: 'js',
    },
    plugins: [
      {
        name: 'edgesh-vorpal-stand-ins',
        setup(b) {
          b.onLoad({ filter: /\.js$/ }, (args) => {
            const contents = standIns.get(args.path);
            return contents === undefined ? undefined : { contents, loader: 'js' };
          });
        },
      },
    ],
  });
  fillCache('vorpal', VORPAL_LOAD);
}

/**
 * Bundles a package of node_modules into dist/bundle/NAME.cjs (one CommonJS file, the options
 * every such bundle shares plus `options`), its last line naming its code cache after its digest.
 */
async function bundleLibrary(name: string, options: BuildOptions): Promise<void> {
  const file = join(outDir, `${name}.cjs`);
  await build({
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minifyWhitespace: true,
    minifyIdentifiers: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
    ...options,
  });
  const text = readFileSync(file, 'utf8');
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
  writeFileSync(file, `${text}//# edgesh-code-cache=${name}.${digest}.v8cache\n`);
}

/** Writes the code cache of dist/bundle/NAME.cjs by running `load` (an ES module), then checks that V8 takes it. */
function fillCache(name: string, load: string): void {
  runLoad(name, load, 'write');
  checkCache(name, load);
}

/** Says so (not a build failure: without its cache a bundle only loads slower) when V8 refuses NAME.cjs's cache. */
function checkCache(name: string, load: string): void {
  const report = runLoad(name, load, 'report');
  if (!report.includes(`${name}.cjs code cache accepted`))
    console.error(`warning: V8 does not take the code cache of ${name}.cjs: ${report.trim()}`);
}

/** Runs `load` in a process of its own with `EDGESH_CODE_CACHE=mode`, as a plain `node` start; returns its stderr. */
function runLoad(name: string, load: string, mode: 'write' | 'report'): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', load], {
    env: { ...PLAIN_ENV, EDGESH_CODE_CACHE: mode },
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new Error(`bundle check failed: loading ${name}.cjs exited ${r.status}: ${r.stderr.trim()}`);
  return r.stderr;
}

/**
 * Refills vorpal's code cache from an interactive start on a pseudo-terminal, as an operator's
 * session begins: the first prompt, keys typed ahead, a TAB completed, a command run, a second
 * prompt. The cache then also holds what only a session compiles (inquirer drawing its prompt, Rx
 * delivering keys, readline's key handling), which a first TAB would otherwise compile from source
 * (docs/shell.md, "Startup"). The launcher writes the bundle's cache at the same exit; the
 * script-mode warm-up after this replaces it. node-pty is a development dependency: without it
 * (a production install), the cache of `bundleVorpal` stays. Returns whether the session ran.
 */
async function warmInteractive(device: string): Promise<boolean> {
  let pty: typeof import('../lab/pty.js');
  try {
    pty = await import('../lab/pty.js');
  } catch {
    return false;
  }
  const shell = new pty.PtyShell(
    ['--device', device, '--user', 'build'],
    { LANG: 'C.UTF-8', EDGESH_SERVICES: '', EDGESH_CODE_CACHE: 'write' },
    undefined,
    PLAIN_ENV,
  );
  try {
    const status = await pty.typeFirstSession(shell, 'build');
    if (status !== 0) throw new Error(`exited ${status}`);
  } catch (e) {
    throw new Error(`bundle check failed: the interactive warm-up: ${(e as Error).message}`);
  } finally {
    shell.kill();
  }
  return true;
}

/**
 * undici's HTTP/2 client loads node:http2 when undici is loaded (see HTTP2_CONSTANTS): the bundle
 * takes the constants it reads then as written there, and loads node:http2 only if `connect` is
 * called, which the transports never do.
 */
function lazyHttp2(): Plugin {
  // The line of undici's HTTP/2 client that loads node:http2: the build fails without it.
  const HTTP2_REQUIRE = "http2 = require('node:http2')";
  return {
    name: 'edgesh-lazy-http2',
    setup(b) {
      b.onLoad({ filter: /[\\/]client-h2\.js$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes(HTTP2_REQUIRE))
          return { errors: [{ text: `${args.path}: ${HTTP2_REQUIRE} not found` }] };
        const lazy = `http2 = { constants: ${JSON.stringify(HTTP2_CONSTANTS)}, connect: (...a) => require('node:http2').connect(...a) }`;
        return { contents: text.replace(HTTP2_REQUIRE, lazy), loader: 'js' };
      });
    },
  };
}

/**
 * undici as one CommonJS file with its own code cache (tuning/undici-bundle.ts: from node_modules it
 * costs 200-235 ms of CPU at the first http or https transfer). Its first line names the undici
 * version; the cache is written by a run that loads it as the transports do and makes a request to a
 * server on loopback, so that the request path is compiled too.
 */
async function bundleUndici(): Promise<void> {
  const require = createRequire(import.meta.url);
  const version = (require('undici/package.json') as { version: string }).version;
  await bundleLibrary('undici', {
    // Only what the transports use (Agent, request): the whole package adds fetch, WebSocket, cookies,
    // the mocks and the caches, which cost the update's start 60-80 ms of CPU to load for nothing.
    stdin: { contents: UNDICI_ENTRY, resolveDir: dirname(require.resolve('undici')), loader: 'js' },
    banner: { js: `// undici ${version}` },
    plugins: [lazyHttp2()],
  });
  fillCache(
    'undici',
    [
      `const { loadUndici } = await import(${JSON.stringify(join(dist, 'tuning/undici-bundle.js'))});`,
      `const { createServer } = await import('node:http');`,
      'const { request } = loadUndici();',
      "const server = createServer((_req, res) => res.end('ok'));",
      "await new Promise((r) => server.listen(0, '127.0.0.1', r));",
      "const res = await request('http://127.0.0.1:' + server.address().port + '/');",
      'await res.body.text();',
      'server.close();',
      'process.exit(0);',
    ].join('\n'),
  );
}
