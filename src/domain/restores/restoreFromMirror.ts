// restoreFromMirror: idempotency, the target rules, then the Restore row (the promise) and its job on a worker of
// the mirror's region (R12).
import { createHash } from "node:crypto";
import { log } from "../../log/index.ts";
import { jobIds } from "../../queue/queues.ts";
import { scratchOwner } from "../assurance/drills.ts";
import { Conflict, NotFound } from "../errors.ts";
import type { Ports } from "../ports.ts";
import { isForeignKeyViolation, isUniqueViolation } from "../vaults.ts";
import { type RestoreInput, resolveRestore } from "./request.ts";
import { storePlan } from "./storedPlan.ts";
import { activeTargetKey, checkOverwrite, targetBusy } from "./targetRules.ts";

export type CreatePorts = Pick<Ports, "db" | "hana" | "queues" | "clock">;

function inputHash(input: RestoreInput): string {
  const { idempotencyKey: _ignored, ...rest } = input;
  return createHash("sha256")
    .update(JSON.stringify(rest, (_k, v) => (typeof v === "bigint" ? v.toString() : v)))
    .digest("hex");
}

/** `drillId`: the restore is that drill's run, into the scratch tenant it owns. */
export async function restoreFromMirror(
  ports: CreatePorts,
  accountId: string,
  input: RestoreInput,
  options: { drillId?: string } = {},
) {
  const { db } = ports;
  const hash = inputHash(input);
  const byKey = (idempotencyKey: string) =>
    db.restore.findUnique({ where: { accountId_idempotencyKey: { accountId, idempotencyKey } } });
  if (input.idempotencyKey) {
    const existing = await byKey(input.idempotencyKey);
    if (existing) {
      if (existing.inputHash !== hash) throw new Conflict("this idempotencyKey was used with a different input");
      return existing;
    }
  }
  const { mirror, source, target, sourceDatabaseName, targetDatabaseName, plan } = await resolveRestore(
    ports,
    accountId,
    input,
  );
  const drill = await scratchOwner(db, target.id, targetDatabaseName);
  if (drill && drill.id !== options.drillId) {
    throw new Conflict(
      `${targetDatabaseName} on ${target.sid} is the scratch tenant of restore drill "${drill.name}"; choose another ` +
        "targetDatabaseName, or delete the drill first",
    );
  }
  await checkOverwrite(ports.hana, target, targetDatabaseName, input.overwrite ?? false);
  const restore = await db.restore
    .create({
      data: {
        accountId,
        mirrorVaultId: mirror.id,
        sourceInstanceId: source.id,
        sourceDatabaseName,
        targetInstanceId: target.id,
        targetDatabaseName,
        mode: input.mode,
        // Only what the mode uses is kept.
        pointInTime: input.mode === "RECOVERY_TO_POINT_IN_TIME" ? (input.pointInTime ?? null) : null,
        logPosition: input.mode === "RECOVERY_TO_LOG_POSITION" ? (input.logPosition ?? null) : null,
        backupId: input.mode === "RECOVERY_TO_SPECIFIC_BACKUP" ? (input.backupId ?? null) : null,
        useDelta: input.useDelta ?? true,
        checkAccess: input.checkAccess ?? true,
        overwrite: input.overwrite ?? false,
        idempotencyKey: input.idempotencyKey ?? null,
        inputHash: hash,
        plan: storePlan(plan),
        status: "QUEUED",
        phase: "QUEUED",
        activeTarget: activeTargetKey(target.id, targetDatabaseName),
      },
    })
    .catch(async (error) => {
      // The mirror, an instance or the backup was deleted after the checks above.
      if (isForeignKeyViolation(error)) throw new NotFound("the mirror, an instance or the backup was just deleted");
      if (!isUniqueViolation(error)) throw error;
      // The same idempotencyKey raced us, or the target database is taken (R15).
      const raced = input.idempotencyKey ? await byKey(input.idempotencyKey) : null;
      if (raced?.inputHash === hash) return raced;
      throw targetBusy(target, targetDatabaseName);
    });
  await enqueueRestore(ports, mirror.regionId, restore.id);
  return restore;
}

/** Queues the restore on the mirror region's workers; a failure is left to the reconciler (the row is the promise). */
export async function enqueueRestore(ports: Pick<Ports, "queues">, regionId: string, restoreId: string) {
  await ports.queues
    .ensure(regionId, "restore", "restore", { restoreId }, { jobId: jobIds.restore(restoreId), attempts: 3 })
    .catch((error) => log.warn({ err: error, restoreId }, "could not queue the restore; the reconciler will"));
}
