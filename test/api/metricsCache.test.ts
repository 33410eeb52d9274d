// /metrics' cluster figures (queue depths, RegionTransfer counters, RPO, historical-sync lateness) cost the database
// one read per METRICS_CACHE_MS per API process, however often it is scraped: counted as the SQL statements sent to
// PostgreSQL and the queue-count calls made.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiMetrics } from "../../src/api/adminRoutes.ts";
import { createClusterRegistry } from "../../src/api/clusterMetrics.ts";
import { QUEUE_KINDS, type RegionQueues } from "../../src/queue/queues.ts";
import type { Services } from "../../src/services.ts";
import { createCountingDb } from "../support/countingDb.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { parseMetrics, samplesOf } from "../support/prometheus.ts";

let gw: TestGateway;
let counting: ReturnType<typeof createCountingDb>;
let queueReads = 0;
let ports: Services;

beforeAll(async () => {
  gw = await startTestGateway("metrics_cache");
  counting = createCountingDb(gw.services.config.databaseUrl, { max: 4 });
  // The real queues, with their count reads counted.
  const queues = gw.services.queues;
  const counted = Object.create(queues) as RegionQueues;
  counted.named = (name) => {
    const queue = queues.named(name);
    return Object.assign(Object.create(queue), {
      getJobCounts: (...states: Parameters<typeof queue.getJobCounts>) => {
        queueReads += 1;
        return queue.getJobCounts(...states);
      },
    });
  };
  ports = { ...gw.services, db: counting.db, queues: counted };
});
afterAll(async () => {
  await counting?.close();
  await gw?.close();
});

/** SQL statements and queue-count calls since the last call. */
function reads() {
  const figures = { sql: counting.counter.count, queues: queueReads };
  counting.counter.reset();
  queueReads = 0;
  return figures;
}

describe("/metrics' cluster figures", () => {
  it("two scrapes within METRICS_CACHE_MS cost one read, with the same values", async () => {
    const metrics = apiMetrics({ ...ports, config: { ...ports.config, metricsCacheMs: 60_000 } });
    reads();
    const first = await metrics();
    const one = reads();
    // One statement per query (transfers, RPO, lateness) and one count per queue: every region's five, the webhooks'.
    expect(one.sql).toBeGreaterThanOrEqual(3);
    expect(one.queues).toBe(gw.services.regions.all.length * QUEUE_KINDS.length + 1);
    const second = await metrics();
    expect(reads()).toEqual({ sql: 0, queues: 0 });
    const cluster = (text: string) => samplesOf(parseMetrics(text), "mvg_queue_jobs");
    expect(cluster(second)).toEqual(cluster(first));
    // Five states per queue.
    expect(cluster(first).length).toBe(one.queues * 5);
  });

  it("a scrape past the bound reads again; concurrent scrapes share one read; 0 reads at every scrape", async () => {
    let now = 1_000_000;
    const registry = createClusterRegistry(ports, { cacheMs: 10_000, now: () => now });
    reads();
    await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()]);
    const one = reads();
    expect(one.sql).toBeGreaterThan(0);
    now += 9_999;
    await registry.metrics();
    expect(reads()).toEqual({ sql: 0, queues: 0 });
    now += 1;
    await registry.metrics();
    expect(reads()).toEqual(one);

    const uncached = createClusterRegistry(ports, { cacheMs: 0, now: () => now });
    await uncached.metrics();
    await uncached.metrics();
    expect(reads()).toEqual({ sql: 2 * one.sql, queues: 2 * one.queues });
  });
});
