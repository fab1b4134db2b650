// `--liftoff-only` aims at undici's WebAssembly parser: fails if undici stops shipping its parser that way.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { keepWasmOnLiftoff } from '../../tuning/wasm-liftoff.js';

test('undici still parses HTTP with llhttp compiled to WebAssembly', () => {
  const root = dirname(createRequire(import.meta.url).resolve('undici/package.json'));
  const wasm = join(root, 'lib/llhttp/llhttp-wasm.js');
  assert.ok(existsSync(wasm), `${wasm} is gone: measure the http install's peak RSS again without the flag`);
  assert.match(
    readFileSync(wasm, 'utf8'),
    /AGFzbQ/,
    'the module holds a WebAssembly binary (base64 of \\0asm)',
  );
  keepWasmOnLiftoff();
  keepWasmOnLiftoff();
});
