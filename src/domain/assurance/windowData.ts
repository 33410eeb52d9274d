// The rows behind recovery windows. A window changes only when a backup of the database completes or goes, or a
// copy lands in or leaves the mirror: a cheap version per (mirror, source database) says whether the window this
// process computed last is still right, and only changed ones load their backups (packed as JSON by PostgreSQL).
import type { Db } from "../../db/types.ts";
import type { PlannerBackup } from "../restores/planInput.ts";

export type GroupKey = { mirrorVaultId: string; instanceId: string; databaseName: string };
export type GroupVersion = GroupKey & { version: string };
export type GroupBackups = GroupKey & { backups: PlannerBackup[] };

export const groupKey = (g: GroupKey) => `${g.mirrorVaultId}/${g.instanceId}/${g.databaseName}`;

/** One row per (mirror, source database): counts and id hashes of its COMPLETE backups and of their copies. */
export async function groupVersions(db: Db, mirrorIds: string[]): Promise<GroupVersion[]> {
  return db.$queryRaw<GroupVersion[]>`
    select m.id as "mirrorVaultId", b."instanceId", b."databaseName",
      concat_ws('/', count(*), count(c."backupId"), sum(hashtext(b.id::text)::bigint),
        sum(hashtext(c."backupId"::text)::bigint)) as version
    from "Vault" m
    join "Backup" b on b."vaultId" = m."sourceVaultId" and b.status = 'COMPLETE'
    left join "BackupCopy" c on c."backupId" = b.id and c."mirrorVaultId" = m.id
    where m.id = any(${mirrorIds}::uuid[])
    group by m.id, b."instanceId", b."databaseName"
    order by m.id, b."instanceId", b."databaseName"`;
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
    group by m.id, b."instanceId", b."databaseName"`;
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
