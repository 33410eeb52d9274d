// Copy to the mirror (issue 10): copyBackup of a backup between two regions' file stores (fsync on, every chunk
// verified, the manifest last) against `cp` + fsync of the same files (the source region's packs, indexes and
// manifest, each copied with fs.copyFile and fsynced, then each folder fsynced) in the same run. Rounds alternate which
// goes first; the figure is the median of the rounds' ratios (baseline time / copy time: 1.00x is as fast as cp).
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, open, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { copyBackup, FileBlobStore } from "../src/storage/index.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { ms, ratio, table } from "./lib/format.ts";
import { ratioGoal } from "./lib/report.ts";

const BACKUP_MB = Number(process.env.BENCH_COPY_MB ?? 200);
const ROUNDS = Number(process.env.BENCH_COPY_ROUNDS ?? 3);
const GOAL = 0.8;
const BACKUP_ID = "00000000-0000-4000-8000-0000000000c1";
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function fsyncPath(file: string) {
  const handle = await open(file, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** cp -r + fsync: every file copied and fsynced, then every folder fsynced. */
async function cpWithFsync(from: string, to: string) {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) await cpWithFsync(source, target);
    else {
      await copyFile(source, target);
      await fsyncPath(target);
    }
  }
  await fsyncPath(to);
}

async function timed(run: () => Promise<unknown>) {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

export const copy: Benchmark = {
  name: "copy",
  description: `copyBackup of ${BACKUP_MB} MB between file stores vs cp + fsync of the same files (goal ≥ ${GOAL}x)`,
  async run() {
    const dir = await mkdtemp(path.join(tmpdir(), "mvg-bench-copy-"));
    try {
      const from = new FileBlobStore("cn-hangzhou", path.join(dir, "a"));
      const bytes = randomBytes(BACKUP_MB * 1024 * 1024);
      const manifest = await from.writeBackup(
        BACKUP_ID,
        (async function* () {
          for (let at = 0; at < bytes.length; at += 1 << 20) yield bytes.subarray(at, at + (1 << 20));
        })(),
      );
      const copies: number[] = [];
      const baselines: number[] = [];
      const ratios: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const to = new FileBlobStore("cn-beijing", path.join(dir, `b${round}`));
        const copyRun = () => copyBackup(from, to, BACKUP_ID);
        const cpRun = () => cpWithFsync(path.join(dir, "a"), path.join(dir, `cp${round}`));
        const [first, second] = round % 2 === 0 ? [copyRun, cpRun] : [cpRun, copyRun];
        const a = await timed(first);
        const b = await timed(second);
        const [copyMs, cpMs] = round % 2 === 0 ? [a, b] : [b, a];
        copies.push(copyMs);
        baselines.push(cpMs);
        ratios.push(cpMs / copyMs);
        await rm(path.join(dir, `b${round}`), { recursive: true, force: true });
        await rm(path.join(dir, `cp${round}`), { recursive: true, force: true });
      }
      const mbps = (millis: number) => ((BACKUP_MB / millis) * 1000).toFixed(0);
      console.log(
        `  ${BACKUP_MB} MB backup, ${manifest.chunks.length} chunks in ${Math.ceil(BACKUP_MB / 16)} packs; ` +
          `${ROUNDS} rounds (median):`,
      );
      console.log(
        table([
          ["", "ms", "MB/s", "ratio (cp / copy)"],
          ["copyBackup (verify, fsync, manifest last)", ms(median(copies)), mbps(median(copies)), ""],
          ["cp + fsync of the same files (baseline)", ms(median(baselines)), mbps(median(baselines)), ""],
          ["figure: median of the rounds' ratios", "", "", `${ratio(median(ratios))} (goal ≥ ${GOAL}x)`],
        ]),
      );
      console.log(`  rounds' ratios: ${ratios.map(ratio).join(", ")}`);
      ratioGoal(
        "copy to the mirror, file stores",
        `${mbps(median(copies))} MB/s`,
        `cp + fsync ${mbps(median(baselines))} MB/s`,
        median(ratios),
        GOAL,
      );
      if (median(ratios) < GOAL) {
        throw new BenchmarkFailure(`copy at ${ratio(median(ratios))} of cp + fsync misses the goal ${GOAL}x`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
