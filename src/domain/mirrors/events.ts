// The outbox events of mirrors: a historical sync's end (written in the transaction that writes COMPLETED/FAILED)
// and a copy to the mirror that failed for good. Facts are ids and counts, never a secret.
import type { Prisma } from "../../generated/prisma/client.ts";
import { recordEvent } from "../events/outbox.ts";

type EventWriter = Pick<Prisma.TransactionClient, "vault" | "domainEvent">;

/** HISTORICAL_SYNC_COMPLETED or _FAILED for each mirror, inside the transaction that ended its sync. */
export async function recordHistoricalSyncEnded(
  tx: EventWriter,
  mirrorVaultIds: string[],
  outcome: { failed: false } | { failed: true; message: string },
): Promise<void> {
  if (!mirrorVaultIds.length) return;
  const mirrors = await tx.vault.findMany({
    where: { id: { in: mirrorVaultIds } },
    select: {
      id: true,
      accountId: true,
      regionId: true,
      sourceVaultId: true,
      replication: { select: { historicalBackupTotal: true, historicalBackupDone: true } },
    },
  });
  // One statement for all of them: a region sweep may end thousands of syncs at once.
  await tx.domainEvent.createMany({
    data: mirrors.map((mirror) => ({
      accountId: mirror.accountId,
      type: outcome.failed ? ("HISTORICAL_SYNC_FAILED" as const) : ("HISTORICAL_SYNC_COMPLETED" as const),
      data: {
        mirrorVaultId: mirror.id,
        sourceVaultId: mirror.sourceVaultId,
        regionId: mirror.regionId,
        backupsTotal: mirror.replication?.historicalBackupTotal ?? 0,
        backupsCopied: mirror.replication?.historicalBackupDone ?? 0,
        ...(outcome.failed ? { message: outcome.message } : {}),
      },
    })),
  });
}

/**
 * COPY_FAILED once per backup and mirror: the copy job used its last attempt. The reconciler tries the copy again
 * later, and a second final failure of the same copy is not news.
 */
export async function recordCopyFailed(
  db: Pick<Prisma.TransactionClient, "vault" | "domainEvent">,
  backupId: string,
  mirrorVaultId: string,
  message: string,
): Promise<void> {
  const mirror = await db.vault.findUnique({
    where: { id: mirrorVaultId },
    select: { accountId: true, regionId: true, sourceVaultId: true },
  });
  if (!mirror) return;
  const already = await db.domainEvent.count({
    where: {
      type: "COPY_FAILED",
      accountId: mirror.accountId,
      AND: [
        { data: { path: ["backupId"], equals: backupId } },
        { data: { path: ["mirrorVaultId"], equals: mirrorVaultId } },
      ],
    },
  });
  if (already) return;
  await recordEvent(db, {
    accountId: mirror.accountId,
    type: "COPY_FAILED",
    data: { backupId, mirrorVaultId, sourceVaultId: mirror.sourceVaultId, regionId: mirror.regionId, message },
  });
}
