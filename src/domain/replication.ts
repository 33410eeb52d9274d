// Mirror vaults and their replication (R2, R3, R5, R8, R9, R18): creation, the real-time copy of new backups,
// the delayed historical sync's bookkeeping, teardown and what the reconciler re-enqueues. Shared by the
// GraphQL resolvers (src/schema/mirror.ts) and the region workers (jobs/historicalSync.ts, jobs/copyBackup.ts).
import { Prisma } from "../generated/prisma/client.ts";
import { jobIds } from "../queue/queues.ts";
import type { Services } from "../services.ts";
import { copyBackup } from "../storage/copyBackup.ts";
import { Conflict, FailedPrecondition, InvalidInput } from "./errors.ts";
import { onMirrorDeleted } from "./vaultDeletion.ts";
import { findVault, isUniqueViolation } from "./vaults.ts";

export type CreateMirrorInput = {
  sourceVaultId: string;
  regionId: string;
  name: string;
  description?: string | null;
};

/**
 * Creates a MIRROR of a SOURCE vault in another region, with its Replication row (historical sync SCHEDULED at
 * now + HISTORICAL_SYNC_DELAY_MS), then queues the delayed historical sync on the mirror region's sync queue.
 * R3 is the database's unique `sourceVaultId`: concurrent requests race on the insert, one wins.
 */
