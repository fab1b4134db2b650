// Chunks a source lends to its reader: handed out as they are, given back when the reader is done with them.

/** What to call when a lent chunk comes back, by chunk. */
const returns = new WeakMap<Uint8Array, () => void>();

/**
 * Marks `chunk` as lent: a reader that knows when it no longer needs the chunk (the install, once the
 * chunk is hashed and written) gives it back with `takeReturn(chunk)?.()`, and `onReturn` lets the
 * source reuse its memory. A reader that does not know simply drops it, and the garbage collector
 * takes it as any other chunk; the source must then allocate anew. Returns `chunk`.
 */
export function lend<T extends Uint8Array>(chunk: T, onReturn: () => void): T {
  returns.set(chunk, onReturn);
  return chunk;
}

/** The way back of a lent chunk (at most once), or undefined for a chunk that was not lent. */
export function takeReturn(chunk: Uint8Array): (() => void) | undefined {
  const back = returns.get(chunk);
  if (back) returns.delete(chunk);
  return back;
}
