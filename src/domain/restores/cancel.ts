// Reading one restore (R17: only the account's own) and cancelling it.
import { FailedPrecondition, NotFound } from "../errors.ts";
import type { Ports } from "../ports.ts";

export async function findRestore(ports: Pick<Ports, "db">, accountId: string, restoreId: string) {
  const restore = await ports.db.restore.findFirst({ where: { id: restoreId, accountId } });
  if (!restore) throw new NotFound(`no restore with id "${restoreId}"`);
  return restore;
}

/** QUEUED/RUNNING → CANCELING; the worker stops at its next safe point and records CANCELED. */
export async function cancelRestore(ports: Pick<Ports, "db" | "events">, accountId: string, restoreId: string) {
  const { db } = ports;
  const restore = await findRestore(ports, accountId, restoreId);
  const changed = await db.restore.updateMany({
    where: { id: restore.id, status: { in: ["CREATED", "QUEUED", "RUNNING"] } },
    data: { status: "CANCELING", phase: "CANCELING" },
  });
  if (!changed.count) {
    if (restore.status === "CANCELING") return restore;
    throw new FailedPrecondition(`the restore is ${restore.status}; only QUEUED or RUNNING restores can be cancelled`);
  }
  await ports.events.publish("restore:updated", restore.id);
  return db.restore.findUniqueOrThrow({ where: { id: restore.id } });
}
