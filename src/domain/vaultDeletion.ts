import { Prisma } from "../generated/prisma/client.ts";
import type { Services } from "../services.ts";
import { FailedPrecondition } from "./errors.ts";
import { ACTIVE_RESTORE_STATUSES, assertDeletable, findVault } from "./vaults.ts";

/**
 * Mirror teardown (R18): called before a mirror's row goes, it reads what it needs and returns the clean-up to run
 * once the row is gone (cancel the mirror's sync jobs, delete its copies' manifests). If the delete is refused,
 * nothing was touched.
 */
export type MirrorTeardown = (services: Services, mirrorVaultId: string) => Promise<() => Promise<void>>;
const mirrorTeardowns: MirrorTeardown[] = [];
export function onMirrorDeleted(teardown: MirrorTeardown) {
  mirrorTeardowns.push(teardown);
}

/**
 * R7/R18: a source with a mirror, or a vault an active restore or a registered instance uses, stays. The row and
 * its finished restores go in one transaction; the foreign keys refuse it if a mirror, an instance or an active
 * restore appeared since the check. Storage is cleaned afterwards (chunks are reclaimed by the storage GC).
 */
export async function deleteVault(services: Services, accountId: string, vaultId: string) {
  const { db } = services;
  const vault = await findVault(db, accountId, vaultId);
  await assertDeletable(db, vault);
  const cleanups =
    vault.kind === "MIRROR" ? await Promise.all(mirrorTeardowns.map((teardown) => teardown(services, vaultId))) : [];
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
  const store = services.storage.region(vault.regionId);
  for (const backup of ownBackups) await store.deleteBackup(backup.id).catch(logCleanupError);
  for (const cleanup of cleanups) await cleanup().catch(logCleanupError);
}

function logCleanupError(error: unknown) {
  console.error(
    "[delete] clean-up after deletion failed; the storage GC reclaims what is left:",
    (error as Error).message,
  );
}
