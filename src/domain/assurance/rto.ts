// Restore time: what a finished restore took, and an estimate for a plan from the throughput of the recent
// completed restores in the mirror's region (a stated default before there are any).
import type { Db } from "../../db/types.ts";

/** Bytes per second assumed before a region has any completed restore: 50 MiB/s. */
export const DEFAULT_RESTORE_THROUGHPUT = 50 * 1024 * 1024;
/** How many of the newest completed restores of a region the estimate learns from. */
export const RECENT_RESTORES = 20;

export type RestoreTiming = { startedAt: Date | null; completedAt: Date | null; totalBytes: bigint | null };

/** startedAt to completedAt, in seconds (null until it has both). */
export function restoreDurationSeconds(restore: Pick<RestoreTiming, "startedAt" | "completedAt">): number | null {
  if (!restore.startedAt || !restore.completedAt) return null;
  return Math.max(0, restore.completedAt.getTime() - restore.startedAt.getTime()) / 1000;
}

/** plan.totalBytes / durationSeconds (null until it has a duration above zero). */
export function restoreThroughput(restore: RestoreTiming): number | null {
  const seconds = restoreDurationSeconds(restore);
  if (!seconds || restore.totalBytes === null) return null;
  return Number(restore.totalBytes) / seconds;
}

/**
 * Bytes per second of each region's recent completed restores (all bytes over all seconds, so one tiny restore does
 * not dominate); regions without any get DEFAULT_RESTORE_THROUGHPUT. One query for any number of regions.
 */
export async function regionThroughputs(db: Db, regionIds: string[]): Promise<Map<string, number>> {
  const rows = await db.$queryRaw<{ regionId: string; bytes: number | null; seconds: number | null }[]>`
    select r."regionId", sum(r.bytes)::float8 as bytes, sum(r.seconds)::float8 as seconds
    from (
      select m."regionId", (x.plan->>'totalBytes')::numeric as bytes,
        extract(epoch from x."completedAt" - x."startedAt") as seconds,
        row_number() over (partition by m."regionId" order by x."completedAt" desc) as n
      from "Restore" x join "Vault" m on m.id = x."mirrorVaultId"
      where x.status = 'COMPLETE' and x."startedAt" is not null and x."completedAt" > x."startedAt"
        and m."regionId" = any(${regionIds}::text[])
    ) r
    where r.n <= ${RECENT_RESTORES}
    group by r."regionId"`;
  const result = new Map(regionIds.map((id) => [id, DEFAULT_RESTORE_THROUGHPUT]));
  for (const row of rows) {
    if (row.bytes && row.seconds) result.set(row.regionId, row.bytes / row.seconds);
  }
  return result;
}

/** The plan's bytes at the region's throughput, in seconds. */
export function estimateRestoreSeconds(totalBytes: bigint, bytesPerSecond: number): number {
  return Number(totalBytes) / bytesPerSecond;
}
