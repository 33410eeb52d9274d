import { jobIds } from "../queue/queues.ts";
import type { Services } from "../services.ts";
import { FailedPrecondition, InvalidInput } from "./errors.ts";
import { findInstance } from "./hanaInstances.ts";
import { isUniqueViolation } from "./vaults.ts";

export type BackupType = "COMPLETE" | "DIFFERENTIAL" | "INCREMENTAL" | "LOG";

const PREFIX: Record<BackupType, string> = {
  COMPLETE: "COMPLETE_DATA_BACKUP",
  DIFFERENTIAL: "DIFFERENTIAL_DATA_BACKUP",
  INCREMENTAL: "INCREMENTAL_DATA_BACKUP",
  LOG: "LOG_BACKUP",
};

/** HANA-style prefix, e.g. COMPLETE_DATA_BACKUP_2026_11_24_10_15 (UTC). */
export function backupPrefix(type: BackupType, at: Date): string {
  const [date, time] = at.toISOString().split("T");
  return `${PREFIX[type]}_${date.replaceAll("-", "_")}_${time.slice(0, 5).replace(":", "_")}`;
}

/**
 * Starts a backup of one database into the instance's SOURCE vault (R6). The Backup row (RUNNING) is the promise;
 * the region's backup worker fulfils it, and the reconciler re-queues it if Redis loses the job.
 */
export async function startHanaBackup(
  services: Services,
  accountId: string,
  input: { instanceId: string; databaseName: string; type: BackupType },
) {
  const { db } = services;
  const instance = await findInstance(services, accountId, input.instanceId);
  if (instance.status !== "INITIALIZED") {
    throw new FailedPrecondition(`the instance is ${instance.status}; backups need an INITIALIZED instance`);
  }
  const vault = await db.vault.findUniqueOrThrow({ where: { id: instance.vaultId } });
  if (vault.kind !== "SOURCE") throw InvalidInput.field(["input", "instanceId"], "backups go only into source vaults");
  if (vault.status !== "CREATED") throw new FailedPrecondition(`the vault is ${vault.status}; it must be CREATED`);
  const database = await services.hana.getDatabase(instance.id, input.databaseName);
  if (!database) {
    const names = (await services.hana.listDatabases(instance.id)).map((d) => d.name).join(", ");
    throw InvalidInput.field(
      ["input", "databaseName"],
      `instance ${instance.sid} has no database "${input.databaseName}"; it has ${names || "none"}`,
    );
  }
  if (!database.running) throw new FailedPrecondition(`database ${database.name} is stopped; start it before a backup`);
  if (input.type !== "COMPLETE") {
    const complete = await db.backup.findFirst({
      where: { instanceId: instance.id, databaseName: database.name, type: "COMPLETE", status: "COMPLETE" },
      select: { id: true },
    });
    if (!complete) {
      throw new FailedPrecondition(
        `a ${input.type} backup needs a COMPLETE backup of ${database.name} first; take one`,
      );
    }
  }
  return queueBackup(services, { ...instance, accountId }, database.name, input.type);
}

/**
 * The Backup row (RUNNING) is the promise; the region's backup worker fulfils it. Its HANA backup id is epoch
 * milliseconds like HANA's, but unique per instance: two backups started in one millisecond get consecutive ids.
 */
export async function queueBackup(
  services: Services,
  instance: { id: string; accountId: string; vaultId: string; regionId: string },
  databaseName: string,
  type: BackupType,
) {
  for (let attempt = 0; ; attempt++) {
    const now = new Date();
    const newest = await services.db.backup.findFirst({
      where: { instanceId: instance.id },
      orderBy: { hanaBackupId: "desc" },
      select: { hanaBackupId: true },
    });
    const id = BigInt(now.getTime());
    const hanaBackupId = newest && newest.hanaBackupId >= id ? newest.hanaBackupId + 1n : id;
    try {
      const backup = await services.db.backup.create({
        data: {
          accountId: instance.accountId,
          vaultId: instance.vaultId,
          instanceId: instance.id,
          databaseName,
          type,
          hanaBackupId,
          prefix: backupPrefix(type, now),
          startedAt: now,
        },
      });
      await enqueueBackup(services, instance.regionId, backup.id);
      return backup;
    } catch (error) {
      // Another backup of the instance took this id in the same instant: take the next one.
      if (!isUniqueViolation(error) || attempt >= 5) throw error;
    }
  }
}

export async function enqueueBackup(services: Services, regionId: string, backupId: string) {
  await services.queues
    .ensure(regionId, "backup", "backup", { backupId }, { jobId: jobIds.backup(backupId) })
    .catch((error) => console.error("[backup] could not queue; the reconciler will", error.message));
}
