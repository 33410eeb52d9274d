// The outbox events of a restore's end (RESTORE_COMPLETED/FAILED/CANCELED), written by the transaction that writes
// the terminal status. The facts are ids and plain values a receiver acts on; never a secret.
import type { Prisma } from "../../generated/prisma/client.ts";
import { type EventType, recordEvent } from "../events/outbox.ts";

const EVENT_OF: Record<string, EventType> = {
  COMPLETE: "RESTORE_COMPLETED",
  FAILED: "RESTORE_FAILED",
  CANCELED: "RESTORE_CANCELED",
};

type EventWriter = Pick<Prisma.TransactionClient, "restore" | "domainEvent">;

/** Records the event of the restore's terminal status (inside the transaction that wrote it). */
export async function recordRestoreEnded(tx: EventWriter, restoreId: string): Promise<void> {
  const restore = await tx.restore.findUniqueOrThrow({
    where: { id: restoreId },
    select: {
      accountId: true,
      status: true,
      mirrorVaultId: true,
      targetInstanceId: true,
      targetDatabaseName: true,
      message: true,
      reachedTime: true,
      reachedLogPosition: true,
      validationStatus: true,
    },
  });
  const type = EVENT_OF[restore.status];
  if (!type) return;
  await recordEvent(tx, {
    accountId: restore.accountId,
    type,
    data: {
      restoreId,
      status: restore.status,
      mirrorVaultId: restore.mirrorVaultId,
      targetInstanceId: restore.targetInstanceId,
      targetDatabaseName: restore.targetDatabaseName,
      reachedTime: restore.reachedTime?.toISOString() ?? null,
      reachedLogPosition: restore.reachedLogPosition?.toString() ?? null,
      validation: restore.validationStatus,
      message: restore.message,
    },
  });
}
