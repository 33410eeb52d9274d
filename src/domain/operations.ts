// Figures for operators, exported as metrics (src/api/clusterMetrics.ts, jobs/): read from the database, so every
// API replica reports the same cluster-wide values whichever process did the work, and a restart loses none.
import { Prisma } from "../generated/prisma/client.ts";
import type { Ports } from "./ports.ts";
import { readStoredPlan } from "./restores/storedPlan.ts";

/** Timestamps are UTC wall-clock `timestamp(3)` columns, as Prisma writes them. */
const utc = (at: Date) => Prisma.sql`(${at.toISOString()}::timestamptz at time zone 'UTC')`;

export type MirrorFreshness = { mirrorVaultId: string; regionId: string; newestBackupAgeSeconds: number };

/**
 * Per mirror holding at least one copy: how old the newest data it holds is (seconds since the newest backup it
 * has a copy of completed in the source), i.e. what a disaster recovery from it would lose at most: its RPO.
 */
export function mirrorFreshness(ports: Pick<Ports, "db" | "clock">): Promise<MirrorFreshness[]> {
  return ports.db.$queryRaw<MirrorFreshness[]>`
    select c."mirrorVaultId"::text as "mirrorVaultId", v."regionId",
      extract(epoch from (${utc(ports.clock.now())} - max(b."completedAt")))::float8 as "newestBackupAgeSeconds"
    from "BackupCopy" c
    join "Vault" v on v.id = c."mirrorVaultId" and v.status = 'CREATED'
    join "Backup" b on b.id = c."backupId"
    group by c."mirrorVaultId", v."regionId"`;
}

export type HistoricalSyncLateness = {
  regionId: string;
  /** The longest a historical sync that is due has been waiting to start (0: none is late). */
  overdueSeconds: number;
  /** Start minus due time of the region's most recently started historical sync (null: none started yet). */
  lastStartLatenessSeconds: number | null;
};

/** Historical-sync lateness per mirror region (R9: a sync starts HISTORICAL_SYNC_DELAY_MS after its mirror). */
export function historicalSyncLateness(ports: Pick<Ports, "db" | "clock">): Promise<HistoricalSyncLateness[]> {
  const now = utc(ports.clock.now());
  return ports.db.$queryRaw<HistoricalSyncLateness[]>`
    select r."targetRegionId" as "regionId",
      coalesce(max(extract(epoch from (${now} - r."historicalSyncScheduledAt")))
        filter (where r."historicalSyncStatus" = 'SCHEDULED' and r."historicalSyncScheduledAt" <= ${now}), 0)::float8
        as "overdueSeconds",
      ((array_agg(extract(epoch from (r."historicalSyncStartedAt" - r."historicalSyncScheduledAt"))
        order by r."historicalSyncStartedAt" desc) filter (where r."historicalSyncStartedAt" is not null))[1])::float8
        as "lastStartLatenessSeconds"
    from "Replication" r
    group by r."targetRegionId"`;
}

export type RestoreFigures = { regionId: string; status: string; seconds: number; bytes: number };

/**
 * A restore that ended at or after `since` (the run that just returned): its outcome, how long it ran and the bytes
 * its plan restores. Null while it is still active, or when it ended before `since` (another run's figures).
 */
export async function endedRestoreFigures(
  ports: Pick<Ports, "db">,
  restoreId: string,
  since: Date,
): Promise<RestoreFigures | null> {
  const row = await ports.db.restore.findUnique({
    where: { id: restoreId },
    select: {
      status: true,
      startedAt: true,
      completedAt: true,
      plan: true,
      mirrorVault: { select: { regionId: true } },
    },
  });
  if (!row?.completedAt || !row.startedAt || row.completedAt < since) return null;
  let bytes = 0;
  try {
    bytes = Number(readStoredPlan(row.plan).totalBytes);
  } catch {
    // An unreadable plan failed the restore; it restored nothing.
  }
  const seconds = Math.max(0, (row.completedAt.getTime() - row.startedAt.getTime()) / 1000);
  return { regionId: row.mirrorVault.regionId, status: row.status, seconds, bytes };
}
