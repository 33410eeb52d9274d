// Recovery windows of mirror vaults: per source database with backups, what the mirror's copies alone restore
// (restores/recoveryWindow.ts, the planner's chain search), the source's newest commit as last seen by its
// backups, and the RPO against the mirror's target. One query for any number of mirrors.
import type { Db } from "../../db/types.ts";
import type { PlannerBackup } from "../restores/planInput.ts";
import { type ChainWindow, chainWindow } from "../restores/recoveryWindow.ts";

export type MirrorRef = { id: string; kind: string; sourceVaultId: string | null; rpoTargetSeconds: number | null };

export type RecoveryWindow = ChainWindow & {
  mirrorVaultId: string;
  sourceInstanceId: string;
  databaseName: string;
  /** Newest commit of the source database its backups have seen (mirrored or not). */
  sourceLatest: { time: Date | null; position: bigint } | null;
  /** sourceLatest.time - latest.time in seconds; null when nothing is restorable. */
  rpoSeconds: number | null;
  rpoTargetSeconds: number | null;
  rpoBreached: boolean;
};

type BackupRow = Omit<PlannerBackup, "mirrored"> & {
  mirrorVaultId: string;
  instanceId: string;
  databaseName: string;
  mirrored: boolean;
};

/** The windows of each mirror (by id, `[]` for a SOURCE), in source instance id then database name order. */
export async function recoveryWindows(db: Db, mirrors: MirrorRef[]): Promise<Map<string, RecoveryWindow[]>> {
  const result = new Map<string, RecoveryWindow[]>(mirrors.map((m) => [m.id, []]));
  const withSource = mirrors.filter((m) => m.kind === "MIRROR" && m.sourceVaultId);
  if (withSource.length === 0) return result;
  const rows = await db.$queryRaw<BackupRow[]>`
    select m.id as "mirrorVaultId", b.id, b.type::text as type, b.status::text as status, b."hanaBackupId",
      b.prefix, b."sizeBytes", b."logPositionStart", b."logPositionEnd", b."basePosition", b."coversUntil",
      b."completedAt", b."instanceId", b."databaseName",
      exists (select 1 from "BackupCopy" c where c."backupId" = b.id and c."mirrorVaultId" = m.id) as mirrored
    from "Vault" m
    join "Backup" b on b."vaultId" = m."sourceVaultId" and b.status = 'COMPLETE'
    where m.id = any(${withSource.map((m) => m.id)}::uuid[])
    order by m.id, b."instanceId", b."databaseName"`;
  const groups = new Map<string, BackupRow[]>();
  for (const row of rows) {
    const key = `${row.mirrorVaultId}/${row.instanceId}/${row.databaseName}`;
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  const byId = new Map(withSource.map((m) => [m.id, m]));
  for (const group of groups.values()) {
    const first = group[0]!;
    const mirror = byId.get(first.mirrorVaultId)!;
    const window = await chainWindow(group);
    result.get(mirror.id)!.push(describe(mirror, first, window, group));
  }
  return result;
}

function describe(mirror: MirrorRef, first: BackupRow, window: ChainWindow, backups: BackupRow[]): RecoveryWindow {
  let newest: BackupRow | undefined;
  for (const b of backups) if (!newest || b.logPositionEnd > newest.logPositionEnd) newest = b;
  const sourceLatest = newest ? { time: newest.coversUntil, position: newest.logPositionEnd } : null;
  const latestTime = window.latest?.time ?? null;
  const rpoSeconds =
    latestTime && sourceLatest?.time
      ? Math.max(0, (sourceLatest.time.getTime() - latestTime.getTime()) / 1000)
      : window.latest && sourceLatest && window.latest.position >= sourceLatest.position
        ? 0
        : null;
  const target = mirror.rpoTargetSeconds;
  return {
    ...window,
    mirrorVaultId: mirror.id,
    sourceInstanceId: first.instanceId,
    databaseName: first.databaseName,
    sourceLatest,
    rpoSeconds,
    rpoTargetSeconds: target,
    rpoBreached: target !== null && (rpoSeconds === null || rpoSeconds > target),
  };
}

/** One mirror's window of one source database (null: that database has no backups in the mirror's source). */
export async function recoveryWindowOf(
  db: Db,
  mirror: MirrorRef,
  sourceInstanceId: string,
  databaseName: string,
): Promise<RecoveryWindow | null> {
  const windows = (await recoveryWindows(db, [mirror])).get(mirror.id) ?? [];
  return windows.find((w) => w.sourceInstanceId === sourceInstanceId && w.databaseName === databaseName) ?? null;
}
