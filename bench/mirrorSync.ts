// Mirror sync: (1) throughput of copyBackup for a ~200 MB backup from one region's store to another's, against a
// plain copy of the same bytes on the same disk (fs.copyFile and a read→write stream); (2) how late historical
// syncs start against their scheduled time with 1,000 mirrors scheduled 2 s ahead and one region's workers running
// (at SYNC_CONCURRENCY, 16 by default: `SYNC_CONCURRENCY=4 npm run bench -- mirror-sync` compares).
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pipeline } from "node:stream/promises";
import { startRegionWorkers } from "../jobs/regionWorkers.ts";
import { config } from "../src/config.ts";
import { createMirrorVault } from "../src/domain/mirrors/mirrorVaults.ts";
import { createServices } from "../src/services.ts";
import { copyBackup, RegionalStorage } from "../src/storage/index.ts";
import { deleteRedisPrefix, TEST_REDIS_URL } from "../test/support/backends.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { dropBenchDatabase, freshBenchDatabase } from "./lib/database.ts";
import { int, ms, ratio, table } from "./lib/format.ts";

const BACKUP_MB = 200;
const MIRRORS = 1_000;
const DELAY_MS = 2_000;
/**
 * The burst: every mirror's sync due at one moment, BURST_LEAD_MS after the first creation (enough to create them
 * all first; each mirror's delay is what is left of it), as when a region's workers come back after an outage.
 */
const BURST_LEAD_MS = 20_000;
/** Per backend `<DATABASE>_<backend>_<pid>` (bench/lib/database.ts adds the pid). */
const DATABASE = "mvg_bench_mirror";
const GOAL_P99_MS = 1000;
const SOURCE_REGION = "cn-hangzhou";
const MIRROR_REGION = "cn-shanghai";

const mbps = (bytes: number, millis: number) => (bytes / 1024 / 1024 / (millis / 1000)).toFixed(0);

