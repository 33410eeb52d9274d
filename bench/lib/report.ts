// Goal rows: each benchmark records the figures issue 10 sets goals for (the figure, the baseline measured in the
// same run, their ratio and the goal), and bench/run.ts prints every row of the run in one table at the end.
// Adding a row: call `recordGoal` from any benchmark module once its figure is measured.
import { ratio as formatRatio } from "./format.ts";

export type GoalRow = {
  /** The benchmark that measured it (filled in by bench/run.ts). */
  benchmark?: string;
  /** What was measured, e.g. "vaults(first: 20) rps". */
  row: string;
  /** The figure, formatted with its unit, e.g. "1,234 rps" or "p95 12.3 ms". */
  figure: string;
  /** The baseline measured in the same run, formatted, e.g. "{ __typename } 2,345 rps"; "" when none. */
  baseline: string;
  /** figure/baseline (or baseline/figure for times: always "higher is better"); NaN when there is no baseline. */
  ratio: number;
  /** The goal as the issue states it, e.g. "≥ 0.6x" or "p95 < 50 ms". */
  goal: string;
  met: boolean;
};

const rows: GoalRow[] = [];
let current: string | undefined;

export function recordGoal(row: GoalRow): void {
  rows.push({ benchmark: current, ...row });
  const verdict = row.met ? "meets" : "MISSES";
  const against = row.baseline ? ` vs ${row.baseline} = ${formatRatio(row.ratio)}` : "";
  console.log(`  goal row: ${row.row}: ${row.figure}${against}; goal ${row.goal}: ${verdict}`);
}

/** bench/run.ts: the benchmark whose rows follow. */
export function startBenchmark(name: string): void {
  current = name;
}

export function goalRows(): readonly GoalRow[] {
  return rows;
}

/** A "higher is better" ratio goal: `ratio` (figure/baseline, e.g. a median of per-round ratios) ≥ `min`. */
export function ratioGoal(row: string, figure: string, baseline: string, ratio: number, min: number): void {
  recordGoal({ row, figure, baseline, ratio, goal: `≥ ${min}x`, met: ratio >= min });
}
