// Cluster-wide figures, read from the database and the queues when /metrics is scraped: the same on every API
// replica, whichever process did the work. Worker processes expose only what they observe themselves
// (src/metrics/jobMetrics.ts); see README "Metrics". One read serves every scrape of this process within
// METRICS_CACHE_MS of it, so scrapers, dashboards and replicas cost the database at most one read per process per bound.
import { Counter, Gauge, Registry } from "prom-client";
import { regionTransfers } from "../domain/mirrors/transfers.ts";
import { historicalSyncLateness, mirrorFreshness } from "../domain/operations.ts";
import type { Ports } from "../domain/ports.ts";
import { WEBHOOK_QUEUE } from "../domain/webhooks/deliveryQueue.ts";
import { QUEUE_KINDS, queueName } from "../queue/queues.ts";
import { encodeId } from "./ids.ts";

/** The states a queue's depth is reported in (BullMQ's names). */
const QUEUE_STATES = ["waiting", "prioritized", "delayed", "active", "failed"] as const;

type ClusterPorts = Pick<Ports, "db" | "queues" | "regions" | "clock">;

/** Every figure the cluster's metrics show, read at once. */
async function readClusterFigures(ports: ClusterPorts) {
  // Every region's queues, and the webhook deliveries' queue, which is no region's (region="").
  const queues = [
    ...ports.regions.all.flatMap((region) =>
      QUEUE_KINDS.map((kind) => ({ region: region.id, queue: kind, name: queueName(region.id, kind) })),
    ),
    { region: "", queue: WEBHOOK_QUEUE, name: WEBHOOK_QUEUE },
  ];
  const [queueCounts, transfers, freshness, lateness] = await Promise.all([
    Promise.all(
      queues.map(async ({ region, queue, name }) => ({
        region,
        queue,
        counts: await ports.queues.named(name).getJobCounts(...QUEUE_STATES),
      })),
    ),
    regionTransfers(ports),
    mirrorFreshness(ports),
    historicalSyncLateness(ports),
  ]);
  return { queueCounts, transfers, freshness, lateness };
}

/**
 * `read`, shared: by the metrics of one scrape (a registry collects them concurrently), by concurrent scrapes, and by
 * every scrape that starts within `cacheMs` of the read's start (0: each scrape reads). A failed read is not kept.
 */
export function sharedRead<T>(read: () => Promise<T>, cacheMs: number, now: () => number): () => Promise<T> {
  let cached: { at: number; value: Promise<T>; settled: boolean } | undefined;
  return () => {
    if (!cached || (cached.settled && now() - cached.at >= cacheMs)) {
      const entry = { at: now(), value: read(), settled: false };
      entry.value.then(
        () => {
          entry.settled = true;
        },
        () => {
          if (cached === entry) cached = undefined;
        },
      );
      cached = entry;
    }
    return cached.value;
  };
}

/** `cacheMs`: METRICS_CACHE_MS; `now`: the wall clock the bound is measured on (not the domain's clock). */
export function createClusterRegistry(
  ports: ClusterPorts,
  { cacheMs, now = Date.now }: { cacheMs: number; now?: () => number },
): Registry {
  const registry = new Registry();
  const registers = [registry];
  const figures = sharedRead(() => readClusterFigures(ports), cacheMs, now);

  new Gauge({
    name: "mvg_queue_jobs",
    help: "Jobs in each region's queues, by state (queue depth: waiting + prioritized + delayed)",
    labelNames: ["region", "queue", "state"] as const,
    registers,
    async collect() {
      const { queueCounts } = await figures();
      this.reset();
      for (const { region, queue, counts: byState } of queueCounts) {
        for (const state of QUEUE_STATES) this.set({ region, queue, state }, byState[state] ?? 0);
      }
    },
  });

  // RegionTransfer's totals only grow: counters, set to the table's values at each scrape.
  const transferCounter = (name: string, help: string, field: "bytesSent" | "chunksSent" | "copies") =>
    new Counter({
      name,
      help,
      labelNames: ["source_region", "target_region"] as const,
      registers,
      async collect() {
        const { transfers } = await figures();
        this.reset();
        for (const row of transfers) {
          this.inc({ source_region: row.sourceRegionId, target_region: row.targetRegionId }, Number(row[field]));
        }
      },
    });
  transferCounter(
    "mvg_region_transfer_bytes_total",
    "Bytes of chunks sent from a source region to a mirror region (RegionTransfer)",
    "bytesSent",
  );
  transferCounter(
    "mvg_region_transfer_chunks_total",
    "Chunks sent from a source region to a mirror region (RegionTransfer)",
    "chunksSent",
  );
  transferCounter(
    "mvg_region_transfer_copies_total",
    "Backup copies recorded from a source region into a mirror region (RegionTransfer)",
    "copies",
  );

  new Gauge({
    name: "mvg_mirror_newest_copy_age_seconds",
    help: "Per mirror vault (global id): seconds since the newest backup it holds a copy of completed in the source (its RPO); no series before its first copy",
    labelNames: ["mirror_id", "region"] as const,
    registers,
    async collect() {
      const { freshness } = await figures();
      this.reset();
      for (const row of freshness) {
        this.set({ mirror_id: encodeId("Vault", row.mirrorVaultId), region: row.regionId }, row.newestBackupAgeSeconds);
      }
    },
  });

  new Gauge({
    name: "mvg_historical_sync_overdue_seconds",
    help: "Per mirror region: how far past its due time the most overdue historical sync not yet started is (0: none)",
    labelNames: ["region"] as const,
    registers,
    async collect() {
      const { lateness } = await figures();
      this.reset();
      for (const row of lateness) this.set({ region: row.regionId }, row.overdueSeconds);
    },
  });
  new Gauge({
    name: "mvg_historical_sync_start_lateness_seconds",
    help: "Per mirror region: start time minus due time of the most recently started historical sync",
    labelNames: ["region"] as const,
    registers,
    async collect() {
      const { lateness } = await figures();
      this.reset();
      for (const row of lateness) {
        if (row.lastStartLatenessSeconds !== null) {
          this.set({ region: row.regionId }, Math.max(0, row.lastStartLatenessSeconds));
        }
      }
    },
  });
  return registry;
}
