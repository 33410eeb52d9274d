import { Prisma } from "../generated/prisma/client.ts";
import type { Services } from "../services.ts";
import { FailedPrecondition } from "./errors.ts";
import { assertDeletable, findVault } from "./vaults.ts";

/** Hooks run before a mirror vault's row goes (cancel its sync jobs, remove its copies: R18). */
export type MirrorTeardown = (services: Services, mirrorVaultId: string) => Promise<void>;
const mirrorTeardowns: MirrorTeardown[] = [];
export function onMirrorDeleted(teardown: MirrorTeardown) {
  mirrorTeardowns.push(teardown);
}

/** R7/R18: a source with a mirror, or a vault an active restore or a registered instance uses, stays. */
export async function deleteVault(services: Services, accountId: string, vaultId: string) {
  const { db } = services;
  const vault = await findVault(db, accountId, vaultId);
  await assertDeletable(db, vault);
  await db.vault.update({ where: { id: vaultId }, data: { status: "DELETING" } });
  try {
    if (vault.kind === "MIRROR") for (const teardown of mirrorTeardowns) await teardown(services, vaultId);
    await db.vault.delete({ where: { id: vaultId } });
  } catch (error) {
    // Whatever stopped the delete, the vault goes back to what it was: never stuck DELETING.
    await db.vault.update({ where: { id: vaultId }, data: { status: vault.status } }).catch(() => {});
    // A mirror or instance created since the check: the foreign keys refuse the delete.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2003") {
      throw new FailedPrecondition("the vault gained a mirror, an instance or a restore meanwhile; try again");
    }
    throw error;
  }
}
