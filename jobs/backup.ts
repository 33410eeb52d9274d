// `<region>.backup` / backup: takes a backup from the cluster into the source vault's regional storage and
// completes its row with size, positions, coversUntil and the digest catalog; then starts its real-time copy (R8).
import { type Job, UnrecoverableError } from "bullmq";
import { enqueueCopiesOf } from "../src/domain/replication.ts";
import { HanaPreconditionError } from "../src/hana/connector.ts";
import type { Services } from "../src/services.ts";

export async function runBackup(services: Services, job: Job<{ backupId: string }>) {
  const { db } = services;
  const backup = await db.backup.findUnique({ where: { id: job.data.backupId }, include: { vault: true } });
  if (!backup || backup.status !== "RUNNING") return;
  const store = services.storage.region(backup.vault.regionId);
  const taken = await services.hana.backup(backup.instanceId, backup.databaseName, backup.type).catch(async (error) => {
    if (!(error instanceof HanaPreconditionError)) throw error;
    await failBackup(services, backup.id, error.message);
    throw new UnrecoverableError(error.message);
  });
  const manifest = await store.writeBackup(backup.id, taken.stream);
  await db.$transaction(async (tx) => {
    await tx.backup.update({
      where: { id: backup.id },
      data: {
        status: "COMPLETE",
        completedAt: new Date(),
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
  await services.events.publish("backup:updated", backup.id, { id: backup.id });
  await enqueueCopiesOf(services, backup.id);
}

/** After the last retry (or at once for a refusal), the row says FAILED and why. */
export async function failBackup(services: Services, backupId: string, message: string) {
  await services.db.backup.updateMany({
    where: { id: backupId, status: "RUNNING" },
    data: { status: "FAILED", message, completedAt: new Date() },
  });
  await services.events.publish("backup:updated", backupId, { id: backupId });
}
