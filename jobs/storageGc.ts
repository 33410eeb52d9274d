// `<region>.maintenance` / storageGc: one sweep of the region's blob store (src/domain/storageGc.ts). Idempotent: a
// rerun (or a retry after a crash) just finds less to remove.
import { type Job, UnrecoverableError } from "bullmq";
import type { Ports } from "../src/domain/ports.ts";
import { collectStorageGarbage, type StorageGcData } from "../src/domain/storageGc.ts";
import { log } from "../src/log/index.ts";
import type { JobContext } from "./jobContext.ts";

export async function runStorageGc(ports: Pick<Ports, "storage" | "config">, job: Job<StorageGcData>, ctx: JobContext) {
  const { regionId } = job.data;
  // Work for a region is only ever done by its own workers.
  if (regionId !== ctx.regionId) {
    throw new UnrecoverableError(`storage GC of ${regionId} was queued on ${job.queueName}`);
  }
  const started = Date.now();
  const { removedChunks } = await collectStorageGarbage(ports, regionId);
  if (removedChunks > 0) {
    log.info({ removedChunks, durationMs: Date.now() - started }, "storage GC removed unreferenced chunks");
  }
  return { removedChunks };
}
