// Mirror vaults (R2, R3, R5, R18): creation with its Replication row and delayed historical sync, and teardown.
import { Prisma } from "../../generated/prisma/client.ts";
import { jobIds } from "../../queue/queues.ts";
import type { CleanupItem } from "../cleanups.ts";
import { Conflict, FailedPrecondition, InvalidInput } from "../errors.ts";
import type { Ports } from "../ports.ts";
import { findVault, isUniqueViolation } from "../vaults.ts";
import { enqueueMissingCopies } from "./copies.ts";
import { scheduleHistoricalSync } from "./historicalSync.ts";

export type CreateMirrorInput = {
  sourceVaultId: string;
  regionId: string;
  name: string;
  description?: string | null;
};

/**
 * Creates a MIRROR of a SOURCE vault in another region, with its Replication row (historical sync SCHEDULED at
 * now + HISTORICAL_SYNC_DELAY_MS), then queues the delayed historical sync on the mirror region's sync queue.
 * R3 is the database's unique `sourceVaultId`: concurrent requests race on the insert, one wins.
 */
export async function createMirrorVault(
  ports: Pick<Ports, "db" | "queues" | "regions" | "clock" | "config">,
  accountId: string,
  input: CreateMirrorInput,
) {
  const { db, config } = ports;
  ports.regions.require(input.regionId, ["input", "regionId"]);
  const source = await findVault(db, accountId, input.sourceVaultId);
  if (source.kind !== "SOURCE") {
    throw InvalidInput.field(["input", "sourceVaultId"], "only a SOURCE vault can be mirrored (no mirror of a mirror)");
  }
  if (source.regionId === input.regionId) {
    throw InvalidInput.field(
      ["input", "regionId"],
      `a mirror must be in another region than its source (${source.regionId}); pick a different region`,
    );
  }
  if (source.status !== "CREATED") {
    throw new FailedPrecondition(`the source vault is ${source.status}; only a CREATED vault can be mirrored`);
  }
  const now = ports.clock.now();
  const scheduledAt = new Date(now.getTime() + config.historicalSyncDelayMs);
  // Informative only: the historical sync recounts when it starts (a backup may complete meanwhile).
  const historicalBackupTotal = await db.backup.count({
    where: { vaultId: source.id, status: "COMPLETE", completedAt: { lt: now } },
  });
  let mirror: Awaited<ReturnType<typeof db.vault.create>>;
  try {
    // One statement tree, one transaction: the vault and its replication row land together or not at all.
    mirror = await db.vault.create({
      data: {
        accountId,
        name: input.name.trim(),
        description: input.description ?? null,
        kind: "MIRROR",
        status: "CREATED",
        regionId: input.regionId,
        createdAt: now,
        sourceVaultId: source.id,
        replication: {
          create: {
            sourceRegionId: source.regionId,
            targetRegionId: input.regionId,
            historicalSyncStatus: "SCHEDULED",
            historicalSyncScheduledAt: scheduledAt,
            historicalBackupTotal,
            createdAt: now,
          },
        },
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new Conflict(`vault "${source.name}" already has a mirror vault; a source has at most one mirror`);
    }
    // The source went away between the check and the insert.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2003") {
      throw new FailedPrecondition("the source vault is being deleted; it can no longer be mirrored");
    }
    throw error;
  }
  // The Replication row is the promise; if this add is lost, the reconciler re-adds it.
  await scheduleHistoricalSync(ports, mirror.id, input.regionId, scheduledAt).catch((error) => {
    console.error(`[mirror] could not queue the historical sync of ${mirror.id}: ${(error as Error).message}`);
  });
  // A backup that completed while the mirror row was being written saw no mirror: copy it now (R8), not later.
  await enqueueMissingCopies(ports, mirror.id, input.regionId).catch((error) => {
    console.error(`[mirror] could not queue missed copies for ${mirror.id}: ${(error as Error).message}`);
  });
  return mirror;
}

/**
 * R18: deleting a mirror cancels its pending sync jobs and removes its copies' manifests from the mirror region.
 * Called before the mirror's row goes, it reads what it needs: the manifests to remove (a PendingCleanup record the
 * deletion commits with the row) and the job removal to run once the row is gone. If the delete is refused,
 * nothing was touched.
 */
export async function teardownMirror(ports: Pick<Ports, "db" | "queues">, mirrorVaultId: string) {
  const { db, queues } = ports;
  const mirror = await db.vault.findUnique({
    where: { id: mirrorVaultId },
    select: { regionId: true, sourceVaultId: true },
  });
  if (!mirror) return { cleanup: [] as CleanupItem[], removeJobs: async () => {} };
  const pending = mirror.sourceVaultId
    ? await db.backup.findMany({
        where: { vaultId: mirror.sourceVaultId, copies: { none: { mirrorVaultId } } },
        select: { id: true },
      })
    : [];
  const copies = await db.backupCopy.findMany({ where: { mirrorVaultId }, select: { backupId: true } });
  return {
    cleanup: [{ regionId: mirror.regionId, backupIds: copies.map((copy) => copy.backupId) }],
    // A job left behind (a crash before this ran) finds the mirror gone and does nothing.
    removeJobs: async () => {
      await queues.remove(mirror.regionId, "sync", jobIds.historicalSync(mirrorVaultId));
      for (const backup of pending) await queues.remove(mirror.regionId, "sync", jobIds.copy(backup.id, mirrorVaultId));
    },
  };
}
