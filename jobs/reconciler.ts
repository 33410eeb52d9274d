// The reconciler: on worker start and every RECONCILE_INTERVAL_MS, compares the database with the queues and
// re-enqueues whatever the database says is due or unfinished. The queues may lose everything; the database's
// promises are kept. Job ids are deterministic, so re-adding a job that still exists is a no-op.
import { reconcileDrillRuns } from "../src/domain/assurance/drillRuns.ts";
import { reconcileDrillSchedules } from "../src/domain/assurance/drillSchedule.ts";
import { checkRpoTargets } from "../src/domain/assurance/rpo.ts";
import { reconcileRunningBackups } from "../src/domain/backups.ts";
import { reconcileCleanups } from "../src/domain/cleanups.ts";
import { reconcileInstances } from "../src/domain/hanaInstances.ts";
import { reconcileMirrorCopies } from "../src/domain/mirrors/copies.ts";
import { reconcileHistoricalSyncs } from "../src/domain/mirrors/historicalSync.ts";
import type { Ports } from "../src/domain/ports.ts";
import { sweepRestoreStaging } from "../src/domain/restores/index.ts";
import { reconcileStorageGc } from "../src/domain/storageGc.ts";
import { reconcileRestores } from "./restore.ts";
import { reconcileWebhooks } from "./webhookDelivery.ts";

export type ReconcilePorts = Pick<Ports, "db" | "queues" | "clock" | "config" | "storage" | "hana">;
type Step = [name: string, step: (ports: ReconcilePorts, regionIds: string[]) => Promise<void>];

/**
 * Every step, in order; each is a domain function of the regions this process serves. After a queue flush (Redis
 * FLUSHALL, or the PostgreSQL queue schema wiped) one pass re-creates every job the database promised: the jobs
 * of unfinished rows and every job scheduler (each instance's automatic LOG backups, each region's storage GC).
 */
export const reconcileSteps: Step[] = [
  ["instances", reconcileInstances], // INITIALIZING checks + the LOG backup scheduler of each INITIALIZED instance
  ["backups", reconcileRunningBackups],
  ["historical syncs", reconcileHistoricalSyncs],
  ["mirror copies", reconcileMirrorCopies],
  ["restores", reconcileRestores],
  ["restore staging", sweepRestoreStaging],
  ["deletions", reconcileCleanups], // clean-up a crash interrupted (manifests, a deleted instance's cluster)
  // Job schedulers: the storage GC here; the restore drills' below.
  ["storage gc", reconcileStorageGc],
  ["webhook deliveries", reconcileWebhooks],
  // Not a repair: the periodic RPO check rides on the reconciler's pass over the regions this process serves.
  ["rpo targets", checkRpoTargets],
  ["drill schedules", reconcileDrillSchedules],
  ["drill runs", reconcileDrillRuns],
];

export async function reconcileOnce(ports: ReconcilePorts, regionIds: string[]) {
  for (const [name, step] of reconcileSteps) {
    try {
      await step(ports, regionIds);
    } catch (error) {
      console.error(`[reconciler] ${name}: ${(error as Error).message}`);
    }
  }
}

export async function startReconciler(ports: ReconcilePorts, regionIds: string[], intervalMs: number) {
  let pass: Promise<void> = reconcileOnce(ports, regionIds);
  await pass;
  const timer = setInterval(() => {
    pass = reconcileOnce(ports, regionIds);
  }, intervalMs);
  timer.unref();
  return {
    /** No new pass starts; resolves when the one under way (if any) has ended, so nothing uses a closed backend. */
    async stop() {
      clearInterval(timer);
      await pass;
    },
  };
}
