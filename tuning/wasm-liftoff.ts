// undici's HTTP parser kept on V8's baseline WebAssembly compiler: the optimizing one costs 30 MiB at its peak.
//
// undici parses HTTP with llhttp compiled to WebAssembly (compiled at its first connection, after the
// http transport has loaded). After a few MB of traffic V8 recompiles the parser with its optimizing
// compiler, which holds about 30 MiB while it works: measured here, the peak RSS of a 512 MiB install
// dropped from 133 to 105 MiB without it, at the same speed (the parser only steps over body bytes).
// The flag concerns WebAssembly alone, and undici's parser is the only WebAssembly this program runs;
// test/tuning/wasm-liftoff.test.ts fails if undici stops shipping it as WebAssembly.
import { setFlagsFromString } from 'node:v8';

let done = false;

/** Sets `--liftoff-only` once (V8 takes it for WebAssembly compiled afterwards). */
export function keepWasmOnLiftoff(): void {
  if (done) return;
  done = true;
  setFlagsFromString('--liftoff-only');
}
