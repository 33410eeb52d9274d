// Recovery windows of mirror vaults: per source database with backups, what the mirror's copies alone restore
// (restores/recoveryWindow.ts, the planner's chain search), the source's newest commit as last seen by its
// backups, and the RPO against the mirror's target. One or two queries for any number of mirrors (windowData.ts).
import type { Db } from "../../db/types.ts";
import type { PlannerBackup } from "../restores/planInput.ts";
import { type ChainWindow, chainWindow } from "../restores/recoveryWindow.ts";
import { type GroupKey, groupBackups, mirrorVersions } from "./windowData.ts";

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

type Computed = GroupKey & { window: ChainWindow; sourceLatest: RecoveryWindow["sourceLatest"] };

// The windows this process computed, by mirror, with the version they were computed at (cleared when full).
const computed = new Map<string, { version: string; groups: Computed[] }>();
const MAX_CACHED = 20_000;

/**
 * The windows of each mirror (by id, `[]` for a SOURCE), in source instance id then database name order. One
 * query for the page's versions, and one more for the mirrors whose backups or copies changed since last time.
 */
export async function recoveryWindows(db: Db, mirrors: MirrorRef[]): Promise<Map<string, RecoveryWindow[]>> {
  const result = new Map<string, RecoveryWindow[]>(mirrors.map((m) => [m.id, []]));
  const withSource = mirrors.filter((m) => m.kind === "MIRROR" && m.sourceVaultId);
  if (withSource.length === 0) return result;
  const versions = await mirrorVersions(
    db,
    withSource.map((m) => m.id),
  );
  let stale = versions.filter((v) => computed.get(v.mirrorVaultId)?.version !== v.version);
  if (computed.size + stale.length > MAX_CACHED) {
    computed.clear();
    stale = versions;
  }
  const loaded = await groupBackups(
    db,
    stale.map((v) => v.mirrorVaultId),
  );
  for (const { mirrorVaultId, version } of stale) {
    const groups: Computed[] = [];
    for (const group of loaded.filter((g) => g.mirrorVaultId === mirrorVaultId)) {
      const { backups, ...key } = group;
      groups.push({ ...key, window: await chainWindow(backups), sourceLatest: newestCommit(backups) });
    }
    computed.set(mirrorVaultId, { version, groups });
  }
  for (const mirror of withSource) {
    const known = computed.get(mirror.id)?.groups ?? [];
    result.set(
      mirror.id,
      known.map((group) => describe(mirror, group)),
    );
  }
  return result;
}

function newestCommit(backups: PlannerBackup[]): RecoveryWindow["sourceLatest"] {
  let newest: PlannerBackup | undefined;
  for (const b of backups) if (!newest || b.logPositionEnd > newest.logPositionEnd) newest = b;
  return newest ? { time: newest.coversUntil, position: newest.logPositionEnd } : null;
}

function describe(mirror: MirrorRef, group: Computed): RecoveryWindow {
  const { window, sourceLatest } = group;
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
    sourceInstanceId: group.instanceId,
    databaseName: group.databaseName,
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
