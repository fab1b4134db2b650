// The shape of one benchmark result, shared by every bench/*.ts module and printed by bench/run.ts.

/** One measured comparison: our time against the reference tool's, in the same run. */
export interface BenchResult {
  /** What was measured, e.g. `install 512 MiB over http`. */
  readonly name: string;
  /** The reference command, as a human would type it. */
  readonly reference: string;
  /** Seconds (or the unit named in `unit`) for our side and for the reference; lower is better. */
  readonly ours: number;
  readonly theirs: number;
  /** Target for ours/theirs, e.g. 1.0; for absolute results (RSS, ms) the limit in `unit`. */
  readonly target: number;
  /** `ratio` compares ours/theirs with target; `absolute` compares ours with target. */
  readonly kind: 'ratio' | 'absolute';
  readonly unit: string;
  /** Anything worth knowing: sizes, negotiated block size, runs. */
  readonly note?: string;
  /** Further lines printed under the result: references of a composite target, breakdowns. */
  readonly details?: readonly string[];
}

/** A bench module exports `benches`: named async functions, each returning results. */
export type Bench = () => Promise<BenchResult[]>;
