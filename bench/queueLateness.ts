// Delayed-job lateness: JOBS delayed jobs all due at about the same moment, one worker (BENCH_LATENESS_WORKERS for
// more) with the sync queue's default concurrency consuming them; lateness = when the processor started − when the
// job was due (timestamp + delay).
// Measured on BullMQ's PostgreSQL backend (the embedded default, REDIS_URL unset) and on Redis in the same run.
// Goal: p99 < 1 s on PostgreSQL, which BullMQ's PostgreSQL backend does not meet here (it hands out a few hundred
// jobs per second). Scheduled work that falls due in bursts works around it: historical syncs are started by a sweep
// of their region (mirror-sync measures that); log-backup schedulers and copies still depend on this figure.
import { config } from "../src/config.ts";
import { createPostgresQueueBackend, createRedisQueueBackend, type QueueBackend } from "../src/queue/queueBackend.ts";
import { RegionQueues } from "../src/queue/queues.ts";
import { createRegionWorker } from "../src/queue/regionWorker.ts";
import { deleteRedisPrefix, TEST_REDIS_URL } from "../test/support/backends.ts";
import { signal, within } from "../test/support/within.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { dropBenchDatabase, freshBenchDatabase } from "./lib/database.ts";
import { int, ms, ratio, table } from "./lib/format.ts";
import { recordGoal } from "./lib/report.ts";

const JOBS = Number(process.env.BENCH_LATENESS_JOBS) || 1000;
/** Time between the first add and the common due time: enough to add every job before any is due. */
const LEAD_MS = 3000;
const CONCURRENCY = config.workerConcurrency.sync;
const WORKERS = Number(process.env.BENCH_LATENESS_WORKERS) || 1;
const GOAL_P99_MS = 1000;
const REGION = "cn-hangzhou";
/** The pid keeps concurrent runs on the shared servers apart. */
const DATABASE = "mvg_bench_lateness";
const PREFIX = `mvg-bench-lateness-${process.pid}`;

type Result = { min: number; p50: number; p99: number; max: number; addMs: number; early: number };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(backend: QueueBackend): Promise<Result> {
  const queues = new RegionQueues(backend);
  const lateness: number[] = [];
  const done = signal();
  // Several workers stand for several worker processes of the region (BENCH_LATENESS_WORKERS).
  const workers = Array.from({ length: WORKERS }, () =>
    createRegionWorker(
      backend,
      REGION,
      "sync",
      async (job) => {
        lateness.push(Date.now() - (job.timestamp + (job.opts.delay ?? 0)));
        if (lateness.length === JOBS) done.resolve();
      },
      { concurrency: CONCURRENCY, lockDuration: 30_000, stalledInterval: 15_000 },
    ),
  );
  try {
    await Promise.all(workers.map((worker) => worker.waitUntilReady()));
    const queue = queues.get(REGION, "sync");
    const started = Date.now();
    const dueAt = started + LEAD_MS;
    // In batches of 100, each job's delay computed at its add so all of them fall due at `dueAt`.
    for (let i = 0; i < JOBS; i += 100) {
      const batch = Array.from({ length: Math.min(100, JOBS - i) }, (_, k) => ({
        name: "late",
        data: { i: i + k },
        opts: { jobId: `late-${i + k}`, delay: Math.max(1, dueAt - Date.now()) },
      }));
      await queue.addBulk(batch);
    }
    const addMs = Date.now() - started;
    if (addMs >= LEAD_MS) throw new BenchmarkFailure(`adding ${JOBS} jobs took ${addMs} ms, longer than the lead`);
    await within(done.promise, LEAD_MS + 60_000, `${JOBS} delayed jobs on ${backend.kind}`);
    const sorted = [...lateness].sort((a, b) => a - b);
    return {
      min: sorted[0],
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1],
      addMs,
      early: sorted.filter((value) => value < 0).length,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
    await queues.close();
  }
}

async function onPostgres(): Promise<Result> {
  const url = await freshBenchDatabase(DATABASE, { migrate: false });
  const backend = await createPostgresQueueBackend({ url, prefix: PREFIX });
  try {
    return await measure(backend);
  } finally {
    await backend.close();
    await dropBenchDatabase(DATABASE);
  }
}

async function onRedis(): Promise<Result> {
  const backend = await createRedisQueueBackend({ url: process.env.REDIS_URL ?? TEST_REDIS_URL, prefix: PREFIX });
  try {
    return await measure(backend);
  } finally {
    await backend.close();
    await deleteRedisPrefix(PREFIX);
  }
}

export const queueLateness: Benchmark = {
  name: "queueLateness",
  description: `lateness of ${JOBS} delayed jobs due at once: PostgreSQL backend vs Redis (goal p99 < 1 s)`,
  async run() {
    const postgres = await onPostgres();
    const redis = await onRedis();
    console.log(
      `  ${JOBS} delayed jobs due together, ${WORKERS} worker(s) of concurrency ${CONCURRENCY}; lateness in ms`,
    );
    const row = (name: string, r: Result) => [name, ms(r.min), ms(r.p50), ms(r.p99), ms(r.max), int(r.addMs)];
    console.log(
      table([["backend", "min", "p50", "p99", "max", "add all (ms)"], row("postgres", postgres), row("redis", redis)]),
    );
    console.log(
      `  postgres p99 ${ms(postgres.p99)} ms, goal < ${GOAL_P99_MS} ms; ` +
        `vs redis: p50 ${ratio(postgres.p50 / redis.p50)}, p99 ${ratio(postgres.p99 / redis.p99)}`,
    );
    const early = postgres.early + redis.early;
    if (early > 0) throw new BenchmarkFailure(`${early} delayed jobs started before they were due`);
    // The row goes in the goals table; a missed goal then reports FAIL, as in every benchmark with a goal.
    recordGoal({
      row: `PostgreSQL queue backend: lateness of ${JOBS} delayed jobs due at once, p99`,
      figure: `${ms(postgres.p99)} ms`,
      baseline: `Redis p99 ${ms(redis.p99)} ms`,
      ratio: redis.p99 / postgres.p99,
      goal: `p99 < ${GOAL_P99_MS} ms`,
      met: postgres.p99 < GOAL_P99_MS,
    });
    if (postgres.p99 >= GOAL_P99_MS) {
      throw new BenchmarkFailure(`postgres p99 lateness ${ms(postgres.p99)} ms misses the goal (< ${GOAL_P99_MS} ms)`);
    }
  },
};