export async function createMirrorVault(services: Services, accountId: string, input: CreateMirrorInput) {
  const { db, config } = services;
  services.regions.require(input.regionId, ["input", "regionId"]);
  const source = await findVault(db, accountId, input.sourceVaultId);
  if (source.kind !== "SOURCE") {
    throw InvalidInput.field(["input", "sourceVaultId"], "only a SOURCE vault can be mirrored (no mirror of a mirror)");
  }
  if (source.regionId === input.regionId) {
    throw InvalidInput.field(
      ["input", "regionId"],
      `a mirror must be in another region than its source (${source.regionId}); pick a different region`,
    );
  }
  if (source.status !== "CREATED") {
    throw new FailedPrecondition(`the source vault is ${source.status}; only a CREATED vault can be mirrored`);
  }
  const now = new Date();
  const scheduledAt = new Date(now.getTime() + config.historicalSyncDelayMs);
  // Informative only: the historical sync recounts when it starts (a backup may complete meanwhile).
  const historicalBackupTotal = await db.backup.count({
    where: { vaultId: source.id, status: "COMPLETE", completedAt: { lt: now } },
  });
  let mirror: Awaited<ReturnType<typeof db.vault.create>>;
  try {
    // One statement tree, one transaction: the vault and its replication row land together or not at all.
    mirror = await db.vault.create({
      data: {
        accountId,
        name: input.name.trim(),
        description: input.description ?? null,
        kind: "MIRROR",
        status: "CREATED",
        regionId: input.regionId,
        createdAt: now,
        sourceVaultId: source.id,
        replication: {
          create: {
            sourceRegionId: source.regionId,
            targetRegionId: input.regionId,
            historicalSyncStatus: "SCHEDULED",
            historicalSyncScheduledAt: scheduledAt,
            historicalBackupTotal,
            createdAt: now,
          },
        },
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new Conflict(`vault "${source.name}" already has a mirror vault; a source has at most one mirror`);
    }
    // The source went away between the check and the insert.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2003") {
      throw new FailedPrecondition("the source vault is being deleted; it can no longer be mirrored");
    }
    throw error;
  }
  // The Replication row is the promise; if this add is lost, the reconciler re-adds it.
  await scheduleHistoricalSync(services, mirror.id, input.regionId, scheduledAt).catch((error) => {
    console.error(`[mirror] could not queue the historical sync of ${mirror.id}: ${(error as Error).message}`);
  });
  // A backup that completed while the mirror row was being written saw no mirror: copy it now (R8), not later.
  await enqueueMissingCopies(services, mirror.id, input.regionId).catch((error) => {
    console.error(`[mirror] could not queue missed copies for ${mirror.id}: ${(error as Error).message}`);
  });
  return mirror;
}

export async function scheduleHistoricalSync(services: Services, mirrorVaultId: string, regionId: string, at: Date) {
  await services.queues.ensure(
    regionId,
    "sync",
    "historicalSync",
    { mirrorVaultId },
    { jobId: jobIds.historicalSync(mirrorVaultId), delay: Math.max(0, at.getTime() - Date.now()) },
  );
}

async function enqueueCopy(services: Services, regionId: string, backupId: string, mirrorVaultId: string) {
  const jobId = jobIds.copy(backupId, mirrorVaultId);
  await services.queues.ensure(regionId, "sync", "copy", { backupId, mirrorVaultId }, { jobId });
}

/**
 * R8: queues the copy of a completed source backup to its vault's mirror, if the vault has one now. Backups that
 * completed before the mirror was created are the historical sync's; the copy job is idempotent either way.
 */
export async function enqueueCopiesOf(services: Services, backupId: string): Promise<void> {
  const backup = await services.db.backup.findUnique({
    where: { id: backupId },
    select: {
      status: true,
      completedAt: true,
      vault: { select: { mirror: { select: { id: true, regionId: true, status: true, createdAt: true } } } },
    },
  });
  const mirror = backup?.vault.mirror;
  if (backup?.status !== "COMPLETE" || !mirror || mirror.status !== "CREATED") return;
  if (backup.completedAt && backup.completedAt < mirror.createdAt) return;
  await enqueueCopy(services, mirror.regionId, backupId, mirror.id);
}

/**
 * Copies one source backup into the mirror region (only missing chunks, verified) and records the BackupCopy.
 * Returns false when the mirror is gone (or going): then nothing is left behind in the mirror region.
 */
export async function copyToMirror(
  services: Services,
  backupId: string,
  mirrorVaultId: string,
  options: {
    signal?: AbortSignal;
    /** The historical sync's copied count to record with this copy (saves it a write and an event per backup). */
    historicalBackupDone?: number;
  } = {},
): Promise<boolean> {
  const { db, storage } = services;
  const mirror = await db.vault.findUnique({
    where: { id: mirrorVaultId },
    select: { status: true, regionId: true, sourceVaultId: true, sourceVault: { select: { regionId: true } } },
  });
  if (!mirror || mirror.status === "DELETING" || !mirror.sourceVault) return false;
  const backup = await db.backup.findUnique({ where: { id: backupId }, select: { vaultId: true, status: true } });
  if (backup?.status !== "COMPLETE" || backup.vaultId !== mirror.sourceVaultId) return false;
  const target = storage.region(mirror.regionId);
  const result = await copyBackup(storage.region(mirror.sourceVault.regionId), target, backupId, {
    signal: options.signal,
  });
  const now = new Date();
  try {
    await db.$transaction([
      db.backupCopy.upsert({
        where: { backupId_mirrorVaultId: { backupId, mirrorVaultId } },
        create: { backupId, mirrorVaultId, sizeBytes: BigInt(result.sizeBytes), copiedAt: now },
        update: {},
      }),
      db.replication.update({
        where: { mirrorVaultId },
        data: { latestReplicationTime: now, historicalBackupDone: options.historicalBackupDone },
      }),
    ]);
  } catch (error) {
    // The mirror was deleted while the copy ran: its teardown may already have passed, so clean up here.
    if (error instanceof Prisma.PrismaClientKnownRequestError && ["P2003", "P2025"].includes(error.code)) {
      await target.deleteBackup(backupId).catch(() => {});
      return false;
    }
    throw error;
  }
  await services.events.publish("vault:replication", mirrorVaultId, { id: mirrorVaultId });
  return true;
}

export type HistoricalSyncStart = {
  /** The mirror's region (where the copies run). */
  regionId: string;
  status: "RUNNING" | "COMPLETED";
  /** Historical backups (COMPLETE in the source before the mirror was created) and how many have a copy already. */
  total: number;
  done: number;
  /** The historical backups still without a copy, oldest first. */
  todo: string[];
  /** Backups completed since the mirror's creation whose real-time copy is missing (the safety net's backlog). */
  missing: string[];
};

/**
 * R9: starts (or resumes) a mirror's historical sync in one statement: counts the historical backups and their
 * copies, marks the replication RUNNING (keeping the first start time) or straight COMPLETED when nothing is left
 * to copy, and returns what to copy plus the real-time copies that are missing. Null when there is nothing to start:
 * the mirror is gone or going, or its sync already ended (COMPLETED or FAILED).
 */
export async function startHistoricalSync(
  services: Services,
  mirrorVaultId: string,
  startedAt: Date,
): Promise<HistoricalSyncStart | null> {
  // Timestamps are UTC wall-clock `timestamp(3)` columns, as Prisma writes them.
  const at = Prisma.sql`(${startedAt.toISOString()}::timestamptz at time zone 'UTC')`;
  const rows = await services.db.$queryRaw<HistoricalSyncStart[]>`
    with m as (
      select v.id, v."createdAt", v."sourceVaultId", v."regionId"
      from "Vault" v
      where v.id = ${mirrorVaultId}::uuid and v.kind = 'MIRROR' and v.status = 'CREATED' and v."sourceVaultId" is not null
    ), historical as (
      select count(*)::int as total, count(c."backupId")::int as done,
        coalesce(array_agg(b.id::text order by b."completedAt", b.id) filter (where c."backupId" is null), '{}') as todo
      from m
      join "Backup" b on b."vaultId" = m."sourceVaultId" and b.status = 'COMPLETE' and b."completedAt" < m."createdAt"
      left join "BackupCopy" c on c."backupId" = b.id and c."mirrorVaultId" = m.id
    ), missing as (
      select coalesce(array_agg(b.id::text), '{}') as missing
      from m
      join "Backup" b on b."vaultId" = m."sourceVaultId" and b.status = 'COMPLETE' and b."completedAt" >= m."createdAt"
      where not exists (select 1 from "BackupCopy" c where c."backupId" = b.id and c."mirrorVaultId" = m.id)
    )
    update "Replication" r set
      "historicalSyncStatus" = (case when h.total = h.done then 'COMPLETED' else 'RUNNING' end)::"SyncStatus",
      "historicalSyncStartedAt" = coalesce(r."historicalSyncStartedAt", ${at}),
      "historicalSyncCompletedAt" = case when h.total = h.done then ${at} else null end,
      "historicalBackupTotal" = h.total,
      "historicalBackupDone" = h.done,
      "historicalMessage" = null
    from m, historical h, missing x
    where r."mirrorVaultId" = m.id and r."historicalSyncStatus" in ('SCHEDULED', 'RUNNING')
    returning m."regionId" as "regionId", r."historicalSyncStatus"::text as status, h.total, h.done, h.todo, x.missing`;
  return rows[0] ?? null;
}

/** Queues the copies of `backupIds` (completed after the mirror's creation) that the real-time path missed. */
export async function enqueueCopies(services: Services, regionId: string, mirrorVaultId: string, backupIds: string[]) {
  for (const backupId of backupIds) await enqueueCopy(services, regionId, backupId, mirrorVaultId);
}

/** What a historical sync's final failure leaves: FAILED with the reason (the reconciler leaves it alone). */
export async function markHistoricalSyncFailed(services: Services, mirrorVaultId: string, message: string) {
  await services.db.replication.updateMany({
    where: { mirrorVaultId, historicalSyncStatus: { in: ["SCHEDULED", "RUNNING"] } },
    data: { historicalSyncStatus: "FAILED", historicalMessage: message },
  });
  await services.events.publish("vault:replication", mirrorVaultId, { id: mirrorVaultId });
}

/** Progress 0..100 of a historical sync; 100 once COMPLETED (also when there was nothing to copy). */
export function historicalProgress(r: {
  historicalSyncStatus: string;
  historicalBackupTotal: number;
  historicalBackupDone: number;
}) {
  if (r.historicalSyncStatus === "COMPLETED") return 100;
  if (r.historicalBackupTotal <= 0) return 0;
  return Math.min(100, (100 * r.historicalBackupDone) / r.historicalBackupTotal);
}

type MissingCopy = { backupId: string; mirrorVaultId: string; regionId: string };

/** COMPLETE source backups, completed at/after their mirror's creation, whose copy is missing (R8's backlog). */
async function missingRealTimeCopies(services: Services, regionIds: string[], mirrorVaultId?: string) {
  const byMirror = mirrorVaultId ? Prisma.sql`and m.id = ${mirrorVaultId}::uuid` : Prisma.empty;
  return services.db.$queryRaw<MissingCopy[]>`
    select b.id as "backupId", m.id as "mirrorVaultId", m."regionId" as "regionId"
    from "Vault" m
    join "Backup" b on b."vaultId" = m."sourceVaultId"
    where m.kind = 'MIRROR' and m.status = 'CREATED' and m."regionId" = any(${regionIds}::text[]) ${byMirror}
      and b.status = 'COMPLETE' and b."completedAt" >= m."createdAt"
      and not exists (select 1 from "BackupCopy" c where c."backupId" = b.id and c."mirrorVaultId" = m.id)`;
}

/** Queues the copies the real-time path may have missed for one mirror (a safety net after its historical sync). */
export async function enqueueMissingCopies(services: Services, mirrorVaultId: string, regionId: string) {
  for (const missing of await missingRealTimeCopies(services, [regionId], mirrorVaultId)) {
    await enqueueCopy(services, missing.regionId, missing.backupId, missing.mirrorVaultId);
  }
}

/**
 * Reconciler (registered by jobs/historicalSync.ts): for mirrors in `regionIds`, re-adds the historical sync of
 * every SCHEDULED or RUNNING replication with its remaining delay, and the copy of every backup that should have
 * been copied in real time but has no copy. Job ids are deterministic, so a job that still exists is untouched.
 */
export async function reconcileReplication(services: Services, regionIds: string[]) {
  const due = await services.db.replication.findMany({
    where: {
      targetRegionId: { in: regionIds },
      historicalSyncStatus: { in: ["SCHEDULED", "RUNNING"] },
      mirrorVault: { status: "CREATED" },
    },
    select: { mirrorVaultId: true, targetRegionId: true, historicalSyncScheduledAt: true },
  });
  for (const r of due) {
    await scheduleHistoricalSync(services, r.mirrorVaultId, r.targetRegionId, r.historicalSyncScheduledAt);
  }
  for (const missing of await missingRealTimeCopies(services, regionIds)) {
    await enqueueCopy(services, missing.regionId, missing.backupId, missing.mirrorVaultId);
  }
}

/** R18: deleting a mirror cancels its pending jobs and removes its copies' manifests from the mirror region. */
export async function teardownMirror(services: Services, mirrorVaultId: string) {
  const { db, queues, storage } = services;
  const mirror = await db.vault.findUnique({
    where: { id: mirrorVaultId },
    select: { regionId: true, sourceVaultId: true },
  });
  if (!mirror) return async () => {};
  const pending = mirror.sourceVaultId
    ? await db.backup.findMany({
        where: { vaultId: mirror.sourceVaultId, copies: { none: { mirrorVaultId } } },
        select: { id: true },
      })
    : [];
  const copies = await db.backupCopy.findMany({ where: { mirrorVaultId }, select: { backupId: true } });
  return async () => {
    await queues.remove(mirror.regionId, "sync", jobIds.historicalSync(mirrorVaultId));
    for (const backup of pending) await queues.remove(mirror.regionId, "sync", jobIds.copy(backup.id, mirrorVaultId));
    const store = storage.region(mirror.regionId);
    for (const copy of copies) await store.deleteBackup(copy.backupId);
  };
}

onMirrorDeleted(teardownMirror);
