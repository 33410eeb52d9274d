// What the rest of the system learns about finished and unfinished restores outside a run.

import { OUTBOX_TRANSACTION } from "../events/transaction.ts";
import type { Ports } from "../ports.ts";
import { ACTIVE_RESTORE_STATUSES } from "../vaults.ts";
import { recordRestoreEnded } from "./events.ts";

/**
 * After the job's last attempt: FAILED with the reason, and the target database free again (R15). Never while a run
 * holds a live lease (it decides the outcome itself); a cancel that was answered ends CANCELED instead.
 */
export async function failRestore(ports: Pick<Ports, "db" | "events" | "clock">, restoreId: string, reason: string) {
  const now = ports.clock.now();
  const free = { OR: [{ leaseOwner: null }, { leaseExpiresAt: { lt: now } }] };
  const end = { completedAt: now, activeTarget: null, leaseOwner: null, leaseExpiresAt: null };
  await ports.db.$transaction(async (tx) => {
    const canceled = await tx.restore.updateMany({
      where: { id: restoreId, status: "CANCELING", ...free },
      data: {
        status: "CANCELED",
        phase: "CANCELED",
        message: `canceled; the last attempt had failed: ${reason}`,
        ...end,
      },
    });
    const failed = await tx.restore.updateMany({
      where: { id: restoreId, status: { in: [...ACTIVE_RESTORE_STATUSES] }, ...free },
      data: { status: "FAILED", phase: "DONE", message: reason, ...end },
    });
    // With its outbox event (webhooks), only when a write here ended the restore.
    if (canceled.count || failed.count) await recordRestoreEnded(tx, restoreId);
  }, OUTBOX_TRANSACTION);
  await ports.events.publish("restore:updated", restoreId);
}

/** Restores the database says are unfinished, in the given regions (their mirror's region runs them, R12). */
export async function unfinishedRestores(ports: Pick<Ports, "db">, regionIds: string[]) {
  const rows = await ports.db.restore.findMany({
    where: { status: { in: [...ACTIVE_RESTORE_STATUSES] }, mirrorVault: { regionId: { in: regionIds } } },
    select: { id: true, mirrorVault: { select: { regionId: true } } },
  });
  return rows.map((row) => ({ restoreId: row.id, regionId: row.mirrorVault.regionId }));
}
