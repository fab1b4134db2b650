// node:crypto, loaded on first use: opening a device and listing its packages need no cryptography.
import type * as Crypto from 'node:crypto';
import { createRequire } from 'node:module';

let loaded: typeof Crypto | undefined;

/**
 * The node:crypto module. Loading it costs a Node 20 start about 2 ms (a dozen internal modules),
 * a tenth of what `node -e ''` takes; the modules that a one-command `edgesh` run loads use it only
 * in functions (key generation, signatures, random names), so it is loaded when one of them runs.
 */
export function nodeCrypto(): typeof Crypto {
  loaded ??= createRequire(import.meta.url)('node:crypto') as typeof Crypto;
  return loaded;
}

/** `crypto.randomBytes(size)`, loading node:crypto on first use. */
export function randomBytes(size: number): Buffer {
  return nodeCrypto().randomBytes(size);
}
