import { z } from "zod";
import type { Db } from "../db/types.ts";
import { Prisma } from "../generated/prisma/client.ts";
import { checkRpoTarget, forgetRpoStates } from "./assurance/rpo.ts";
import { Conflict, FailedPrecondition, NotFound } from "./errors.ts";

// R4: names are 1..32 characters after trimming; descriptions at most 255.
export const vaultName = z
  .string()
  .trim()
  .min(1, "name must not be empty")
  .max(32, "name must be at most 32 characters (after trimming)");
export const vaultDescription = z.string().max(255, "description must be at most 255 characters");

/** A restore in one of these still uses its mirror vault and instances (R15, R18); the worker drives them to an end. */
export const ACTIVE_RESTORE_STATUSES = ["CREATED", "QUEUED", "RUNNING", "CANCELING"] as const;
/** A restore in one of these is over. */
export const TERMINAL_RESTORE_STATUSES = ["COMPLETE", "PARTIAL_COMPLETE", "FAILED", "CANCELED", "EXPIRED"] as const;

/** The caller's vault, or NOT_FOUND (R17: another account's vault does not exist for this one). */
export async function findVault(db: Db, accountId: string, vaultId: string) {
  const vault = await db.vault.findFirst({ where: { id: vaultId, accountId } });
  if (!vault) throw new NotFound(`no vault with id "${vaultId}"`);
  return vault;
}

export function isUniqueViolation(error: unknown): error is Prisma.PrismaClientKnownRequestError {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

/** A row referred to was deleted meanwhile (a create racing a delete). */
export function isForeignKeyViolation(error: unknown): error is Prisma.PrismaClientKnownRequestError {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2003";
}

/** R1: a backup client comes with its SOURCE vault, in the client's region. */
export async function createBackupClient(
  db: Db,
  accountId: string,
  input: { regionId: string; ecsInstanceId: string; vaultName: string; vaultDescription?: string | null },
) {
  try {
    return await db.$transaction(async (tx) => {
      const vault = await tx.vault.create({
        data: {
          accountId,
          name: input.vaultName,
          description: input.vaultDescription ?? null,
          kind: "SOURCE",
          status: "CREATED",
          regionId: input.regionId,
        },
      });
      const backupClient = await tx.backupClient.create({
        data: { accountId, regionId: input.regionId, ecsInstanceId: input.ecsInstanceId, vaultId: vault.id },
      });
      return { vault, backupClient };
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new Conflict(
        `ECS instance "${input.ecsInstanceId}" already has a backup client in ${input.regionId}; use its vault`,
      );
    }
    throw error;
  }
}

export async function updateVault(
  db: Db,
  accountId: string,
  vaultId: string,
  changes: { name?: string | null; description?: string | null; rpoTargetSeconds?: number | null },
) {
  const vault = await findVault(db, accountId, vaultId);
  checkRpoTarget(vault, changes.rpoTargetSeconds);
  const clearsTarget = changes.rpoTargetSeconds === null;
  const [updated] = await db.$transaction([
    db.vault.update({
      where: { id: vaultId },
      data: {
        ...(changes.name != null ? { name: changes.name } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
        ...(changes.rpoTargetSeconds !== undefined ? { rpoTargetSeconds: changes.rpoTargetSeconds } : {}),
      },
    }),
    // No target, no breach to end: the next target starts from what it sees.
    ...(clearsTarget ? [forgetRpoStates(db, vaultId)] : []),
  ]);
  return updated;
}

/** Why a vault can't be deleted now, or null (R7, R18). */
export async function deletionBlocker(db: Db, vault: { id: string; kind: string }): Promise<string | null> {
  const [mirror, instances, activeRestores] = await Promise.all([
    db.vault.findUnique({ where: { sourceVaultId: vault.id }, select: { id: true, name: true } }),
    db.hanaInstance.count({ where: { vaultId: vault.id } }),
    db.restore.count({ where: { mirrorVaultId: vault.id, status: { in: [...ACTIVE_RESTORE_STATUSES] } } }),
  ]);
  if (mirror) return `vault has a mirror vault ("${mirror.name}"); delete the mirror first`;
  if (activeRestores) return `an active restore reads from this mirror vault; wait for it or cancel it first`;
  if (instances) return `${instances} SAP HANA instance(s) are registered on this vault; delete them first`;
  return null;
}

export async function assertDeletable(db: Db, vault: { id: string; kind: string }) {
  const blocker = await deletionBlocker(db, vault);
  if (blocker) throw new FailedPrecondition(blocker);
}
