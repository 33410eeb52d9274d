// Cluster-wide figures, read from the database and the queues when /metrics is scraped: the same on every API
// replica, whichever process did the work. Worker processes expose only what they observe themselves
// (src/metrics/jobMetrics.ts); see README "Metrics".
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

/**
 * One read shared by the metrics filled from it: a registry collects its metrics concurrently, so each awaits the
 * same promise, kept for a second (one scrape).
 */
function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at > 1000) {
      cached = { at: Date.now(), value: read() };
      cached.value.catch(() => (cached = undefined));
    }
    return cached.value;
  };
}

export function createClusterRegistry(ports: ClusterPorts): Registry {
  const registry = new Registry();
  const registers = [registry];

  new Gauge({
    name: "mvg_queue_jobs",
    help: "Jobs in each region's queues, by state (queue depth: waiting + prioritized + delayed)",
    labelNames: ["region", "queue", "state"] as const,
    registers,
    async collect() {
      this.reset();
      // Every region's queues, and the webhook deliveries' queue, which is no region's (region="").
      const queues = [
        ...ports.regions.all.flatMap((region) =>
          QUEUE_KINDS.map((kind) => ({ region: region.id, queue: kind, name: queueName(region.id, kind) })),
        ),
        { region: "", queue: WEBHOOK_QUEUE, name: WEBHOOK_QUEUE },
      ];
      const counts = await Promise.all(
        queues.map(async ({ region, queue, name }) => ({
          region,
          queue,
          counts: await ports.queues.named(name).getJobCounts(...QUEUE_STATES),
        })),
      );
      for (const { region, queue, counts: byState } of counts) {
        for (const state of QUEUE_STATES) this.set({ region, queue, state }, byState[state] ?? 0);
      }
    },
  });

  // RegionTransfer's totals only grow: counters, set to the table's values at each scrape.
  const transferRows = sharedRead(() => regionTransfers(ports));
  const transferCounter = (name: string, help: string, field: "bytesSent" | "chunksSent" | "copies") =>
    new Counter({
      name,
      help,
      labelNames: ["source_region", "target_region"] as const,
      registers,
      async collect() {
        this.reset();
        for (const row of await transferRows()) {
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
      this.reset();
      for (const row of await mirrorFreshness(ports)) {
        this.set({ mirror_id: encodeId("Vault", row.mirrorVaultId), region: row.regionId }, row.newestBackupAgeSeconds);
      }
    },
  });

  const lateness = sharedRead(() => historicalSyncLateness(ports));
  new Gauge({
    name: "mvg_historical_sync_overdue_seconds",
    help: "Per mirror region: how far past its due time the most overdue historical sync not yet started is (0: none)",
    labelNames: ["region"] as const,
    registers,
    async collect() {
      this.reset();
      for (const row of await lateness()) this.set({ region: row.regionId }, row.overdueSeconds);
    },
  });
  new Gauge({
    name: "mvg_historical_sync_start_lateness_seconds",
    help: "Per mirror region: start time minus due time of the most recently started historical sync",
    labelNames: ["region"] as const,
    registers,
    async collect() {
      this.reset();
      for (const row of await lateness()) {
        if (row.lastStartLatenessSeconds !== null) {
          this.set({ region: row.regionId }, Math.max(0, row.lastStartLatenessSeconds));
        }
      }
    },
  });
  return registry;
}
