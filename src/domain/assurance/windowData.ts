// The rows behind recovery windows. A mirror's windows change only when a backup of its source completes or goes,
// or a copy lands in or leaves it: a cheap version per mirror says whether the windows this process computed last
// are still right, and only changed mirrors load their backups (packed as JSON by PostgreSQL).
import type { Db } from "../../db/types.ts";
import type { PlannerBackup } from "../restores/planInput.ts";

export type GroupKey = { mirrorVaultId: string; instanceId: string; databaseName: string };
export type MirrorVersion = { mirrorVaultId: string; version: string };
export type GroupBackups = GroupKey & { backups: PlannerBackup[] };

/**
 * One row per mirror: count and newest completion of its source's COMPLETE backups, count and newest of its copies.
 * Backups and copies are only ever added, or removed with their vault or instance, so any change moves one of them.
 */
export async function mirrorVersions(db: Db, mirrorIds: string[]): Promise<MirrorVersion[]> {
  return db.$queryRaw<MirrorVersion[]>`
    select m.id as "mirrorVaultId", concat_ws('/', b.n, b.newest, c.n, c.newest) as version
    from "Vault" m
    cross join lateral (select count(*) as n, max("completedAt") as newest from "Backup"
      where "vaultId" = m."sourceVaultId" and status = 'COMPLETE') b
    cross join lateral (select count(*) as n, max("copiedAt") as newest from "BackupCopy"
      where "mirrorVaultId" = m.id) c
    where m.id = any(${mirrorIds}::uuid[])`;
}

type PackedBackup = [string, PlannerBackup["type"], string, string, string | null, string | null, boolean];

/** The COMPLETE-status backups of the groups' mirrors, one row per (mirror, source database). */
export async function groupBackups(db: Db, mirrorIds: string[]): Promise<GroupBackups[]> {
  if (mirrorIds.length === 0) return [];
  const rows = await db.$queryRaw<(GroupKey & { backups: PackedBackup[] })[]>`
    select m.id as "mirrorVaultId", b."instanceId", b."databaseName",
      json_agg(json_build_array(b.id, b.type, b."logPositionStart"::text, b."logPositionEnd"::text,
        b."basePosition"::text, to_char(b."coversUntil", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        c."backupId" is not null)) as backups
    from "Vault" m
    join "Backup" b on b."vaultId" = m."sourceVaultId" and b.status = 'COMPLETE'
    left join "BackupCopy" c on c."backupId" = b.id and c."mirrorVaultId" = m.id
    where m.id = any(${mirrorIds}::uuid[])
    group by m.id, b."instanceId", b."databaseName"
    order by m.id, b."instanceId", b."databaseName"`;
  return rows.map((row) => ({ ...row, backups: row.backups.map(unpack) }));
}

function unpack([id, type, start, end, base, coversUntil, mirrored]: PackedBackup): PlannerBackup {
  return {
    id,
    type,
    status: "COMPLETE",
    logPositionStart: BigInt(start),
    logPositionEnd: BigInt(end),
    basePosition: base === null ? null : BigInt(base),
    coversUntil: coversUntil === null ? null : new Date(coversUntil),
    mirrored,
    // Not read by the window (it makes no plan and no message).
    hanaBackupId: 0n,
    prefix: "",
    sizeBytes: 0n,
    completedAt: null,
  };
}
