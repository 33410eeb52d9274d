// `<region>.maintenance` / storageGc: removes the chunks of the region's blob store that no manifest references any
// more (backups whose instance was deleted, copies of a deleted mirror) plus leftover temp files. A BullMQ job
// scheduler per region runs it every STORAGE_GC_INTERVAL_MS; chunks younger than STORAGE_GC_MIN_AGE_MS stay, so a
// backup or copy that has written chunks but not yet its manifest never loses them. Idempotent: a rerun (or a
// retry after a crash) just finds less to remove.
import { type Job, UnrecoverableError } from "bullmq";
import { jobIds, queueName } from "../src/queue/queues.ts";
import type { Services } from "../src/services.ts";
import { registerReconciler } from "./reconciler.ts";

export type StorageGcData = { regionId: string };

/**
 * Installs (or updates) the region's GC scheduler. The same id each time, and BullMQ keeps the next run's time
 * when the interval is unchanged, so the reconciler calling this every minute doesn't make GC run every minute.
 * A new scheduler runs its first sweep at once.
 */
export async function scheduleStorageGc(services: Services, regionId: string) {
  const queue = services.queues.get(regionId, "maintenance");
  const schedulerId = jobIds.storageGcScheduler(regionId);
  // STORAGE_GC_INTERVAL_MS=0 turns the schedule off (GC can still be queued by hand).
  if (services.config.storageGcIntervalMs <= 0) {
    await queue.removeJobScheduler(schedulerId);
    return;
  }
  await queue.upsertJobScheduler(
    schedulerId,
    { every: services.config.storageGcIntervalMs },
    { name: "storageGc", data: { regionId } satisfies StorageGcData },
  );
}

/** Reconciler: a lost scheduler (Redis flushed) comes back within one reconcile interval. */
async function reconcileStorageGc(services: Services, regionIds: string[]) {
  for (const regionId of regionIds) await scheduleStorageGc(services, regionId);
}
registerReconciler(reconcileStorageGc);

export async function runStorageGc(services: Services, job: Job<StorageGcData>) {
  const { regionId } = job.data;
  // Work for a region is only ever done by its own workers.
  if (job.queueName !== queueName(regionId, "maintenance")) {
    throw new UnrecoverableError(`storage GC of ${regionId} was queued on ${job.queueName}`);
  }
  const started = Date.now();
  const { removedChunks } = await services.storage
    .region(regionId)
    .collectGarbage({ minAgeMs: services.config.storageGcMinAgeMs });
  if (removedChunks > 0) {
    console.log(`[${regionId}.maintenance] storage GC removed ${removedChunks} chunks in ${Date.now() - started} ms`);
  }
  return { removedChunks };
}
