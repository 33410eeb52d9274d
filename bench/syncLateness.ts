// Historical-sync start lateness at 10,000 mirrors: every mirror's sync due at one moment (the burst a region's
// workers meet after an outage, or many mirrors created together), one region's workers running at
// SYNC_CONCURRENCY; lateness = historicalSyncStartedAt − historicalSyncScheduledAt, on Redis and on BullMQ's
// PostgreSQL backend in the same run (Redis is the baseline). The mirrors, sources and replication rows are
// written with SQL, and their jobs added in bulk with the id and delay scheduleHistoricalSync gives them (creating
// 10,000 mirrors one by one through the API takes minutes on a loaded machine).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { startRegionWorkers } from "../jobs/regionWorkers.ts";
import { config } from "../src/config.ts";
import { jobIds } from "../src/queue/queues.ts";
import type { Services } from "../src/services.ts";
import { deleteRedisPrefix, TEST_REDIS_URL } from "../test/support/backends.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { dropBenchDatabase, freshBenchDatabase, withClient } from "./lib/database.ts";
import { int, ms, ratio, table } from "./lib/format.ts";
import { recordGoal } from "./lib/report.ts";
import { benchServices } from "./lib/services.ts";

const MIRRORS = Number(process.env.BENCH_SYNC_MIRRORS) || 10_000;
/**
 * From the moment the rows get their due time (after seeding) to that time: room to add every job first. Redis
 * took ~0.3 ms a job and the PostgreSQL backend ~0.1 ms at a load of 8; 1.5 ms a job leaves room for a busy machine.
 */
const LEAD_MS = Number(process.env.BENCH_SYNC_LEAD_MS) || Math.max(8_000, MIRRORS * 1.5);
const GOAL_P99_MS = 1_000;
const DATABASE = "mvg_bench_sync";
const SOURCE_REGION = "cn-hangzhou";
const MIRROR_REGION = "cn-shanghai";

type Backend = "redis" | "postgres";
type Lateness = { p50: number; p99: number; max: number; early: number; scheduleMs: number };

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The rows, due in a day; `dueAt` then sets the moment they all fall due (once seeding is over). */
async function seed(databaseUrl: string): Promise<string[]> {
  return withClient(databaseUrl, async (client) => {
    await client.query("begin");
    await client.query(`insert into "Account" (id, name) values (md5('bench-sync')::uuid, 'sync')`);
    await client.query(
      `insert into "Vault" (id, "accountId", name, kind, "regionId", "createdAt")
       select md5('bench-sync-source-' || i)::uuid, md5('bench-sync')::uuid, 'src-' || i, 'SOURCE', $2,
              now() - interval '2 hours'
       from generate_series(1, $1::int) i`,
      [MIRRORS, SOURCE_REGION],
    );
    await client.query(
      `insert into "Vault" (id, "accountId", name, kind, "regionId", "sourceVaultId", "createdAt")
       select md5('bench-sync-mirror-' || i)::uuid, md5('bench-sync')::uuid, 'mirror-' || i, 'MIRROR', $2,
              md5('bench-sync-source-' || i)::uuid, now() - interval '1 hour'
       from generate_series(1, $1::int) i`,
      [MIRRORS, MIRROR_REGION],
    );
    await client.query(
      `insert into "Replication" ("mirrorVaultId", "sourceRegionId", "targetRegionId", "historicalSyncScheduledAt")
       select md5('bench-sync-mirror-' || i)::uuid, $2, $3, ($4::timestamptz at time zone 'UTC')
       from generate_series(1, $1::int) i`,
      [MIRRORS, SOURCE_REGION, MIRROR_REGION, new Date(Date.now() + 86_400_000).toISOString()],
    );
    await client.query("commit");
    await client.query("analyze");
    const { rows } = await client.query<{ id: string }>(`select "mirrorVaultId"::text as id from "Replication"`);
    return rows.map((row) => row.id);
  });
}

