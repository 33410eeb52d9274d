import { Prisma } from "../generated/prisma/client.ts";
import { cleanupRecords, runCleanups } from "./cleanups.ts";
import { FailedPrecondition } from "./errors.ts";
import { teardownMirror } from "./mirrors/mirrorVaults.ts";
import type { Ports } from "./ports.ts";
import { ACTIVE_RESTORE_STATUSES, assertDeletable, findVault } from "./vaults.ts";

/**
 * R7/R18: a source with a mirror, or a vault an active restore or a registered instance uses, stays. The row, its
 * finished restores and the record of the storage clean-up it owes go in one transaction; the foreign keys refuse
 * it if a mirror, an instance or an active restore appeared since the check. The clean-up runs right after (or, if
 * this process dies first, from the reconciler); chunks are reclaimed by the storage GC.
 */
export async function deleteVault(
  ports: Pick<Ports, "db" | "queues" | "storage" | "hana">,
  accountId: string,
  vaultId: string,
) {
  const { db } = ports;
  const vault = await findVault(db, accountId, vaultId);
  await assertDeletable(db, vault);
  const mirror = vault.kind === "MIRROR" ? await teardownMirror(ports, vaultId) : null;
  const ownBackups = await db.backup.findMany({ where: { vaultId }, select: { id: true } });
  const records = cleanupRecords([
    { regionId: vault.regionId, backupIds: ownBackups.map((backup) => backup.id) },
    ...(mirror?.cleanup ?? []),
  ]);
  let cleanupIds: string[];
  try {
    cleanupIds = await db.$transaction(async (tx) => {
      await tx.restore.deleteMany({
        where: { mirrorVaultId: vaultId, status: { notIn: [...ACTIVE_RESTORE_STATUSES] } },
      });
      await tx.vault.delete({ where: { id: vaultId } });
      return (await tx.pendingCleanup.createManyAndReturn({ data: records, select: { id: true } })).map((r) => r.id);
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2003") {
      throw new FailedPrecondition("the vault gained a mirror, an instance or an active restore meanwhile; try again");
    }
    throw error;
  }
  await mirror?.removeJobs().catch((error) => console.error("[delete] removing sync jobs:", error.message));
  await runCleanups(ports, cleanupIds);
}
