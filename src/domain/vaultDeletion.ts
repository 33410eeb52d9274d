import { Prisma } from "../generated/prisma/client.ts";
import { log } from "../log/index.ts";
import { FailedPrecondition } from "./errors.ts";
import { teardownMirror } from "./mirrors/mirrorVaults.ts";
import type { Ports } from "./ports.ts";
import { ACTIVE_RESTORE_STATUSES, assertDeletable, findVault } from "./vaults.ts";

/**
 * R7/R18: a source with a mirror, or a vault an active restore or a registered instance uses, stays. The row and
 * its finished restores go in one transaction; the foreign keys refuse it if a mirror, an instance or an active
 * restore appeared since the check. Storage is cleaned afterwards (chunks are reclaimed by the storage GC).
 */
export async function deleteVault(ports: Pick<Ports, "db" | "queues" | "storage">, accountId: string, vaultId: string) {
  const { db } = ports;
  const vault = await findVault(db, accountId, vaultId);
  await assertDeletable(db, vault);
  const cleanupMirror = vault.kind === "MIRROR" ? await teardownMirror(ports, vaultId) : null;
  const ownBackups = await db.backup.findMany({ where: { vaultId }, select: { id: true } });
  try {
    await db.$transaction([
      db.restore.deleteMany({ where: { mirrorVaultId: vaultId, status: { notIn: [...ACTIVE_RESTORE_STATUSES] } } }),
      db.vault.delete({ where: { id: vaultId } }),
    ]);
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2003") {
      throw new FailedPrecondition("the vault gained a mirror, an instance or an active restore meanwhile; try again");
    }
    throw error;
  }
  const store = ports.storage.region(vault.regionId);
  for (const backup of ownBackups) await store.deleteBackup(backup.id).catch(logCleanupError);
  await cleanupMirror?.().catch(logCleanupError);
}

function logCleanupError(error: unknown) {
  log.warn({ err: error }, "clean-up after deletion failed; the storage GC reclaims what is left");
}
