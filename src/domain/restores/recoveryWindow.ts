// What a mirror alone can restore for one source database: the restorable ranges, found with the planner's own
// chain search (ChainSearch: a COMPLETE, its deltas, a gap-free log run; R14), so every point the window calls
// restorable is one `planRestore` accepts and every gap is one it refuses with the same first missing position.
import { ChainSearch, sortBackups } from "./chainSearch.ts";
import type { PlannerBackup, PlanRequest } from "./planInput.ts";

export type WindowPoint = { position: bigint; time: Date | null };
/** Every log position from `from` to `to` (both included) is restorable. */
export type RestorableRange = { from: WindowPoint; to: WindowPoint };
export type LogGap = { from: bigint; to: bigint };

export type ChainWindow = {
  earliest: WindowPoint | null;
  latest: WindowPoint | null;
  ranges: RestorableRange[];
  /** Positions after the earliest restorable point that no chain of the mirror's backups reaches. */
  gaps: LogGap[];
};

// The window never plans a bounded point, so the search never reads a catalog and the names never appear.
const windowRequest: PlanRequest = {
  mode: "RECOVERY_TO_MOST_RECENT",
  useDelta: true,
  sourceDatabaseName: "",
  sourceSid: "",
  targetDatabaseName: "",
  crossSystem: true,
  checkAccess: true,
  historicalSyncScheduledAt: null,
  historicalSyncStatus: null,
  now: new Date(0),
};
const noCatalog = async () => new Map();

/**
 * The window of the mirrored COMPLETE-status backups among `backups` (one source database). From each mirrored
 * COMPLETE backup, the restorable positions run from it (and from each delta on its delta path) as far as the log
 * run reaches; their union is the window, its holes the gaps, and past the newest point the planner's own gap.
 */
export async function chainWindow(backups: PlannerBackup[]): Promise<ChainWindow> {
  const pool = sortBackups(backups.filter((b) => b.status === "COMPLETE" && b.mirrored));
  const search = new ChainSearch(windowRequest, noCatalog);
  const ranges: RestorableRange[] = [];
  for (const complete of pool.filter((b) => b.type === "COMPLETE")) {
    for (const start of [complete, ...search.deltaPath(pool, complete, {})]) {
      const run = await search.logRun(pool, start, {});
      ranges.push({
        from: { position: start.logPositionEnd, time: start.coversUntil },
        to: { position: run.position, time: run.time },
      });
    }
  }
  const merged = mergeRanges(ranges);
  if (merged.length === 0) return { earliest: null, latest: null, ranges: [], gaps: [] };
  const gaps: LogGap[] = [];
  for (let i = 1; i < merged.length; i++) {
    gaps.push({ from: merged[i - 1]!.to.position + 1n, to: merged[i]!.from.position - 1n });
  }
  const latest = merged.at(-1)!.to;
  const tail = search.gapAfter(pool, latest.position);
  if (tail) gaps.push(tail);
  return { earliest: merged[0]!.from, latest, ranges: merged, gaps };
}

/** Sorted, with overlapping or adjacent ranges joined (positions are whole numbers). */
function mergeRanges(ranges: RestorableRange[]): RestorableRange[] {
  const sorted = [...ranges].sort((a, b) =>
    a.from.position < b.from.position ? -1 : a.from.position > b.from.position ? 1 : 0,
  );
  const merged: RestorableRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && range.from.position <= last.to.position + 1n) {
      if (range.to.position > last.to.position) last.to = range.to;
    } else merged.push({ ...range });
  }
  return merged;
}

/** Whether the window says `position` is restorable. */
export function windowCovers(window: ChainWindow, position: bigint): boolean {
  return window.ranges.some((r) => r.from.position <= position && position <= r.to.position);
}
