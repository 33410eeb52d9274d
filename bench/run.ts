// `npm run bench [-- name ...]`: runs the named benchmark modules (all by default) in sequence.
// `npm run bench -- --list` lists them. Exits non-zero when any benchmark fails or crashes. Every goal row the
// benchmarks record (bench/lib/report.ts) is printed at the end: figure, same-run baseline, ratio, goal.
import os from "node:os";
import { performance } from "node:perf_hooks";
import { attackBench } from "./attacks.ts";
import { backupPaging } from "./backupPaging.ts";
import { copy } from "./copy.ts";
import { dedupe } from "./dedupe.ts";
import type { Benchmark } from "./lib/benchmark.ts";
import { BenchmarkFailure } from "./lib/benchmark.ts";
import { dropAllBenchDatabases } from "./lib/database.ts";
import { ratio, table } from "./lib/format.ts";
import { goalRows, startBenchmark } from "./lib/report.ts";
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
];

/** The machine's 1, 5 and 15 minute load averages (the machine is shared: say how busy it was). */
const loadAverage = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(" / ");

function select(args: string[]): Benchmark[] {
  const names = args.filter((arg) => !arg.startsWith("-"));
  if (names.length === 0) return benchmarks;
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
    for (const b of benchmarks) console.log(`${b.name.padEnd(12)} ${b.description}`);
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
  const rows = goalRows();
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
            r.met ? "meets" : "MISSES",
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

// Exit explicitly: a benchmark that leaks a handle must not keep the harness alive.
main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
