// restorePlan (dry run) and restoreFromMirror share one path: resolve the input, plan from the mirrored backups,
// then (for a real restore) apply the target rules and queue the job on the mirror region's worker (R12).
import { createHash } from "node:crypto";
import { jobIds } from "../queue/queues.ts";
import type { Ports } from "./ports.ts";

type Services = Ports;

import { decodeId } from "../api/ids.ts";
import { Conflict, FailedPrecondition, InvalidInput, NotFound } from "./errors.ts";
import { findInstance } from "./hanaInstances.ts";
import { type CatalogRow, checkTargetDatabaseName, planRestore, type RestorePlan } from "./restorePlanner.ts";
import { findVault } from "./vaults.ts";

export type RestoreInput = {
  mirrorVaultId: string;
  sourceInstanceId: string;
  sourceDatabaseName: string;
  targetInstanceId: string;
  targetDatabaseName?: string | null;
  mode:
    | "RECOVERY_TO_MOST_RECENT"
    | "RECOVERY_TO_POINT_IN_TIME"
    | "RECOVERY_TO_SPECIFIC_BACKUP"
    | "RECOVERY_TO_LOG_POSITION";
  pointInTime?: Date | null;
  backupId?: string | null;
  logPosition?: bigint | null;
  useDelta?: boolean | null;
  checkAccess?: boolean | null;
  overwrite?: boolean | null;
  idempotencyKey?: string | null;
};

/** The plan as stored on the Restore row (JSON: bigints and dates as strings). */
export type StoredPlan = {
  steps: { order: number; backupId: string; action: string }[];
  targetTime: string | null;
  targetLogPosition: string;
  totalBytes: string;
  recoverStatement: string;
};

export function storePlan(plan: RestorePlan): StoredPlan {
  return {
    steps: plan.steps,
    targetTime: plan.targetTime?.toISOString() ?? null,
    targetLogPosition: plan.targetLogPosition.toString(),
    totalBytes: plan.totalBytes.toString(),
    recoverStatement: plan.recoverStatement,
  };
}

/** Resolves ids and checks R10/R11/R17 and the database names; returns everything the planner and the job need. */
async function resolveRestore(services: Services, accountId: string, input: RestoreInput) {
  const { db } = services;
  const mirror = await findVault(db, accountId, decodeId("Vault", input.mirrorVaultId, ["input", "mirrorVaultId"]));
  if (mirror.kind !== "MIRROR" || !mirror.sourceVaultId) {
    throw InvalidInput.field(["input", "mirrorVaultId"], "restores read from a mirror vault; this is a source vault");
  }
  if (mirror.status !== "CREATED")
    throw new FailedPrecondition(`the mirror vault is ${mirror.status}; it can't be restored from now`);
  const source = await findInstance(
    services,
    accountId,
    decodeId("HanaInstance", input.sourceInstanceId, ["input", "sourceInstanceId"]),
  );
  if (source.vaultId !== mirror.sourceVaultId) {
    throw InvalidInput.field(
      ["input", "sourceInstanceId"],
      "this instance does not back up into the mirror's source vault",
    );
  }
  const target = await findInstance(
    services,
    accountId,
    decodeId("HanaInstance", input.targetInstanceId, ["input", "targetInstanceId"]),
  );
  if (target.regionId !== mirror.regionId) {
    throw InvalidInput.field(
      ["input", "targetInstanceId"],
      `the target instance is in ${target.regionId}; register a target instance in the mirror's region ${mirror.regionId}`,
    );
  }
  if (target.status !== "INITIALIZED") {
    throw new FailedPrecondition(`the target instance is ${target.status}; wait until it is INITIALIZED`);
  }
  // SAP HANA folds unquoted database names to upper case: "pr1" and "PR1" are one database (R15 depends on it).
  const sourceDatabaseName = input.sourceDatabaseName.toUpperCase();
  const targetDatabaseName = (input.targetDatabaseName ?? input.sourceDatabaseName).toUpperCase();
  checkTargetDatabaseName(sourceDatabaseName, targetDatabaseName);
  const replication = await db.replication.findUnique({ where: { mirrorVaultId: mirror.id } });
  const backups = await db.backup.findMany({
    where: { instanceId: source.id, databaseName: sourceDatabaseName, vaultId: mirror.sourceVaultId },
    include: { copies: { where: { mirrorVaultId: mirror.id }, select: { copiedAt: true } } },
  });
  if (!backups.length) {
    throw InvalidInput.field(
      ["input", "sourceDatabaseName"],
      `there are no backups of ${sourceDatabaseName} from instance ${source.sid}`,
    );
  }
  const backupId = input.backupId ? decodeId("Backup", input.backupId, ["input", "backupId"]) : null;
  const plan = await planRestore(
    backups.map((b) => ({ ...b, mirrored: b.copies.length > 0 })),
    {
      mode: input.mode,
      pointInTime: input.pointInTime,
      backupId,
      logPosition: input.logPosition,
      useDelta: input.useDelta ?? true,
      sourceDatabaseName,
      sourceSid: source.sid,
      targetDatabaseName,
      crossSystem: true,
      checkAccess: input.checkAccess ?? true,
      historicalSyncScheduledAt: replication?.historicalSyncScheduledAt ?? null,
      historicalSyncStatus: replication?.historicalSyncStatus ?? null,
      now: new Date(),
    },
    async (ids) => {
      const rows = await db.catalogEntry.findMany({
        where: { backupId: { in: ids } },
        orderBy: { logPosition: "asc" },
      });
      const byBackup = new Map<string, CatalogRow[]>();
      for (const row of rows) byBackup.set(row.backupId, [...(byBackup.get(row.backupId) ?? []), row]);
      return byBackup;
    },
  );
  return { mirror, source, target, sourceDatabaseName, targetDatabaseName, plan, backupId };
}

