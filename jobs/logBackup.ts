// Automatic LOG backups: a BullMQ job scheduler per instance (every logBackupIntervalSeconds, 900 s like HANA's
// default) on the instance's region, so the point-in-time chain grows without anyone calling a mutation.
import type { Job } from "bullmq";
import { queueBackup } from "../src/domain/backups.ts";
import { jobIds } from "../src/queue/queues.ts";
import type { Services } from "../src/services.ts";

export async function scheduleLogBackups(
  services: Services,
  instance: { id: string; regionId: string; logBackupIntervalSeconds: number },
) {
  await services.queues
    .get(instance.regionId, "backup")
    .upsertJobScheduler(
      jobIds.logBackupScheduler(instance.id),
      { every: instance.logBackupIntervalSeconds * 1000 },
      { name: "logBackup", data: { instanceId: instance.id } },
    );
}

/** One tick: a LOG backup of every database that has a COMPLETE backup and new commits since its last LOG backup. */
export async function runScheduledLogBackups(services: Services, job: Job<{ instanceId: string }>) {
  const { db } = services;
  const instance = await db.hanaInstance.findUnique({ where: { id: job.data.instanceId }, include: { vault: true } });
  if (!instance || instance.status !== "INITIALIZED" || instance.vault.status !== "CREATED") return;
  for (const database of await services.hana.listDatabases(instance.id)) {
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
    await queueBackup(services, instance, database.name, "LOG");
  }
}
