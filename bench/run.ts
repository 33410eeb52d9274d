// `npm run bench [-- name ...]`: runs the named benchmark modules in sequence; by default every one that measures a
// row of issue 10's table (`--all`: every module). `npm run bench -- --list` lists them. Exits non-zero when any
// benchmark fails or crashes. Every goal row the benchmarks record (bench/lib/report.ts) is printed at the end:
// figure, same-run baseline, ratio, goal; an issue row whose benchmark recorded none is listed as such.
import os from "node:os";
import { performance } from "node:perf_hooks";
import { attackBench } from "./attacks.ts";
import { backupPaging } from "./backupPaging.ts";
import { copy } from "./copy.ts";
import { copyLag } from "./copyLag.ts";
import { dedupe } from "./dedupe.ts";
import type { Benchmark } from "./lib/benchmark.ts";
import { BenchmarkFailure } from "./lib/benchmark.ts";
import { dropAllBenchDatabases } from "./lib/database.ts";
import { ratio, table } from "./lib/format.ts";
import { type GoalRow, goalRows, startBenchmark } from "./lib/report.ts";
import { memory } from "./memory.ts";
import { mirrorSync } from "./mirrorSync.ts";
import { queueLateness } from "./queueLateness.ts";
import { recoveryWindowsBench } from "./recoveryWindows.ts";
import { restore } from "./restore.ts";
import { s3Copy } from "./s3Copy.ts";
import { syncLateness } from "./syncLateness.ts";
import { vaultListing } from "./vaultListing.ts";

/** Every benchmark, in the order a full run takes them; add new modules here. */
const benchmarks: Benchmark[] = [
  vaultListing,
  backupPaging,
  syncLateness,
  recoveryWindowsBench,
  mirrorSync,
  s3Copy,
  restore,
  queueLateness,
  attackBench,
  dedupe,
  copy,
  copyLag,
  memory,
];

/** The machine's 1, 5 and 15 minute load averages (the machine is shared: say how busy it was). */
const loadAverage = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(" / ");

/**
 * Run only when named (or with --all): other issues' benchmarks that measure no row of issue 10's table, and take
 * minutes (a plain `npm run bench` stays within ~8 minutes on a busy 2-core machine).
 */
const byNameOnly = new Set(["attacks", "dedupe"]);

/**
 * Issue 10's table, row by row, with the benchmark that measures each (and the rows other issues add to it). A row
 * whose benchmark ran but recorded no goal row (bench/lib/report.ts) is listed as such in the goals table, so every
 * row of the issue shows up in every full run; its figure is then in that benchmark's own output above.
 */
const issueRows: { row: string; benchmark: string; goal: string }[] = [
  { row: "vaults(first: 20) rps vs { __typename }", benchmark: "vaults", goal: "≥ 0.6x" },
  { row: "full listing rps, SQL statements", benchmark: "vaults", goal: "≥ 0.3x, ≤ 3 constant" },
  { row: "{ __typename } vs bare graphql-yoga", benchmark: "vaults", goal: "≥ 0.7x" },
  { row: "backups paging at 1,000,000, p95", benchmark: "backups", goal: "< 50 ms" },
  { row: "copy vs cp + fsync", benchmark: "copy", goal: "≥ 0.8x" },
  { row: "restore, own path vs read + verify + hash", benchmark: "restore", goal: "≥ 0.6x" },
  { row: "restore end to end vs the same baseline", benchmark: "restore", goal: "≥ 0.3x" },
  { row: "copy lag, 50 backups in a row", benchmark: "copy-lag", goal: "p99 < 0.5 s" },
  { row: "historical-sync start lateness, 10,000 mirrors", benchmark: "sync-lateness", goal: "p99 < 1 s" },
  { row: "memory during a 1 GiB backup and restore", benchmark: "memory", goal: "peak RSS < 256 MB" },
  { row: "PostgreSQL queue backend lateness", benchmark: "queueLateness", goal: "p99 < 1 s" },
  { row: "S3 copy throughput", benchmark: "s3-copy", goal: "≥ 0.8x" },
  { row: "listing with recoveryWindows", benchmark: "windows", goal: "≥ 0.7x" },
];

