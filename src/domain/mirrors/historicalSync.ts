// R9: the delayed historical sync of a mirror. It starts HISTORICAL_SYNC_DELAY_MS after the mirror's creation and
// copies every backup that completed in the source before the mirror existed and has no copy yet, so a rerun
// resumes where the last attempt stopped and never copies a backup twice.
// Every start also sweeps its region: all of the region's syncs that are due start with it, in one statement, so a
// burst of syncs falling due together starts on time even when the queue hands out their jobs slower (BullMQ's
// PostgreSQL backend: a few hundred jobs/s). Each mirror's own job then does its copies (or finds it done).
import { Prisma } from "../../generated/prisma/client.ts";
import { jobIds } from "../../queue/queues.ts";
import { firstLineOf } from "../errors.ts";
import { OUTBOX_TRANSACTION } from "../events/transaction.ts";
import type { Ports } from "../ports.ts";
import { WorkBusy, withWorkLease, workKeys } from "../workLease.ts";
import { copyToMirror, enqueueCopies, enqueueMissingCopies } from "./copies.ts";
import { recordHistoricalSyncEnded } from "./events.ts";

/** A copy another run holds (a copy job of the same backup, or a lapsing crashed run): wait for its claim. */
async function copyWhenFree(copy: () => Promise<boolean>): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await copy();
    } catch (error) {
      if (!(error instanceof WorkBusy) || attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.max(100, error.retryAt.getTime() - Date.now() + 100)));
    }
  }
}

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
  // A sync that is COMPLETED at once records its event in the same transaction (webhooks).
  return ports.db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<HistoricalSyncStart[]>`
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
    if (rows[0]?.status === "COMPLETED") await recordHistoricalSyncEnded(tx, [mirrorVaultId], { failed: false });
    return rows[0] ?? null;
  }, OUTBOX_TRANSACTION);
}

export type DueHistoricalSyncStart = {
  mirrorVaultId: string;
  status: "RUNNING" | "COMPLETED";
  /** Backups completed since the mirror's creation whose real-time copy is missing (the safety net's backlog). */
  missing: string[];
};

/**
 * R9, the region sweep: starts, in one statement, every historical sync of `regionId` that is due at `at` and still
 * SCHEDULED (the same counts as startHistoricalSync: COMPLETED at once when nothing is left to copy, else RUNNING
 * with its start time and totals). Their copies are left to each mirror's own job, which resumes the RUNNING sync
 * (keeping this start time) or finds the COMPLETED one done. Rows another sweep holds are skipped (it starts them),
 * so concurrent sweeps neither wait on each other nor start a sync twice. `except` is left out (the caller's own).
 */
export async function startDueHistoricalSyncs(
  ports: Pick<Ports, "db">,
  regionId: string,
  at: Date,
  except?: string,
): Promise<DueHistoricalSyncStart[]> {
  const when = Prisma.sql`(${at.toISOString()}::timestamptz at time zone 'UTC')`;
  const notOwn = except ? Prisma.sql`and r."mirrorVaultId" <> ${except}::uuid` : Prisma.empty;
  // Syncs COMPLETED at once record their events in the same transaction (webhooks).
  return ports.db.$transaction(async (tx) => {
    const started = await tx.$queryRaw<DueHistoricalSyncStart[]>`
    with due as (
      select r."mirrorVaultId" as id
      from "Replication" r
      join "Vault" v on v.id = r."mirrorVaultId"
      where r."targetRegionId" = ${regionId} and r."historicalSyncStatus" = 'SCHEDULED'
        and r."historicalSyncScheduledAt" <= ${when} ${notOwn}
        and v."regionId" = ${regionId} and v.kind = 'MIRROR' and v.status = 'CREATED' and v."sourceVaultId" is not null
      for update of r skip locked
    ), m as (
      select v.id, v."createdAt", v."sourceVaultId" from due join "Vault" v on v.id = due.id
    ), historical as (
      select m.id, count(b.id)::int as total, count(c."backupId")::int as done
      from m
      left join "Backup" b on b."vaultId" = m."sourceVaultId" and b.status = 'COMPLETE' and b."completedAt" < m."createdAt"
      left join "BackupCopy" c on c."backupId" = b.id and c."mirrorVaultId" = m.id
      group by m.id
    ), missing as (
      select m.id, coalesce(array_agg(b.id::text) filter (where b.id is not null), '{}') as missing
      from m
      left join "Backup" b on b."vaultId" = m."sourceVaultId" and b.status = 'COMPLETE' and b."completedAt" >= m."createdAt"
        and not exists (select 1 from "BackupCopy" c where c."backupId" = b.id and c."mirrorVaultId" = m.id)
      group by m.id
    )
    update "Replication" r set
      "historicalSyncStatus" = (case when h.total = h.done then 'COMPLETED' else 'RUNNING' end)::"SyncStatus",
      "historicalSyncStartedAt" = ${when},
      "historicalSyncCompletedAt" = case when h.total = h.done then ${when} else null end,
      "historicalBackupTotal" = h.total,
      "historicalBackupDone" = h.done,
      "historicalMessage" = null
    from historical h join missing x on x.id = h.id
    where r."mirrorVaultId" = h.id and r."historicalSyncStatus" = 'SCHEDULED'
    returning r."mirrorVaultId"::text as "mirrorVaultId", r."historicalSyncStatus"::text as status, x.missing`;
    const completed = started.filter((sync) => sync.status === "COMPLETED").map((sync) => sync.mirrorVaultId);
    await recordHistoricalSyncEnded(tx, completed, { failed: false });
    return started;
  }, OUTBOX_TRANSACTION);
}

/**
 * Sweeps the region (startDueHistoricalSyncs) and does for each sync it started what its start would have: one
 * event, and the real-time copies it misses queued (a COMPLETED one's own job later finds nothing to do).
 */
export async function sweepDueHistoricalSyncs(
  ports: Pick<Ports, "db" | "queues" | "events" | "clock">,
  regionId: string,
  except?: string,
): Promise<number> {
  const started = await startDueHistoricalSyncs(ports, regionId, ports.clock.now(), except);
  for (const sync of started) await ports.events.publish("vault:replication", sync.mirrorVaultId);
  for (const sync of started) await enqueueCopies(ports, regionId, sync.mirrorVaultId, sync.missing);
  return started.length;
}

export type HistoricalSyncResult =
  | { skipped: string }
  | { total: number; copied: number }
  | { skipped: "mirror deleted" };

/**
 * Runs one attempt of a mirror's historical sync: sweep the region (every other sync of the region that is due
 * starts now, in one statement, rather than when the queue gets to its own job), start (one statement), copy what
 * is left, complete. Most mirrors have little or nothing to copy, so that and one event are all their sync costs.
 * `onProgress` gets 0..100. `regionId` is the region whose due syncs to sweep (the worker's; by default the
 * mirror's).
 */
export async function runHistoricalSync(
  ports: Pick<Ports, "db" | "queues" | "storage" | "events" | "clock" | "copySlots" | "bandwidth" | "config">,
  mirrorVaultId: string,
  onProgress: (percent: number) => Promise<void>,
  options: { regionId?: string } = {},
): Promise<HistoricalSyncResult> {
  // The worker's region is swept first, before this mirror's own lease and start: in a burst, the syncs falling due
  // together start when the first of their jobs runs, not after its own start's transaction (at 10,000 mirrors due
  // at once under load that made the sweep ~0.5 s later). This mirror's own sync is left to its start below.
  if (options.regionId) await sweepDueHistoricalSyncs(ports, options.regionId, mirrorVaultId);
  // One run of a mirror's sync at a time; a failed attempt says why on the replication while it is retried.
  return withWorkLease(ports, workKeys.historicalSync(mirrorVaultId), async (lease) => {
    try {
      return await runHolding(ports, mirrorVaultId, onProgress, options, lease.signal);
    } catch (error) {
      if (lease.signal.aborted) throw lease.signal.reason;
      const why = firstLineOf(error);
      await ports.db.replication
        .updateMany({
          where: { mirrorVaultId, historicalSyncStatus: "RUNNING" },
          data: { historicalMessage: `attempt failed, retrying: ${why}` },
        })
        .catch(() => null);
      await ports.events.publish("vault:replication", mirrorVaultId).catch(() => {});
      throw error;
    }
  });
}

async function runHolding(
  ports: Pick<Ports, "db" | "queues" | "storage" | "events" | "clock" | "copySlots" | "bandwidth" | "config">,
  mirrorVaultId: string,
  onProgress: (percent: number) => Promise<void>,
  options: { regionId?: string },
  signal: AbortSignal,
): Promise<HistoricalSyncResult> {
  const { db, events } = ports;
  const start = await startHistoricalSync(ports, mirrorVaultId, ports.clock.now());
  // Even when this mirror's sync was started by an earlier sweep (or is gone): the queue may be behind. A worker's
  // region was swept before the lease (runHistoricalSync); without one, the mirror's region is swept now.
  if (!options.regionId && start?.regionId) await sweepDueHistoricalSyncs(ports, start.regionId, mirrorVaultId);
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
    const ok = await copyWhenFree(() =>
      copyToMirror(ports, backupId, mirrorVaultId, { historicalBackupDone: copied + 1, signal }),
    );
    if (!ok) {
      const mirror = await db.vault.findUnique({ where: { id: mirrorVaultId }, select: { status: true } });
      if (mirror?.status !== "CREATED") return { skipped: "mirror deleted" };
      continue; // The backup itself went (its instance was deleted): nothing left to copy of it.
    }
    copied++;
    await onProgress(total ? Math.round((100 * copied) / total) : 100);
  }
  await db.$transaction(async (tx) => {
    const { count } = await tx.replication.updateMany({
      where: { mirrorVaultId, historicalSyncStatus: "RUNNING" },
      data: {
        historicalSyncStatus: "COMPLETED",
        historicalSyncCompletedAt: ports.clock.now(),
        historicalBackupDone: total,
      },
    });
    if (count) await recordHistoricalSyncEnded(tx, [mirrorVaultId], { failed: false });
  }, OUTBOX_TRANSACTION);
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
  await ports.db.$transaction(async (tx) => {
    const { count } = await tx.replication.updateMany({
      where: { mirrorVaultId, historicalSyncStatus: { in: ["SCHEDULED", "RUNNING"] } },
      data: { historicalSyncStatus: "FAILED", historicalMessage: message },
    });
    if (count) await recordHistoricalSyncEnded(tx, [mirrorVaultId], { failed: true, message });
  }, OUTBOX_TRANSACTION);
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