function percentile(sorted: number[], p: number) {
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

type Backend = "redis" | "postgres";
/** staggered: each sync DELAY_MS after its own mirror's creation; burst: all due together (BURST_LEAD_MS). */
type Schedule = "staggered" | "burst";
type Lateness = { p50: number; p99: number; max: number; early: number; createMs: number };

/** Historical-sync start lateness of MIRRORS mirrors on one queue backend: its own database and prefix (pid). */
async function lateness(backend: Backend, schedule: Schedule): Promise<Lateness> {
  const database = `${DATABASE}_${backend}`;
  const queuePrefix = `mvg-bench-mirror-${backend}-${process.pid}`;
  const databaseUrl = await freshBenchDatabase(database);
  const storageDir = await mkdtemp(path.join(tmpdir(), "mvg-bench-mirror-"));
  let services: Awaited<ReturnType<typeof createServices>> | undefined;
  let workers: { close(): Promise<void> } | undefined;
  try {
    services = await createServices({
      databaseUrl,
      // Set: queues and events on Redis; undefined: BullMQ's PostgreSQL backend (a schema of this run's database).
      redisUrl: backend === "redis" ? (process.env.REDIS_URL ?? TEST_REDIS_URL) : undefined,
      queuePrefix,
      historicalSyncDelayMs: DELAY_MS,
      storageDir,
    });
    workers = startRegionWorkers(services, services.config, MIRROR_REGION);
    const account = await services.db.account.create({ data: { name: "bench" } });
    const sources = Array.from({ length: MIRRORS }, (_, i) => ({
      accountId: account.id,
      name: `src-${i}`,
      kind: "SOURCE" as const,
      regionId: SOURCE_REGION,
    }));
    await services.db.vault.createMany({ data: sources });
    const ids = (await services.db.vault.findMany({ select: { id: true } })).map((v) => v.id);
    const createStarted = performance.now();
    const dueAt = Date.now() + BURST_LEAD_MS;
    let next = 0;
    const running = services;
    // The burst: each mirror's delay is what is left until the common due time (createMirrorVault adds it to now).
    const portsFor = () =>
      schedule === "staggered"
        ? running
        : { ...running, config: { ...running.config, historicalSyncDelayMs: Math.max(1, dueAt - Date.now()) } };
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < ids.length) {
          const id = ids[next++];
          await createMirrorVault(portsFor(), account.id, {
            sourceVaultId: id,
            regionId: MIRROR_REGION,
            name: `m-${id}`,
          });
        }
      }),
    );
    const createMs = performance.now() - createStarted;
    if (schedule === "burst" && Date.now() >= dueAt) {
      throw new BenchmarkFailure(
        `${backend}: creating ${MIRRORS} mirrors took longer than the ${BURST_LEAD_MS} ms lead`,
      );
    }
    // Waiting on the database (the source of truth) every 100 ms, bounded.
    const deadline = Math.max(Date.now(), dueAt) + 90_000;
    while ((await services.db.replication.count({ where: { historicalSyncStatus: "COMPLETED" } })) < MIRRORS) {
      if (Date.now() > deadline)
        throw new BenchmarkFailure(`${backend}: historical syncs did not all complete in 90 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const rows = await services.db.replication.findMany({
      select: { historicalSyncScheduledAt: true, historicalSyncStartedAt: true },
    });
    const late = rows
      .map((r) => (r.historicalSyncStartedAt?.getTime() ?? Number.NaN) - r.historicalSyncScheduledAt.getTime())
      .sort((a, b) => a - b);
    return {
      p50: percentile(late, 50),
      p99: percentile(late, 99),
      max: late[late.length - 1],
      early: late.filter((value) => value < 0).length,
      createMs,
    };
  } finally {
    await workers?.close();
    if (services) {
      await services.queues.get(MIRROR_REGION, "sync").obliterate({ force: true });
      await services.close();
    }
    await rm(storageDir, { recursive: true, force: true });
    // PostgreSQL backend: its queue schema goes with the database; Redis: this run's keys under its prefix.
    await dropBenchDatabase(database);
    if (backend === "redis") await deleteRedisPrefix(queuePrefix);
  }
}

const BACKENDS = ["redis", "postgres"] as const;
const SCHEDULES = ["staggered", "burst"] as const;

/**
 * Both backends, both schedules, in one run. The baseline of each row is Redis under the same schedule in the same
 * run (the backend that met the goal before the region sweep): the ratio says how much later PostgreSQL starts.
 */
async function latenessOnBothBackends() {
  const results: { backend: Backend; schedule: Schedule; r: Lateness }[] = [];
  for (const schedule of SCHEDULES) {
    for (const backend of BACKENDS) results.push({ backend, schedule, r: await lateness(backend, schedule) });
  }
  console.log(
    `  ${int(MIRRORS)} mirrors per row, one region's workers (sync concurrency ${config.workerConcurrency.sync}, ` +
      `SYNC_CONCURRENCY); staggered: each sync ${DELAY_MS} ms after its mirror's creation; burst: all due at one ` +
      `moment; start lateness = startedAt − scheduledAt in ms:`,
  );
  console.log(
    table([
      ["backend", "schedule", "mirrors/s created", "p50", "p99", "max", "early", "goal p99", "p99 vs redis"],
      ...results.map(({ backend, schedule, r }) => {
        const baseline = results.find((x) => x.backend === "redis" && x.schedule === schedule)?.r ?? r;
        return [
          backend,
          schedule,
          int(MIRRORS / (r.createMs / 1000)),
          ms(r.p50),
          ms(r.p99),
          ms(r.max),
          int(r.early),
          `< ${int(GOAL_P99_MS)}`,
          ratio(r.p99 / baseline.p99),
        ];
      }),
    ]),
  );
  console.log("  (ratio = the row's p99 / Redis p99 under the same schedule in this run: 1.00x is as prompt as Redis)");
  for (const { backend, schedule, r } of results) {
    const what = `${backend} (${schedule})`;
    if (r.early > 0) throw new BenchmarkFailure(`${what}: ${r.early} historical syncs started before their time`);
    if (r.p99 >= GOAL_P99_MS) {
      throw new BenchmarkFailure(`${what}: p99 lateness ${ms(r.p99)} ms misses the goal (< ${GOAL_P99_MS} ms)`);
    }
  }
}

export const mirrorSync: Benchmark = {
  name: "mirror-sync",
  description: `copyBackup MB/s for ${BACKUP_MB} MB vs a plain copy; historical sync start lateness p50/p99 for ${MIRRORS} mirrors on Redis and PostgreSQL (goal p99 < 1 s)`,
  async run() {
    const dir = await mkdtemp(path.join(tmpdir(), "mvg-bench-copy-"));
    try {
      await throughput(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await latenessOnBothBackends();
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