function select(args: string[]): Benchmark[] {
  const names = args.filter((arg) => !arg.startsWith("-"));
  if (names.length === 0)
    return args.includes("--all") ? benchmarks : benchmarks.filter((b) => !byNameOnly.has(b.name));
  const unknown = names.filter((name) => !benchmarks.some((b) => b.name === name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(", ")}; known: ${benchmarks.map((b) => b.name).join(", ")}`);
    process.exit(2);
  }
  return benchmarks.filter((b) => names.includes(b.name));
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes("--list") || args.includes("-l")) {
    for (const b of benchmarks) {
      console.log(`${b.name.padEnd(14)} ${byNameOnly.has(b.name) ? "(by name) " : ""}${b.description}`);
    }
    return 0;
  }
  const runStarted = performance.now();
  console.log(`load before the run: ${loadAverage()}`);
  const outcomes: { name: string; status: "ok" | "FAIL" | "ERROR"; seconds: number; load: string }[] = [];
  for (const benchmark of select(args)) {
    console.log(`\n=== ${benchmark.name}: ${benchmark.description}`);
    const started = performance.now();
    startBenchmark(benchmark.name);
    let status: "ok" | "FAIL" | "ERROR" = "ok";
    try {
      await benchmark.run();
    } catch (error) {
      status = error instanceof BenchmarkFailure ? "FAIL" : "ERROR";
      console.error(`${status} ${benchmark.name}:`, error instanceof BenchmarkFailure ? error.message : error);
    }
    outcomes.push({ name: benchmark.name, status, seconds: (performance.now() - started) / 1000, load: loadAverage() });
  }
  await dropAllBenchDatabases();
  const rows = [...goalRows(), ...unrecorded(outcomes)];
  if (rows.length > 0) {
    console.log("\n=== goals (ratio: against the baseline measured in the same run; higher is better)");
    console.log(
      table(
        [
          ["benchmark", "row", "figure", "baseline", "ratio", "goal", ""],
          ...rows.map((r) => [
            r.benchmark ?? "",
            r.row,
            r.figure,
            r.baseline,
            Number.isFinite(r.ratio) ? ratio(r.ratio) : "",
            r.goal,
            r.met ? "meets" : r.figure ? "MISSES" : "",
          ]),
        ],
        "  ",
        4,
      ),
    );
  }
  console.log("\n=== summary (wall time of each benchmark; load average when it ended)");
  for (const o of outcomes) {
    console.log(`  ${o.name.padEnd(14)} ${o.status.padEnd(5)} ${o.seconds.toFixed(1).padStart(6)} s   load ${o.load}`);
  }
  console.log(`  total          ${((performance.now() - runStarted) / 1000).toFixed(1).padStart(12)} s`);
  return outcomes.every((o) => o.status === "ok") ? 0 : 1;
}

/** Issue rows whose benchmark ran (and passed, failed or crashed) without recording a goal row. */
function unrecorded(outcomes: { name: string; status: string }[]): GoalRow[] {
  const recorded = new Set(goalRows().map((r) => r.benchmark));
  const ran = new Map(outcomes.map((o) => [o.name, o.status]));
  return issueRows
    .filter((r) => ran.has(r.benchmark) && !recorded.has(r.benchmark))
    .map((r) => ({
      benchmark: r.benchmark,
      row: r.row,
      figure: "",
      baseline: `no goal row recorded (${ran.get(r.benchmark)}): see its output`,
      ratio: Number.NaN,
      goal: r.goal,
      met: false,
    }));
}

// Exit explicitly: a benchmark that leaks a handle must not keep the harness alive.
main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
