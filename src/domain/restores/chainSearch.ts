// Chain search: from one COMPLETE backup, the backups a recovery applies (deltas, then a gap-free run of LOG
// backups) and the exact commit (position and time) they reach within a bound.
import { FailedPrecondition } from "../errors.ts";
import { iso, label } from "./messages.ts";
import type { CatalogLookup, CatalogRow, PlannerBackup, PlanRequest } from "./planInput.ts";

/** How far a chain may go: a log position and/or a point in time (neither: as far as the backups go). */
export type Bound = { position?: bigint; time?: Date };

export type Chain = {
  data: PlannerBackup;
  deltas: PlannerBackup[];
  logs: PlannerBackup[];
  position: bigint;
  time: Date | null;
  reached: boolean;
  /** The first positions missing after the chain's end (null: nothing known after it). */
  gap: { from: bigint; to: bigint } | null;
};

export const TYPE_ORDER = { COMPLETE: 0, DIFFERENTIAL: 1, INCREMENTAL: 2, LOG: 3 } as const;

const atOrBefore = (time: Date | null, bound: Date) => time === null || time.getTime() <= bound.getTime();
const byPosition = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

export const maxBy = <T>(items: T[], key: (item: T) => bigint | number): T | undefined =>
  items.reduce<T | undefined>((best, item) => (best === undefined || key(item) > key(best) ? item : best), undefined);

export function within(b: PlannerBackup, bound: Bound): boolean {
  return (
    (bound.position === undefined || b.logPositionEnd <= bound.position) &&
    (bound.time === undefined || atOrBefore(b.coversUntil, bound.time))
  );
}

/** By end position, then start position, then data before log. */
export function sortBackups(backups: PlannerBackup[]): PlannerBackup[] {
  return [...backups].sort(
    (a, b) =>
      byPosition(a.logPositionEnd, b.logPositionEnd) ||
      byPosition(a.logPositionStart, b.logPositionStart) ||
      TYPE_ORDER[a.type] - TYPE_ORDER[b.type] ||
      a.id.localeCompare(b.id),
  );
}

export class ChainSearch {
  private readonly catalogCache = new Map<string, CatalogRow[]>();
  private readonly sortedLogs = new WeakMap<PlannerBackup[], PlannerBackup[]>();

  constructor(
    readonly request: PlanRequest,
    private readonly lookupCatalog: CatalogLookup,
  ) {}

  /** COMPLETE + deltas + the gap-free log run from `complete`, as far as `bound` allows. */
  async chain(pool: PlannerBackup[], complete: PlannerBackup, bound: Bound): Promise<Chain> {
    const deltas = this.request.useDelta ? this.deltaPath(pool, complete, bound) : [];
    const run = await this.logRun(pool, deltas.at(-1) ?? complete, bound);
    return { data: complete, deltas, ...run, gap: this.gapAfter(pool, run.position) };
  }

  /** The gap-free run of LOG backups from a data backup, as far as `bound` allows, and the commit it reaches. */
  async logRun(
    pool: PlannerBackup[],
    start: PlannerBackup,
    bound: Bound,
  ): Promise<Pick<Chain, "logs" | "position" | "time" | "reached">> {
    let position = start.logPositionEnd;
    let time = start.coversUntil;
    const logs: PlannerBackup[] = [];
    const logPool = this.logsByStart(pool);
    let next = 0; // logs before `next` start at or before an earlier position + 1 and end at or before `position`
    let reached = false;
    for (;;) {
      if (bound.position !== undefined && position >= bound.position) {
        reached = true;
        break;
      }
      const from = position;
      // The log backup that continues the chain (starts at or before from + 1) and reaches furthest; mirrored first.
      let log: PlannerBackup | undefined;
      while (next < logPool.length && logPool[next]!.logPositionStart <= from + 1n) {
        const candidate = logPool[next++]!;
        if (candidate.logPositionEnd <= from) continue;
        if (
          !log ||
          candidate.logPositionEnd > log.logPositionEnd ||
          (candidate.logPositionEnd === log.logPositionEnd && candidate.mirrored && !log.mirrored)
        ) {
          log = candidate;
        }
      }
      if (!log) {
        reached =
          bound.position === undefined &&
          (bound.time === undefined || (time !== null && time.getTime() >= bound.time.getTime()));
        break;
      }
      if (bound.position !== undefined && log.logPositionEnd > bound.position) {
        logs.push(log);
        position = bound.position;
        time = (await this.commitTimeAt(log, bound.position)) ?? null;
        reached = true;
        break;
      }
      if (bound.time !== undefined && !(log.coversUntil !== null && atOrBefore(log.coversUntil, bound.time))) {
        // The point falls into this log backup (or just before it): its last commit at or before the point.
        const last = await this.lastCommitBefore(log, from, bound.time);
        if (last) {
          logs.push(log);
          position = last.logPosition;
          time = last.commitTime;
        }
        reached = true;
        break;
      }
      logs.push(log);
      position = log.logPositionEnd;
      time = log.coversUntil;
    }
    return { logs, position, time, reached };
  }

