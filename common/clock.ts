// A monotonic clock in milliseconds that costs nothing to load.

/**
 * Milliseconds from an arbitrary start, never going back: `performance.now()`'s meaning without
 * its cost. The global `performance` of Node 20 loads perf_hooks on first use, 2-15 ms of CPU here
 * (more on a busy machine), which a feed update paid for its transfer timers alone.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
