// Storage garbage collection per region: removes the chunks of a region's blob store that no manifest references
// any more (backups whose instance was deleted, copies of a deleted mirror) plus leftover temp files. A job
// scheduler per region runs it every STORAGE_GC_INTERVAL_MS; chunks younger than STORAGE_GC_MIN_AGE_MS stay, so a
// backup or copy that has written chunks but not yet its manifest never loses them.
import { jobIds } from "../queue/queues.ts";
import type { Ports } from "./ports.ts";

export type StorageGcData = { regionId: string };

/**
 * Installs (or updates) the region's GC scheduler. The same id each time, and BullMQ keeps the next run's time
 * when the interval is unchanged, so the reconciler calling this every minute doesn't make GC run every minute.
 * STORAGE_GC_INTERVAL_MS=0 turns the schedule off.
 */
export async function scheduleStorageGc(ports: Pick<Ports, "queues" | "config">, regionId: string) {
  const schedulerId = jobIds.storageGcScheduler(regionId);
  const everyMs = ports.config.storageGcIntervalMs;
  if (everyMs <= 0) return ports.queues.removeScheduler(regionId, "maintenance", schedulerId);
  const data: StorageGcData = { regionId };
  await ports.queues.upsertScheduler(regionId, "maintenance", schedulerId, everyMs, { name: "storageGc", data });
}

/** Reconciler step: a lost scheduler (queue data lost) comes back within one reconcile interval. */
export async function reconcileStorageGc(ports: Pick<Ports, "queues" | "config">, regionIds: string[]) {
  for (const regionId of regionIds) await scheduleStorageGc(ports, regionId);
}

export async function collectStorageGarbage(ports: Pick<Ports, "storage" | "config">, regionId: string) {
  return ports.storage.region(regionId).collectGarbage({ minAgeMs: ports.config.storageGcMinAgeMs });
}