  /** The delta path from `complete` that reaches the furthest position within `bound` (fewest steps, then bytes). */
  deltaPath(pool: PlannerBackup[], complete: PlannerBackup, bound: Bound): PlannerBackup[] {
    const deltas = pool.filter((b) => (b.type === "DIFFERENTIAL" || b.type === "INCREMENTAL") && within(b, bound));
    type Node = { node: PlannerBackup; path: PlannerBackup[]; bytes: bigint };
    let best: Node = { node: complete, path: [], bytes: 0n };
    const queue: Node[] = [best];
    const visited = new Set<string>();
    while (queue.length > 0) {
      const current = queue.shift()!;
      for (const delta of deltas) {
        if (visited.has(delta.id) || delta.logPositionEnd <= current.node.logPositionEnd) continue;
        const follows =
          delta.type === "DIFFERENTIAL"
            ? current.node === complete && delta.basePosition === complete.logPositionEnd
            : delta.basePosition === current.node.logPositionEnd;
        if (!follows) continue;
        visited.add(delta.id);
        const next = { node: delta, path: [...current.path, delta], bytes: current.bytes + delta.sizeBytes };
        queue.push(next);
        const better =
          next.node.logPositionEnd > best.node.logPositionEnd ||
          (next.node.logPositionEnd === best.node.logPositionEnd &&
            (next.path.length < best.path.length ||
              (next.path.length === best.path.length && next.bytes < best.bytes)));
        if (better) best = next;
      }
    }
    return best.path;
  }

  private logsByStart(pool: PlannerBackup[]): PlannerBackup[] {
    let logs = this.sortedLogs.get(pool);
    if (!logs) {
      logs = pool.filter((b) => b.type === "LOG").sort((a, b) => byPosition(a.logPositionStart, b.logPositionStart));
      this.sortedLogs.set(pool, logs);
    }
    return logs;
  }

  private async catalog(backup: PlannerBackup): Promise<CatalogRow[]> {
    let rows = this.catalogCache.get(backup.id);
    if (!rows) {
      const found = (await this.lookupCatalog([backup.id])).get(backup.id) ?? [];
      rows = [...found].sort((a, b) => byPosition(a.logPosition, b.logPosition));
      this.catalogCache.set(backup.id, rows);
    }
    return rows;
  }

  private async lastCommitBefore(log: PlannerBackup, from: bigint, point: Date): Promise<CatalogRow | undefined> {
    const rows = await this.catalog(log);
    if (rows.length === 0) {
      throw new FailedPrecondition(
        `the catalog of log backup ${label(log)} is missing, so the commit at ${iso(point)} can not be ` +
          "located; choose a point in time at a log backup boundary or RECOVERY_TO_LOG_POSITION",
      );
    }
    return maxBy(
      rows.filter(
        (r) =>
          r.logPosition > from &&
          r.logPosition <= log.logPositionEnd &&
          r.commitTime !== null &&
          r.commitTime.getTime() <= point.getTime(),
      ),
      (r) => r.logPosition,
    );
  }

  /** The first positions missing after `position` (null: nothing known after it). */
  gapAfter(pool: PlannerBackup[], position: bigint): Chain["gap"] {
    const laterLogs = pool.filter((b) => b.type === "LOG" && b.logPositionEnd > position);
    if (laterLogs.length > 0) {
      const next = maxBy(laterLogs, (l) => -l.logPositionStart)!.logPositionStart;
      return next > position + 1n ? { from: position + 1n, to: next - 1n } : null;
    }
    const newest = maxBy(
      pool.filter((b) => b.logPositionEnd > position),
      (b) => b.logPositionEnd,
    );
    return newest ? { from: position + 1n, to: newest.logPositionEnd } : null;
  }

  private async commitTimeAt(log: PlannerBackup, position: bigint): Promise<Date | null> {
    if (position === log.logPositionEnd) return log.coversUntil;
    const row = (await this.catalog(log)).find((r) => r.logPosition === position);
    return row?.commitTime ?? null;
  }
}
