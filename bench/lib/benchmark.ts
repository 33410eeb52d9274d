// The contract every benchmark module fulfils; bench/run.ts runs them in sequence.

export type Benchmark = {
  /** What `npm run bench -- <name>` selects. */
  name: string;
  /** One line for `npm run bench -- --list`. */
  description: string;
  /** Prints its own results; throws (ideally a BenchmarkFailure) when a check fails. */
  run(): Promise<void>;
};

/** A check the benchmark makes failed (as opposed to the benchmark itself crashing). */
export class BenchmarkFailure extends Error {
  override name = "BenchmarkFailure";
}
