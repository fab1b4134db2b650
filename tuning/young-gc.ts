// A scavenge on demand: V8's `gc` taken through `--expose-gc` for the install's dead socket buffers.
//
// The one place that sets `--expose-gc` and calls V8's collector; the measurement that justifies it is
// below. test/tuning/young-gc.test.ts fails if V8 stops taking the options it is called with.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's `gc` function with the options it takes here. */
type V8Collect = (options: { type: 'minor'; execution: 'sync' }) => void;

/** V8's `gc` function, once asked for (null: not available). */
let gc: V8Collect | null | undefined;

/**
 * Runs a scavenge, V8's quick collection of young objects; returns whether it ran. A download leaves
 * behind a dead buffer for every socket read (64 KiB each, 8,000 for 512 MiB) or decrypted SSH packet,
 * and V8 frees them only when its young generation fills up (their small objects rarely fill it) or the
 * memory outside its heap has grown by 64 MiB: without help, 25-40 MiB of dead buffers were usually
 * resident during an install. One scavenge per 4 MiB received keeps that to a few MiB and costs about
 * 0.3 ms each (40 ms per 512 MiB): peak RSS of a 512 MiB install over http went from 116-119 MiB to
 * 84-91 MiB (93-97 MiB with one per 8 MiB), at the same speed. The `gc` function comes from V8's
 * `--expose-gc`, set here and taken from a fresh context, so the program's own global object gets no
 * `gc`.
 */
export function collectYoungGarbage(): boolean {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const fn: unknown = runInNewContext('gc');
      gc = typeof fn === 'function' ? (fn as V8Collect) : null;
    } catch {
      gc = null;
    }
  }
  if (!gc) return false;
  gc({ type: 'minor', execution: 'sync' });
  return true;
}
