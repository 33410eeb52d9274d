// The reconciler: on worker start and every RECONCILE_INTERVAL_MS, compares the database with the queues and
// re-enqueues whatever the database says is due or unfinished. Redis may lose everything; the database's
// promises are kept. Job ids are deterministic, so re-adding a job that still exists is a no-op.
import { enqueueBackup } from "../src/domain/backups.ts";
import { jobIds } from "../src/queue/queues.ts";
import type { Services } from "../src/services.ts";
import { scheduleLogBackups } from "./logBackup.ts";

type Reconcile = (services: Services, regionIds: string[]) => Promise<void>;
const reconcilers: Reconcile[] = [];

/** Other domains (mirror sync, restores) register what they need re-enqueued. */
export function registerReconciler(reconcile: Reconcile) {
  reconcilers.push(reconcile);
}

async function reconcileInstancesAndBackups(services: Services, regionIds: string[]) {
  const { db, queues } = services;
  const instances = await db.hanaInstance.findMany({
    where: { regionId: { in: regionIds }, status: { in: ["INITIALIZING", "INITIALIZED"] } },
    select: { id: true, regionId: true, status: true, logBackupIntervalSeconds: true },
  });
  for (const instance of instances) {
    if (instance.status === "INITIALIZING") {
      await queues.ensure(
        instance.regionId,
        "hana",
        "initialize",
        { instanceId: instance.id },
        { jobId: jobIds.initialize(instance.id) },
      );
    } else {
      await scheduleLogBackups(services, instance);
    }
  }
  const running = await db.backup.findMany({
    where: { status: "RUNNING", vault: { regionId: { in: regionIds } } },
    select: { id: true, vault: { select: { regionId: true } } },
  });
  for (const backup of running) await enqueueBackup(services, backup.vault.regionId, backup.id);
}
registerReconciler(reconcileInstancesAndBackups);

export async function reconcileOnce(services: Services, regionIds: string[]) {
  for (const reconcile of reconcilers) {
    try {
      await reconcile(services, regionIds);
    } catch (error) {
      console.error("[reconciler]", (error as Error).message);
    }
  }
}

export async function startReconciler(services: Services, regionIds: string[]) {
  await reconcileOnce(services, regionIds);
  const timer = setInterval(() => void reconcileOnce(services, regionIds), services.config.reconcileIntervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
