// `<mirror region>.sync` / historicalSync (R9): runs HISTORICAL_SYNC_DELAY_MS after the mirror's creation and
// copies every backup that completed in the source before the mirror existed and has no copy yet (so a rerun
// resumes where the last attempt stopped and never copies a backup twice). BullMQ retries a failure with backoff;
// the final failure leaves the replication FAILED (failHistoricalSync, registered in regionWorkers' onFinalFailure).
import type { Job } from "bullmq";
import {
  copyToMirror,
  enqueueMissingCopies,
  markHistoricalSyncFailed,
  reconcileReplication,
} from "../src/domain/replication.ts";
import type { Services } from "../src/services.ts";
import { registerReconciler } from "./reconciler.ts";

registerReconciler(reconcileReplication);

export async function runHistoricalSync(services: Services, job: Job<{ mirrorVaultId: string }>) {
  const { db, events } = services;
  const { mirrorVaultId } = job.data;
  const replication = await db.replication.findUnique({
    where: { mirrorVaultId },
    include: { mirrorVault: { select: { status: true, createdAt: true, sourceVaultId: true, regionId: true } } },
  });
  const mirror = replication?.mirrorVault;
  if (!replication || !mirror || mirror.status !== "CREATED" || !mirror.sourceVaultId) return { skipped: "no mirror" };
  if (replication.historicalSyncStatus === "COMPLETED" || replication.historicalSyncStatus === "FAILED") {
    return { skipped: replication.historicalSyncStatus };
  }
  const publish = () => events.publish("vault:replication", mirrorVaultId, { id: mirrorVaultId });
  // Historical = completed in the source before the mirror was created; later ones are the real-time path's.
  const historical = {
    vaultId: mirror.sourceVaultId,
    status: "COMPLETE" as const,
    completedAt: { lt: mirror.createdAt },
  };
  const [total, done] = await Promise.all([
    db.backup.count({ where: historical }),
    db.backupCopy.count({ where: { mirrorVaultId, backup: historical } }),
  ]);
  await db.replication.update({
    where: { mirrorVaultId },
    data: {
      historicalSyncStatus: "RUNNING",
      historicalSyncStartedAt: replication.historicalSyncStartedAt ?? new Date(),
      historicalBackupTotal: total,
      historicalBackupDone: done,
      historicalMessage: null,
    },
  });
  await publish();
  const todo = await db.backup.findMany({
    where: { ...historical, copies: { none: { mirrorVaultId } } },
    orderBy: [{ completedAt: "asc" }, { id: "asc" }],
    select: { id: true },
  });
  let copied = done;
  for (const backup of todo) {
    if (!(await copyToMirror(services, backup.id, mirrorVaultId))) return { skipped: "mirror deleted" };
    copied++;
    await db.replication.update({ where: { mirrorVaultId }, data: { historicalBackupDone: copied } });
    await job.updateProgress(total ? Math.round((100 * copied) / total) : 100);
    await publish();
  }
  await db.replication.updateMany({
    where: { mirrorVaultId, historicalSyncStatus: "RUNNING" },
    data: { historicalSyncStatus: "COMPLETED", historicalSyncCompletedAt: new Date(), historicalBackupDone: total },
  });
  await publish();
  // Safety net: a backup completing while the mirror was being created may have found no mirror yet.
  await enqueueMissingCopies(services, mirrorVaultId, mirror.regionId);
  return { total, copied: copied - done };
}

/** For regionWorkers' onFinalFailure map: `historicalSync: failHistoricalSync`. */
export async function failHistoricalSync(services: Services, job: Job, error: Error) {
  await markHistoricalSyncFailed(services, job.data.mirrorVaultId, error.message);
}
