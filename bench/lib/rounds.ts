// Same-run comparisons on a shared, noisy machine: every case is loaded in turn, round after round, so a busy
// neighbour slows both sides of a ratio alike; figures are medians over the rounds (of each round's ratio too).
import { BenchmarkFailure } from "./benchmark.ts";
import { envNumber, type LoadOptions, type LoadResult, runLoad } from "./load.ts";

export type LoadCase = { name: string } & LoadOptions;

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/**
 * BENCH_ROUNDS (default 3) rounds of every case, each BENCH_ROUND_MS (default: `roundMs`, else 2,000 ms) after a
 * short warm-up.
 */
export async function loadInRounds(cases: LoadCase[], roundMs = 2_000): Promise<Map<string, LoadResult[]>> {
  const rounds = envNumber("BENCH_ROUNDS", 3);
  const durationMs = envNumber("BENCH_ROUND_MS", roundMs);
  const results = new Map<string, LoadResult[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const { name, ...options } of cases) {
      const result = await runLoad({ warmupMs: round === 0 ? 1_500 : 300, durationMs, ...options });
      if (result.errors > 0) {
        throw new BenchmarkFailure(`${name}: ${result.errors} failed requests; first: ${result.firstError}`);
      }
      results.get(name)?.push(result);
    }
  }
  return results;
}

/** The median over rounds of `figure` / `baseline` for each round's pair. */
export function medianRatio(figure: LoadResult[], baseline: LoadResult[], of: (r: LoadResult) => number) {
  return median(figure.map((r, i) => of(r) / of(baseline[i])));
}
