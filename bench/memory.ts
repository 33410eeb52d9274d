// Memory during a backup and a restore of 1 GiB (issue 10): each phase runs in a child process of its own
// (bench/lib/memoryChild.ts) and reports its peak RSS (VmHWM of its own address space: every thread, the V8 heap and
// the pack and read buffers outside it). The baseline is the same child doing nothing but load the same modules:
// the figure is the peak of the phase, the goal is on that peak (< 256 MB), not on the rise.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { table } from "./lib/format.ts";
import { recordGoal } from "./lib/report.ts";

const MEGABYTES = Number(process.env.BENCH_MEMORY_MB ?? 1024);
const LIMIT = 256 * 1024 * 1024;
const MB = 1024 * 1024;
const child = fileURLToPath(new URL("./lib/memoryChild.ts", import.meta.url));

type PhaseResult = { phase: string; bytes: number; seconds: number; peakRss: number };

async function runPhase(phase: string, dir: string): Promise<PhaseResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", child, phase, dir], {
    // A plain environment: nothing the benchmarks before this one set (or the harness's loader) leaks in.
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", BENCH_MEMORY_MB: String(MEGABYTES) },
    maxBuffer: 16 * MB,
  });
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as PhaseResult;
}

export const memory: Benchmark = {
  name: "memory",
  description: `peak RSS of a child process backing up (and copying) then restoring ${MEGABYTES} MB (goal < 256 MB)`,
  async run() {
    const dir = await mkdtemp(path.join(tmpdir(), "mvg-bench-memory-"));
    try {
      const idle = await runPhase("idle", dir);
      const backup = await runPhase("backup", dir);
      const restore = await runPhase("restore", dir);
      const mb = (bytes: number) => (bytes / MB).toFixed(0);
      console.log(
        table([
          ["phase (own child process)", "MB moved", "seconds", "MB/s", "peak RSS MB"],
          ["modules loaded, nothing done (baseline)", "", "", "", mb(idle.peakRss)],
          ...[backup, restore].map((r) => [
            r.phase === "backup"
              ? "backup: writeBackup (CDC, packs, fsync) + copyBackup to the mirror"
              : "restore: fetchChain (staged, verified) + parse every row into a discarding sink",
            mb(r.bytes),
            r.seconds.toFixed(1),
            (r.bytes / MB / r.seconds).toFixed(0),
            mb(r.peakRss),
          ]),
        ]),
      );
      for (const r of [backup, restore]) {
        recordGoal({
          row: `peak RSS, ${r.phase} of ${mb(r.bytes)} MB (child process)`,
          figure: `${mb(r.peakRss)} MB`,
          baseline: `idle child ${mb(idle.peakRss)} MB`,
          ratio: Number.NaN,
          goal: "< 256 MB",
          met: r.peakRss < LIMIT,
        });
      }
      const over = [backup, restore].filter((r) => r.peakRss >= LIMIT);
      if (over.length > 0) {
        throw new BenchmarkFailure(`peak RSS ≥ 256 MB during ${over.map((r) => r.phase).join(" and ")}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
