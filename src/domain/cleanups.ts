// Clean-up a committed deletion owes outside the database: manifests in a region's store, a simulated cluster's
// rows. The PendingCleanup rows are written in the deletion's own transaction, so a crash right after it (the API
// killed mid-deleteVault) leaves a durable record; the request does the clean-up at once and removes the rows, and
// the reconciler of the region finishes whatever a crash interrupted. Every step is idempotent.
import type { Prisma } from "../generated/prisma/client.ts";
import { jobIds } from "../queue/queues.ts";
import type { Ports } from "./ports.ts";

export type CleanupItem = { regionId: string; backupIds: string[]; hanaInstanceId?: string };
type CleanupPorts = Pick<Ports, "db" | "storage" | "hana" | "queues">;
type Row = { id: string; regionId: string; backupIds: string[]; hanaInstanceId: string | null };

/** The rows to create in the deletion's transaction (one per region; empty items are left out). */
export function cleanupRecords(items: CleanupItem[]): Prisma.PendingCleanupCreateManyInput[] {
  const byRegion = new Map<string, Prisma.PendingCleanupCreateManyInput>();
  for (const item of items) {
    const key = `${item.regionId}/${item.hanaInstanceId ?? ""}`;
    const row = byRegion.get(key) ?? { regionId: item.regionId, backupIds: [], hanaInstanceId: item.hanaInstanceId };
    row.backupIds = [...new Set([...(row.backupIds as string[]), ...item.backupIds])];
    byRegion.set(key, row);
  }
  return [...byRegion.values()].filter((row) => (row.backupIds as string[]).length > 0 || row.hanaInstanceId);
}

async function runOne(ports: CleanupPorts, row: Row): Promise<void> {
  const store = ports.storage.region(row.regionId);
  for (const backupId of row.backupIds) await store.deleteBackup(backupId);
  if (row.hanaInstanceId) {
    // The instance's automatic LOG backups stop with it (the reconciler only schedules existing instances).
    await ports.queues.removeScheduler(row.regionId, "backup", jobIds.logBackupScheduler(row.hanaInstanceId));
    await ports.hana.dropInstance(row.hanaInstanceId);
  }
  await ports.db.pendingCleanup.deleteMany({ where: { id: row.id } });
}

/** Runs the clean-ups with these ids now (the request that committed them); a failure is left to the reconciler. */
export async function runCleanups(ports: CleanupPorts, ids: string[]): Promise<void> {
  const rows = await ports.db.pendingCleanup.findMany({ where: { id: { in: ids } } });
  for (const row of rows) {
    await runOne(ports, row).catch((error) =>
      console.error(`[cleanup] ${row.regionId}: ${(error as Error).message}; the reconciler retries it`),
    );
  }
}

/** Reconciler step: finishes the clean-ups of `regionIds` that a crash (or an unreachable store) left pending. */
export async function reconcileCleanups(ports: CleanupPorts, regionIds: string[]): Promise<void> {
  const rows = await ports.db.pendingCleanup.findMany({
    where: { regionId: { in: regionIds } },
    orderBy: { createdAt: "asc" },
  });
  for (const row of rows) await runOne(ports, row);
}
