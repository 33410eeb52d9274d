// Backups into SOURCE vaults (R6): starting one (the RUNNING row is the promise), taking it on the region's worker,
// and the automatic LOG backups every instance gets.
import { HanaPreconditionError } from "../hana/connector.ts";
import { log } from "../log/index.ts";
import { jobIds } from "../queue/queues.ts";
import { FailedPrecondition, firstLineOf, InvalidInput } from "./errors.ts";
import { findInstance } from "./hanaInstances.ts";
import { enqueueCopiesOf } from "./mirrors/copies.ts";
import type { Ports } from "./ports.ts";
import { isUniqueViolation } from "./vaults.ts";
import { type WorkLease, withWorkLease, workKeys } from "./workLease.ts";

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
  ports: Pick<Ports, "db" | "hana" | "queues" | "clock">,
  accountId: string,
  input: { instanceId: string; databaseName: string; type: BackupType },
) {
  const { db } = ports;
  const instance = await findInstance(ports, accountId, input.instanceId);
  if (instance.status !== "INITIALIZED") {
    throw new FailedPrecondition(`the instance is ${instance.status}; backups need an INITIALIZED instance`);
  }
  const vault = await db.vault.findUniqueOrThrow({ where: { id: instance.vaultId } });
  if (vault.kind !== "SOURCE") throw InvalidInput.field(["input", "instanceId"], "backups go only into source vaults");
  if (vault.status !== "CREATED") throw new FailedPrecondition(`the vault is ${vault.status}; it must be CREATED`);
  const database = await ports.hana.getDatabase(instance.id, input.databaseName);
  if (!database) {
    const names = (await ports.hana.listDatabases(instance.id)).map((d) => d.name).join(", ");
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
  return queueBackup(ports, { ...instance, accountId }, database.name, input.type);
}

/**
 * The Backup row (RUNNING) is the promise; the region's backup worker fulfils it. Its HANA backup id is epoch
 * milliseconds like HANA's, but unique per instance: two backups started in one millisecond get consecutive ids.
 */
export async function queueBackup(
  ports: Pick<Ports, "db" | "queues" | "clock">,
  instance: { id: string; accountId: string; vaultId: string; regionId: string },
  databaseName: string,
  type: BackupType,
) {
  for (let attempt = 0; ; attempt++) {
    const now = ports.clock.now();
    const newest = await ports.db.backup.findFirst({
      where: { instanceId: instance.id },
      orderBy: { hanaBackupId: "desc" },
      select: { hanaBackupId: true },
    });
    const id = BigInt(now.getTime());
    const hanaBackupId = newest && newest.hanaBackupId >= id ? newest.hanaBackupId + 1n : id;
    try {
      const backup = await ports.db.backup.create({
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
      await enqueueBackup(ports, instance.regionId, backup.id);
      return backup;
    } catch (error) {
      // Another backup of the instance took this id in the same instant: take the next one.
      if (!isUniqueViolation(error) || attempt >= 5) throw error;
    }
  }
}

export async function enqueueBackup(ports: Pick<Ports, "queues">, regionId: string, backupId: string) {
  await ports.queues
    .ensure(regionId, "backup", "backup", { backupId }, { jobId: jobIds.backup(backupId) })
    .catch((error) => log.warn({ err: error, backupId }, "could not queue the backup; the reconciler will"));
}

/**
 * Takes a RUNNING backup from the cluster into the source vault's regional storage and completes its row with size,
 * positions, coversUntil and the digest catalog; then starts its real-time copy (R8). A refusal by the cluster
 * (`HanaPreconditionError`) fails the backup for good; anything else is left to the job's retries (the row says
 * why meanwhile). One run at a time (WorkLease): WorkBusy when another run holds it.
 */
export async function takeBackup(
  ports: Pick<Ports, "db" | "hana" | "storage" | "events" | "queues" | "clock" | "config">,
  backupId: string,
): Promise<"taken" | "refused" | "not running"> {
  return withWorkLease(ports, workKeys.backup(backupId), async (lease) => {
    try {
      return await takeBackupHolding(ports, backupId, lease);
    } catch (error) {
      if (lease.signal.aborted) throw lease.signal.reason;
      await ports.db.backup
        .updateMany({
          where: { id: backupId, status: "RUNNING" },
          data: { message: `attempt failed, retrying: ${firstLineOf(error)}` },
        })
        .catch(() => null);
      throw error;
    }
  });
}

async function takeBackupHolding(
  ports: Pick<Ports, "db" | "hana" | "storage" | "events" | "queues" | "clock">,
  backupId: string,
  lease: WorkLease,
): Promise<"taken" | "refused" | "not running"> {
  const { db } = ports;
  const backup = await db.backup.findUnique({ where: { id: backupId }, include: { vault: true } });
  if (backup?.status !== "RUNNING") return "not running";
  const store = ports.storage.region(backup.vault.regionId);
  let taken: Awaited<ReturnType<typeof ports.hana.backup>>;
  try {
    taken = await ports.hana.backup(backup.instanceId, backup.databaseName, backup.type);
  } catch (error) {
    if (!(error instanceof HanaPreconditionError)) throw error;
    await failBackup(ports, backup.id, error.message);
    return "refused";
  }
  const manifest = await store.writeBackup(backup.id, taken.stream, { signal: lease.signal });
  await db.$transaction(async (tx) => {
    await lease.hold(tx);
    await tx.backup.update({
      where: { id: backup.id },
      data: {
        status: "COMPLETE",
        message: null,
        completedAt: ports.clock.now(),
        sizeBytes: BigInt(manifest.sizeBytes),
        logPositionStart: taken.logPositionStart,
        logPositionEnd: taken.logPositionEnd,
        coversUntil: taken.coversUntil,
        basePosition: taken.basePosition,
      },
    });
    await tx.catalogEntry.createMany({
      data: taken.catalog.map((point) => ({
        backupId: backup.id,
        logPosition: point.logPosition,
        commitTime: point.commitTime,
        digest: point.digest,
      })),
      skipDuplicates: true,
    });
  });
  await taken.commit();
  await ports.events.publish("backup:updated", backup.id);
  await enqueueCopiesOf(ports, backup.id);
  return "taken";
}

/** After the last retry (or at once for a refusal), the row says FAILED and why. */
export async function failBackup(ports: Pick<Ports, "db" | "events" | "clock">, backupId: string, message: string) {
  await ports.db.backup.updateMany({
    where: { id: backupId, status: "RUNNING" },
    data: { status: "FAILED", message, completedAt: ports.clock.now() },
  });
  await ports.events.publish("backup:updated", backupId);
}

/** Reconciler step: re-queues every RUNNING backup of `regionIds` (a no-op for one whose job still exists). */
export async function reconcileRunningBackups(ports: Pick<Ports, "db" | "queues">, regionIds: string[]) {
  const running = await ports.db.backup.findMany({
    where: { status: "RUNNING", vault: { regionId: { in: regionIds } } },
    select: { id: true, vault: { select: { regionId: true } } },
  });
  for (const backup of running) await enqueueBackup(ports, backup.vault.regionId, backup.id);
}
