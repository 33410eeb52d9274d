// `<mirror region>.sync` / historicalSync (R9): runs HISTORICAL_SYNC_DELAY_MS after the mirror's creation and
// copies every backup that completed in the source before the mirror existed and has no copy yet (so a rerun
// resumes where the last attempt stopped and never copies a backup twice). BullMQ retries a failure with backoff;
// the final failure leaves the replication FAILED (failHistoricalSync, registered in regionWorkers' onFinalFailure).
import type { Job } from "bullmq";
import {
  copyToMirror,
  enqueueCopies,
  enqueueMissingCopies,
  markHistoricalSyncFailed,
  reconcileReplication,
  startHistoricalSync,
} from "../src/domain/replication.ts";
import type { Services } from "../src/services.ts";
import { registerReconciler } from "./reconciler.ts";

registerReconciler(reconcileReplication);

export async function runHistoricalSync(services: Services, job: Job<{ mirrorVaultId: string }>) {
  const { db, events } = services;
  const { mirrorVaultId } = job.data;
  const publish = () => events.publish("vault:replication", mirrorVaultId, { id: mirrorVaultId });
  // One statement: counts, marks RUNNING (or COMPLETED when nothing is left) and lists what to copy. Most mirrors
  // have little or nothing to copy, so that and one event are all their sync costs.
  const start = await startHistoricalSync(services, mirrorVaultId, new Date());
  if (!start) {
    const replication = await db.replication.findUnique({
      where: { mirrorVaultId },
      select: { historicalSyncStatus: true },
    });
    return { skipped: replication ? replication.historicalSyncStatus : "no mirror" };
  }
  const { regionId, total, done, todo, missing } = start;
  await publish();
  // Safety net: a backup completing while the mirror was being created may have found no mirror yet.
  await enqueueCopies(services, regionId, mirrorVaultId, missing);
  if (start.status === "COMPLETED") return { total, copied: 0 };

  let copied = done;
  for (const backupId of todo) {
    // Records the progress with the copy and publishes the change.
    const ok = await copyToMirror(services, backupId, mirrorVaultId, { historicalBackupDone: copied + 1 });
    if (!ok) {
      const mirror = await db.vault.findUnique({ where: { id: mirrorVaultId }, select: { status: true } });
      if (mirror?.status !== "CREATED") return { skipped: "mirror deleted" };
      continue; // The backup itself went (its instance was deleted): nothing left to copy of it.
    }
    copied++;
    await job.updateProgress(total ? Math.round((100 * copied) / total) : 100);
  }
  await db.replication.updateMany({
    where: { mirrorVaultId, historicalSyncStatus: "RUNNING" },
    data: { historicalSyncStatus: "COMPLETED", historicalSyncCompletedAt: new Date(), historicalBackupDone: total },
  });
  await publish();
  // And again for the backups that completed while the copies ran.
  await enqueueMissingCopies(services, mirrorVaultId, regionId);
  return { total, copied: copied - done };
}

/** For regionWorkers' onFinalFailure map: `historicalSync: failHistoricalSync`. */
export async function failHistoricalSync(services: Services, job: Job, error: Error) {
  await markHistoricalSyncFailed(services, job.data.mirrorVaultId, error.message);
}
