// Mirror sync: throughput of copyBackup for a ~200 MB backup from one region's store to another's, against a
// plain copy of the same bytes on the same disk (fs.copyFile and a read→write stream). How late historical syncs
// start is bench/syncLateness.ts (10,000 mirrors).
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pipeline } from "node:stream/promises";
import { copyBackup, RegionalStorage } from "../src/storage/index.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { ms, ratio, table } from "./lib/format.ts";

const BACKUP_MB = 200;
const _MIRRORS = 1_000;
const _DELAY_MS = 2_000;
/**
 * The burst: every mirror's sync due at one moment, BURST_LEAD_MS after the first creation (enough to create them
 * all first; each mirror's delay is what is left of it), as when a region's workers come back after an outage.
 */
const _BURST_LEAD_MS = 20_000;
/** Per backend `<DATABASE>_<backend>_<pid>` (bench/lib/database.ts adds the pid). */
const _DATABASE = "mvg_bench_mirror";
const _GOAL_P99_MS = 1000;
const SOURCE_REGION = "cn-hangzhou";
const MIRROR_REGION = "cn-shanghai";

const mbps = (bytes: number, millis: number) => (bytes / 1024 / 1024 / (millis / 1000)).toFixed(0);

function _percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function timed(run: () => Promise<unknown>) {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function throughput(dir: string) {
  const bytes = randomBytes(BACKUP_MB * 1024 * 1024);
  const storage = new RegionalStorage(path.join(dir, "storage"));
  const from = storage.region(SOURCE_REGION);
  const to = storage.region(MIRROR_REGION);
  const backupId = "00000000-0000-4000-8000-000000000001";
  await from.writeBackup(
    backupId,
    (async function* () {
      for (let offset = 0; offset < bytes.length; offset += 1 << 20) yield bytes.subarray(offset, offset + (1 << 20));
    })(),
  );
  const plain = path.join(dir, "plain.bin");
  await writeFile(plain, bytes);

  const copyMs = await timed(() => copyBackup(from, to, backupId));
  const again = await timed(() => copyBackup(from, to, backupId)); // already there: manifest check only
  const copyFileMs = await timed(() => copyFile(plain, path.join(dir, "copy-file.bin")));
  const streamMs = await timed(() =>
    pipeline(createReadStream(plain, { highWaterMark: 1 << 20 }), createWriteStream(path.join(dir, "stream.bin"))),
  );
  const manifest = await to.readManifest(backupId);
  if (manifest?.sizeBytes !== bytes.length) throw new BenchmarkFailure("the copy's manifest does not match the source");

  console.log(`  copyBackup of a ${BACKUP_MB} MB backup (${manifest.chunks.length} chunks) between two regions:`);
  console.log(
    table([
      ["copy", "ms", "MB/s", "copyBackup vs it"],
      ["copyBackup (verify + atomic chunks)", ms(copyMs), mbps(bytes.length, copyMs), ""],
      ["fs.copyFile (same disk)", ms(copyFileMs), mbps(bytes.length, copyFileMs), ratio(copyFileMs / copyMs)],
      ["read→write stream (same disk)", ms(streamMs), mbps(bytes.length, streamMs), ratio(streamMs / copyMs)],
      ["copyBackup again (nothing missing)", ms(again), "", ""],
    ]),
  );
  console.log("  (ratio = baseline time / copyBackup time: 1.00x means copyBackup is as fast as a plain copy)");
}

export const mirrorSync: Benchmark = {
  name: "mirror-sync",
  description: `copyBackup MB/s for ${BACKUP_MB} MB vs a plain copy (historical sync lateness: sync-lateness)`,
  async run() {
    const dir = await mkdtemp(path.join(tmpdir(), "mvg-bench-copy-"));
    try {
      await throughput(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

// `npx tsx bench/mirrorSync.ts` runs it alone (until bench/run.ts lists it).
if (import.meta.url === `file://${process.argv[1]}`) {
  mirrorSync.run().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
