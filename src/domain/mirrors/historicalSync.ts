// R9: the delayed historical sync of a mirror. It starts HISTORICAL_SYNC_DELAY_MS after the mirror's creation and
// copies every backup that completed in the source before the mirror existed and has no copy yet, so a rerun
// resumes where the last attempt stopped and never copies a backup twice.
import { Prisma } from "../../generated/prisma/client.ts";
import { jobIds } from "../../queue/queues.ts";
import type { Ports } from "../ports.ts";
import { copyToMirror, enqueueCopies, enqueueMissingCopies } from "./copies.ts";

export async function scheduleHistoricalSync(
  ports: Pick<Ports, "queues" | "clock">,
  mirrorVaultId: string,
  regionId: string,
  at: Date,
) {
  await ports.queues.ensure(
    regionId,
    "sync",
    "historicalSync",
    { mirrorVaultId },
    { jobId: jobIds.historicalSync(mirrorVaultId), delay: Math.max(0, at.getTime() - ports.clock.now().getTime()) },
  );
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
 * Starts (or resumes) a mirror's historical sync in one statement: counts the historical backups and their
 * copies, marks the replication RUNNING (keeping the first start time) or straight COMPLETED when nothing is left
 * to copy, and returns what to copy plus the real-time copies that are missing. Null when there is nothing to start:
 * the mirror is gone or going, or its sync already ended (COMPLETED or FAILED).
 */
export async function startHistoricalSync(
  ports: Pick<Ports, "db">,
  mirrorVaultId: string,
  startedAt: Date,
): Promise<HistoricalSyncStart | null> {
  // Timestamps are UTC wall-clock `timestamp(3)` columns, as Prisma writes them.
  const at = Prisma.sql`(${startedAt.toISOString()}::timestamptz at time zone 'UTC')`;
  const rows = await ports.db.$queryRaw<HistoricalSyncStart[]>`
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

export type HistoricalSyncResult =
  | { skipped: string }
  | { total: number; copied: number }
  | { skipped: "mirror deleted" };

/**
 * Runs one attempt of a mirror's historical sync: start (one statement), copy what is left, complete. Most mirrors
 * have little or nothing to copy, so that and one event are all their sync costs. `onProgress` gets 0..100.
 */
export async function runHistoricalSync(
  ports: Pick<Ports, "db" | "queues" | "storage" | "events" | "clock">,
  mirrorVaultId: string,
  onProgress: (percent: number) => Promise<void>,
): Promise<HistoricalSyncResult> {
  const { db, events } = ports;
  const start = await startHistoricalSync(ports, mirrorVaultId, ports.clock.now());
  if (!start) {
    const replication = await db.replication.findUnique({
      where: { mirrorVaultId },
      select: { historicalSyncStatus: true },
    });
    return { skipped: replication ? replication.historicalSyncStatus : "no mirror" };
  }
  const { regionId, total, done, todo, missing } = start;
  await events.publish("vault:replication", mirrorVaultId);
  // Safety net: a backup completing while the mirror was being created may have found no mirror yet.
  await enqueueCopies(ports, regionId, mirrorVaultId, missing);
  if (start.status === "COMPLETED") return { total, copied: 0 };

  let copied = done;
  for (const backupId of todo) {
    // Records the progress with the copy and publishes the change.
    const ok = await copyToMirror(ports, backupId, mirrorVaultId, { historicalBackupDone: copied + 1 });
    if (!ok) {
      const mirror = await db.vault.findUnique({ where: { id: mirrorVaultId }, select: { status: true } });
      if (mirror?.status !== "CREATED") return { skipped: "mirror deleted" };
      continue; // The backup itself went (its instance was deleted): nothing left to copy of it.
    }
    copied++;
    await onProgress(total ? Math.round((100 * copied) / total) : 100);
  }
  await db.replication.updateMany({
    where: { mirrorVaultId, historicalSyncStatus: "RUNNING" },
    data: {
      historicalSyncStatus: "COMPLETED",
      historicalSyncCompletedAt: ports.clock.now(),
      historicalBackupDone: total,
    },
  });
  await events.publish("vault:replication", mirrorVaultId);
  // And again for the backups that completed while the copies ran.
  await enqueueMissingCopies(ports, mirrorVaultId, regionId);
  return { total, copied: copied - done };
}

/** What a historical sync's final failure leaves: FAILED with the reason (the reconciler leaves it alone). */
export async function markHistoricalSyncFailed(
  ports: Pick<Ports, "db" | "events">,
  mirrorVaultId: string,
  message: string,
) {
  await ports.db.replication.updateMany({
    where: { mirrorVaultId, historicalSyncStatus: { in: ["SCHEDULED", "RUNNING"] } },
    data: { historicalSyncStatus: "FAILED", historicalMessage: message },
  });
  await ports.events.publish("vault:replication", mirrorVaultId);
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

/**
 * Reconciler step: for mirrors in `regionIds`, re-adds the historical sync of every SCHEDULED or RUNNING
 * replication with its remaining delay. Job ids are deterministic, so a job that still exists is untouched.
 */
export async function reconcileHistoricalSyncs(ports: Pick<Ports, "db" | "queues" | "clock">, regionIds: string[]) {
  const due = await ports.db.replication.findMany({
    where: {
      targetRegionId: { in: regionIds },
      historicalSyncStatus: { in: ["SCHEDULED", "RUNNING"] },
      mirrorVault: { status: "CREATED" },
    },
    select: { mirrorVaultId: true, targetRegionId: true, historicalSyncScheduledAt: true },
  });
  for (const r of due) {
    await scheduleHistoricalSync(ports, r.mirrorVaultId, r.targetRegionId, r.historicalSyncScheduledAt);
  }
}