async function lateness(backend: Backend): Promise<Lateness> {
  const queuePrefix = `mvg-bench-sync-${backend}-${process.pid}`;
  const databaseUrl = await freshBenchDatabase(DATABASE);
  const storageDir = await mkdtemp(path.join(tmpdir(), "mvg-bench-sync-"));
  let services: Services | undefined;
  let workers: { close(): Promise<void> } | undefined;
  try {
    services = await benchServices({
      databaseUrl,
      redisUrl: backend === "redis" ? (process.env.REDIS_URL ?? TEST_REDIS_URL) : undefined,
      queuePrefix,
      storageDir,
    });
    const ids = await seed(databaseUrl);
    const dueAt = new Date(Date.now() + LEAD_MS);
    await services.db.$executeRaw`update "Replication"
      set "historicalSyncScheduledAt" = (${dueAt.toISOString()}::timestamptz at time zone 'UTC')`;
    workers = startRegionWorkers(services, services.config, MIRROR_REGION);
    const scheduling = performance.now();
    const queue = services.queues.get(MIRROR_REGION, "sync");
    for (let i = 0; i < ids.length; i += 500) {
      await queue.addBulk(
        ids.slice(i, i + 500).map((mirrorVaultId) => ({
          name: "historicalSync",
          data: { mirrorVaultId },
          opts: { jobId: jobIds.historicalSync(mirrorVaultId), delay: Math.max(0, dueAt.getTime() - Date.now()) },
        })),
      );
    }
    const scheduleMs = performance.now() - scheduling;
    if (Date.now() >= dueAt.getTime()) {
      throw new BenchmarkFailure(
        `${backend}: scheduling ${int(MIRRORS)} syncs took ${ms(scheduleMs)} ms, past the ${LEAD_MS} ms lead ` +
          "(BENCH_SYNC_LEAD_MS)",
      );
    }
    // Waiting on the database (the source of truth) every 200 ms, bounded, on a connection of the bench's own (the
    // workers' pool is busy with the burst).
    const deadline = dueAt.getTime() + 120_000;
    const rows = await withClient(databaseUrl, async (client) => {
      const waiting = async () =>
        Number(
          (await client.query(`select count(*) as n from "Replication" where "historicalSyncStartedAt" is null`))
            .rows[0].n,
        );
      while ((await waiting()) > 0) {
        if (Date.now() > deadline) throw new BenchmarkFailure(`${backend}: syncs did not all start within 120 s`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const result = await client.query<{ historicalSyncScheduledAt: Date; historicalSyncStartedAt: Date | null }>(
        `select "historicalSyncScheduledAt", "historicalSyncStartedAt" from "Replication"`,
      );
      return result.rows;
    });
    const late = rows
      .map((r) => (r.historicalSyncStartedAt?.getTime() ?? Number.NaN) - r.historicalSyncScheduledAt.getTime())
      .sort((a, b) => a - b);
    return {
      p50: percentile(late, 50),
      p99: percentile(late, 99),
      max: late[late.length - 1],
      early: late.filter((value) => value < 0).length,
      scheduleMs,
    };
  } finally {
    await workers?.close();
    if (services) {
      await services.queues.get(MIRROR_REGION, "sync").obliterate({ force: true });
      await services.close();
    }
    await rm(storageDir, { recursive: true, force: true });
    await dropBenchDatabase(DATABASE);
    if (backend === "redis") await deleteRedisPrefix(queuePrefix);
  }
}

export const syncLateness: Benchmark = {
  name: "sync-lateness",
  description: `historical sync start lateness p50/p99 of ${int(MIRRORS)} mirrors due at once, Redis and PostgreSQL queues (goal p99 < 1 s)`,
  async run() {
    const redis = await lateness("redis");
    const postgres = await lateness("postgres");
    console.log(
      `  ${int(MIRRORS)} mirrors due at one moment, one region's workers (sync concurrency ` +
        `${config.workerConcurrency.sync}); start lateness = startedAt − scheduledAt in ms:`,
    );
    const line = (backend: Backend, r: Lateness) => [
      backend,
      int(MIRRORS / (r.scheduleMs / 1000)),
      ms(r.p50),
      ms(r.p99),
      ms(r.max),
      int(r.early),
      ratio(r.p99 / redis.p99),
    ];
    console.log(
      table([
        ["queues", "jobs/s scheduled", "p50", "p99", "max", "early", "p99 vs redis"],
        line("redis", redis),
        line("postgres", postgres),
      ]),
    );
    for (const [backend, r] of [
      ["redis", redis],
      ["postgres", postgres],
    ] as const) {
      if (r.early > 0) throw new BenchmarkFailure(`${backend}: ${r.early} historical syncs started before their time`);
      recordGoal({
        row: `sync start lateness p99, ${int(MIRRORS)} mirrors (${backend} queues)`,
        figure: `${ms(r.p99)} ms`,
        baseline: backend === "redis" ? "" : `redis ${ms(redis.p99)} ms`,
        ratio: backend === "redis" ? Number.NaN : redis.p99 / r.p99,
        goal: `< ${int(GOAL_P99_MS)} ms`,
        met: r.p99 < GOAL_P99_MS,
      });
    }
  },
};
