// Automatic LOG backups: a job scheduler per instance (every logBackupIntervalSeconds, 900 s like HANA's default)
// on the instance's region, so the point-in-time chain grows without anyone calling a mutation.
import { jobIds } from "../queue/queues.ts";
import { queueBackup } from "./backups.ts";
import type { Ports } from "./ports.ts";

export async function scheduleLogBackups(
  ports: Pick<Ports, "queues">,
  instance: { id: string; regionId: string; logBackupIntervalSeconds: number },
) {
  await ports.queues.upsertScheduler(
    instance.regionId,
    "backup",
    jobIds.logBackupScheduler(instance.id),
    instance.logBackupIntervalSeconds * 1000,
    { name: "logBackup", data: { instanceId: instance.id } },
  );
}

/** One tick: a LOG backup of every database that has a COMPLETE backup and new commits since its last LOG backup. */
export async function runScheduledLogBackups(
  ports: Pick<Ports, "db" | "hana" | "queues" | "clock">,
  instanceId: string,
) {
  const { db } = ports;
  const instance = await db.hanaInstance.findUnique({ where: { id: instanceId }, include: { vault: true } });
  if (instance?.status !== "INITIALIZED" || instance.vault.status !== "CREATED") return;
  for (const database of await ports.hana.listDatabases(instance.id)) {
    if (!database.running) continue;
    const [complete, lastLog, running] = await Promise.all([
      db.backup.findFirst({
        where: { instanceId: instance.id, databaseName: database.name, type: "COMPLETE", status: "COMPLETE" },
        select: { id: true },
      }),
      db.backup.findFirst({
        where: { instanceId: instance.id, databaseName: database.name, status: "COMPLETE" },
        orderBy: { logPositionEnd: "desc" },
        select: { logPositionEnd: true },
      }),
      db.backup.count({
        where: { instanceId: instance.id, databaseName: database.name, type: "LOG", status: "RUNNING" },
      }),
    ]);
    if (!complete || running || (lastLog && lastLog.logPositionEnd >= database.logPosition)) continue;
    await queueBackup(ports, instance, database.name, "LOG");
  }
}