export async function planRestoreFor(services: Services, accountId: string, input: RestoreInput) {
  return (await resolveRestore(services, accountId, input)).plan;
}

function inputHash(input: RestoreInput): string {
  const { idempotencyKey: _ignored, ...rest } = input;
  return createHash("sha256")
    .update(JSON.stringify(rest, (_k, v) => (typeof v === "bigint" ? v.toString() : v)))
    .digest("hex");
}

/** R15 and idempotency, then the Restore row (the promise) and its job on the mirror region's worker (R12). */
export async function restoreFromMirror(services: Services, accountId: string, input: RestoreInput) {
  const { db } = services;
  const hash = inputHash(input);
  if (input.idempotencyKey) {
    const existing = await db.restore.findUnique({
      where: { accountId_idempotencyKey: { accountId, idempotencyKey: input.idempotencyKey } },
    });
    if (existing) {
      if (existing.inputHash !== hash) throw new Conflict("this idempotencyKey was used with a different input");
      return existing;
    }
  }
  const { mirror, source, target, sourceDatabaseName, targetDatabaseName, plan, backupId } = await resolveRestore(
    services,
    accountId,
    input,
  );
  const existingDb = await services.hana.getDatabase(target.id, targetDatabaseName);
  if (existingDb && !input.overwrite) {
    throw new Conflict(
      `database ${targetDatabaseName} already exists on ${target.sid}; pass overwrite: true to replace it, or choose another targetDatabaseName`,
    );
  }
  const activeTarget = `${target.id}/${targetDatabaseName}`;
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
        backupId: input.mode === "RECOVERY_TO_SPECIFIC_BACKUP" ? backupId : null,
        useDelta: input.useDelta ?? true,
        checkAccess: input.checkAccess ?? true,
        overwrite: input.overwrite ?? false,
        idempotencyKey: input.idempotencyKey ?? null,
        inputHash: hash,
        plan: storePlan(plan),
        status: "QUEUED",
        phase: "QUEUED",
        activeTarget,
      },
    })
    .catch(async (error) => {
      if ((error as { code?: string }).code !== "P2002") throw error;
      if (input.idempotencyKey) {
        const raced = await db.restore.findUnique({
          where: { accountId_idempotencyKey: { accountId, idempotencyKey: input.idempotencyKey } },
        });
        if (raced?.inputHash === hash) return raced;
      }
      throw new Conflict(
        `a restore into ${targetDatabaseName} on ${target.sid} is already active; wait for it or cancel it`,
      );
    });
  await enqueueRestore(services, mirror.regionId, restore.id);
  return restore;
}

export async function enqueueRestore(services: Services, regionId: string, restoreId: string) {
  await services.queues
    .ensure(regionId, "restore", "restore", { restoreId }, { jobId: jobIds.restore(restoreId), attempts: 3 })
    .catch((error) => console.error("[restore] could not queue; the reconciler will", error.message));
}

export async function findRestore(services: Services, accountId: string, restoreId: string) {
  const restore = await services.db.restore.findFirst({ where: { id: restoreId, accountId } });
  if (!restore) throw new NotFound(`no restore with id "${restoreId}"`);
  return restore;
}

/** QUEUED/RUNNING → CANCELING; the worker stops at its next safe point and records CANCELED. */
export async function cancelRestore(services: Services, accountId: string, restoreId: string) {
  const restore = await findRestore(services, accountId, restoreId);
  const changed = await services.db.restore.updateMany({
    where: { id: restore.id, status: { in: ["CREATED", "QUEUED", "RUNNING"] } },
    data: { status: "CANCELING", phase: "CANCELING" },
  });
  if (!changed.count) {
    if (restore.status === "CANCELING") return restore;
    throw new FailedPrecondition(`the restore is ${restore.status}; only QUEUED or RUNNING restores can be cancelled`);
  }
  await services.events.publish("restore:updated", restore.id);
  return services.db.restore.findUniqueOrThrow({ where: { id: restore.id } });
}
