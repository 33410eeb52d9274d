// The restore planner: a pure function (no database, no I/O besides the injected catalog lookup) shared by the
// `restorePlan` dry run and `restoreFromMirror`. Given the source database's backups (the caller passes the
// backups of one instance + database, with `mirrored` telling whether a copy is in the mirror vault), it picks the
// chain a restore from the mirror uses: one COMPLETE data backup, optional deltas, then a gap-free run of LOG
// backups, and reports the exact commit (time and log position) the restore reaches.
//
// Rules: only backups with status COMPLETE count; only mirrored ones may be used (R10); point in time / log position
// need a COMPLETE at or before the target and a gap-free log chain up to it (R14).
//
// How a plan is found: the planner first plans with the mirrored backups only. When that fails it plans again with
// every backup of the source; if that succeeds, the restore fails with the R10 message (which backups are not
// mirrored yet, when historical sync is scheduled); otherwise with the mirror's own reason (gap, too early, ...).
import { FailedPrecondition, InvalidInput, NotFound } from "./errors.ts";
import { buildRecoverStatement, type RecoverUntil } from "./recoverStatement.ts";

export type PlannerBackup = {
  id: string;
  type: "COMPLETE" | "DIFFERENTIAL" | "INCREMENTAL" | "LOG";
  status: "RUNNING" | "COMPLETE" | "FAILED";
  hanaBackupId: bigint;
  prefix: string;
  sizeBytes: bigint;
  /** Data backups: both = the snapshot position; LOG: first..last commit position covered. */
  logPositionStart: bigint;
  logPositionEnd: bigint;
  /** DIFFERENTIAL: position of its COMPLETE; INCREMENTAL: position of the data backup it is based on. */
  basePosition: bigint | null;
  /** Commit time of `logPositionEnd` (null: nothing committed yet). */
  coversUntil: Date | null;
  completedAt: Date | null;
  /** Its copy is in the mirror vault (R10). */
  mirrored: boolean;
};

export type RestoreModeName =
  | "RECOVERY_TO_MOST_RECENT"
  | "RECOVERY_TO_POINT_IN_TIME"
  | "RECOVERY_TO_SPECIFIC_BACKUP"
  | "RECOVERY_TO_LOG_POSITION";

export type HistoricalSyncStatus = "SCHEDULED" | "RUNNING" | "COMPLETED" | "FAILED";

export type PlanRequest = {
  mode: RestoreModeName;
  pointInTime?: Date | null;
  /** RECOVERY_TO_SPECIFIC_BACKUP: a `PlannerBackup.id` (the caller decodes the Backup node id). */
  backupId?: string | null;
  logPosition?: bigint | null;
  useDelta: boolean;
  sourceDatabaseName: string;
  sourceSid: string;
  targetDatabaseName: string;
  crossSystem: boolean;
  checkAccess: boolean;
  /** When the mirror's historical sync is (or was) scheduled, for error messages. */
  historicalSyncScheduledAt: Date | null;
  historicalSyncStatus: HistoricalSyncStatus | null;
  now: Date;
};

export type PlanStep = { order: number; backupId: string; action: "LOAD_DATA" | "APPLY_DELTA" | "REPLAY_LOG" };

export type RestorePlan = {
  steps: PlanStep[];
  /** Commit time of the last commit the restore reaches (null: the database had no commit at that position). */
  targetTime: Date | null;
  targetLogPosition: bigint;
  totalBytes: bigint;
  recoverStatement: string;
};

/** A `CatalogEntry` row: the commit time of each log position a backup covers. */
export type CatalogRow = { logPosition: bigint; commitTime: Date | null };

/**
 * Returns the catalog rows of the given backups (e.g. `db.catalogEntry.findMany({ where: { backupId: { in } } })`
 * grouped by backupId). The planner calls it only for the LOG backup a point in time / log position falls into.
 */
export type CatalogLookup = (backupIds: string[]) => Promise<Map<string, CatalogRow[]>>;

// ---------------------------------------------------------------------------------------------------------------

type Bound = { position?: bigint; time?: Date };

type Chain = {
  data: PlannerBackup;
  deltas: PlannerBackup[];
  logs: PlannerBackup[];
  position: bigint;
  time: Date | null;
  reached: boolean;
  /** The first positions missing after the chain's end (null: nothing known after it). */
  gap: { from: bigint; to: bigint } | null;
};

/** Why planning with one set of backups failed: `summary` says what, `advice` what to do. */
type Failure = { summary: string; advice: string };
type Outcome = { ok: true; chain: Chain } | { ok: false; failure: Failure; position?: bigint };

const TYPE_ORDER = { COMPLETE: 0, DIFFERENTIAL: 1, INCREMENTAL: 2, LOG: 3 } as const;
const MAX_LISTED = 10;

const isData = (b: PlannerBackup) => b.type !== "LOG";
const iso = (date: Date) => date.toISOString();
const label = (b: PlannerBackup) => `${b.prefix} (${b.id})`;
const atOrBefore = (time: Date | null, bound: Date) => time === null || time.getTime() <= bound.getTime();
const maxBy = <T>(items: T[], key: (item: T) => bigint | number): T | undefined =>
  items.reduce<T | undefined>((best, item) => (best === undefined || key(item) > key(best) ? item : best), undefined);

function within(b: PlannerBackup, bound: Bound): boolean {
  return (
    (bound.position === undefined || b.logPositionEnd <= bound.position) &&
    (bound.time === undefined || atOrBefore(b.coversUntil, bound.time))
  );
}

function sortBackups(backups: PlannerBackup[]): PlannerBackup[] {
  return [...backups].sort((a, b) =>
    a.logPositionEnd !== b.logPositionEnd
      ? a.logPositionEnd < b.logPositionEnd
        ? -1
        : 1
      : a.logPositionStart !== b.logPositionStart
        ? a.logPositionStart < b.logPositionStart
          ? -1
          : 1
        : TYPE_ORDER[a.type] - TYPE_ORDER[b.type] || a.id.localeCompare(b.id),
  );
}

class Planner {
  private readonly catalogCache = new Map<string, CatalogRow[]>();

  constructor(
    private readonly request: PlanRequest,
    private readonly lookupCatalog: CatalogLookup,
  ) {}

  private readonly sortedLogs = new WeakMap<PlannerBackup[], PlannerBackup[]>();

  private logsByStart(pool: PlannerBackup[]): PlannerBackup[] {
    let logs = this.sortedLogs.get(pool);
    if (!logs) {
      logs = pool
        .filter((b) => b.type === "LOG")
        .sort((a, b) =>
          a.logPositionStart < b.logPositionStart ? -1 : a.logPositionStart > b.logPositionStart ? 1 : 0,
        );
      this.sortedLogs.set(pool, logs);
    }
    return logs;
  }

  private async catalog(backup: PlannerBackup): Promise<CatalogRow[]> {
    let rows = this.catalogCache.get(backup.id);
    if (!rows) {
      rows = [...((await this.lookupCatalog([backup.id])).get(backup.id) ?? [])].sort((a, b) =>
        a.logPosition < b.logPosition ? -1 : a.logPosition > b.logPosition ? 1 : 0,
      );
      this.catalogCache.set(backup.id, rows);
    }
    return rows;
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

  /** COMPLETE + deltas + the gap-free log run from `complete`, as far as `bound` allows. */
  async chain(pool: PlannerBackup[], complete: PlannerBackup, bound: Bound): Promise<Chain> {
    const deltas = this.request.useDelta ? this.deltaPath(pool, complete, bound) : [];
    const start = deltas.at(-1) ?? complete;
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
        // The point falls into this log backup (or just before it): find its last commit at or before the point.
        const rows = await this.catalog(log);
        if (rows.length === 0) {
          throw new FailedPrecondition(
            `the catalog of log backup ${label(log)} is missing, so the commit at ${iso(bound.time)} can not be ` +
              "located; choose a point in time at a log backup boundary or RECOVERY_TO_LOG_POSITION",
          );
        }
        const limit = bound.time;
        const last = maxBy(
          rows.filter(
            (r) =>
              r.logPosition > from &&
              r.logPosition <= log.logPositionEnd &&
              r.commitTime !== null &&
              r.commitTime.getTime() <= limit.getTime(),
          ),
          (r) => r.logPosition,
        );
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
    return { data: complete, deltas, logs, position, time, reached, gap: this.gapAfter(pool, position) };
  }

  private gapAfter(pool: PlannerBackup[], position: bigint): Chain["gap"] {
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

  // ----- modes ------------------------------------------------------------------------------------------------

  async mostRecent(pool: PlannerBackup[], where: string): Promise<Outcome> {
    const completes = pool.filter((b) => b.type === "COMPLETE");
    if (completes.length === 0) return { ok: false, failure: noComplete(this.request, where) };
    // Newest COMPLETE first; an older one only wins when its deltas bridge a gap the newer chains can not.
    const newestPosition = maxBy(pool, (b) => b.logPositionEnd)!.logPositionEnd;
    let best: Chain | undefined;
    for (const complete of [...completes].reverse()) {
      const chain = await this.chain(pool, complete, {});
      if (!best || chain.position > best.position) best = chain;
      if (best.position >= newestPosition) break;
    }
    return { ok: true, chain: best! };
  }

  async bounded(pool: PlannerBackup[], where: string, bound: Bound): Promise<Outcome> {
    const request = this.request;
    const completes = pool.filter((b) => b.type === "COMPLETE");
    if (completes.length === 0) return { ok: false, failure: noComplete(request, where) };
    const byTime = bound.time !== undefined;
    const target = byTime ? `point in time ${iso(bound.time!)}` : `log position ${bound.position}`;

    // Past the newest commit the backups know of.
    const newest = byTime
      ? maxBy(
          pool.filter((b) => b.coversUntil !== null),
          (b) => b.coversUntil!.getTime(),
        )
      : maxBy(pool, (b) => b.logPositionEnd);
    const tooLate = byTime
      ? !newest || newest.coversUntil!.getTime() < bound.time!.getTime()
      : !newest || newest.logPositionEnd < bound.position!;
    if (tooLate) {
      const newestText = !newest
        ? "no commit"
        : byTime
          ? `the commit at ${iso(newest.coversUntil!)} (log position ${newest.logPositionEnd})`
          : `log position ${newest.logPositionEnd}${newest.coversUntil ? ` (committed at ${iso(newest.coversUntil)})` : ""}`;
      return {
        ok: false,
        position: newest?.logPositionEnd ?? -1n,
        failure: {
          summary: `${target} is after the newest commit ${where}: ${newestText}`,
          advice: `choose a ${byTime ? "point in time" : "log position"} at or before it, or use RECOVERY_TO_MOST_RECENT`,
        },
      };
    }

    // Before the first COMPLETE backup.
    const candidates = completes.filter((c) => within(c, bound)).reverse();
    if (candidates.length === 0) {
      const first = completes[0]!;
      const earliest = byTime ? `${iso(first.coversUntil!)}` : `log position ${first.logPositionEnd}`;
      return {
        ok: false,
        failure: {
          summary:
            `${target} is before the first COMPLETE data backup ${where}, ${label(first)}; ` +
            `the earliest recoverable ${byTime ? "point in time" : "position"} is ${earliest}`,
          advice: `choose a ${byTime ? "point in time" : "log position"} at or after ${earliest}`,
        },
      };
    }

    let furthest: Chain | undefined;
    for (const complete of candidates) {
      const chain = await this.chain(pool, complete, bound);
      if (chain.reached) return { ok: true, chain };
      if (!furthest || chain.position > furthest.position) furthest = chain;
    }
    const chain = furthest!;
    const reachedText = `${chain.time ? `${iso(chain.time)}, ` : ""}log position ${chain.position}`;
    const later = completes.find((c) => c.logPositionEnd > chain.position);
    const laterText = later
      ? ` or at or after ${byTime && later.coversUntil ? iso(later.coversUntil) : `log position ${later.logPositionEnd}`} (COMPLETE backup ${label(later)})`
      : "";
    const gap = chain.gap;
    return {
      ok: false,
      position: chain.position,
      failure: {
        summary: gap
          ? `${target} is unreachable ${where}: log chain has a gap: positions ${gap.from}..${gap.to} are missing`
          : `${target} is unreachable ${where}: the log chain ends at ${reachedText}`,
        advice:
          `choose a target at or before ${reachedText} (the newest reachable point${gap ? " before the gap" : ""})` +
          `${laterText}, or take a new COMPLETE data backup`,
      },
    };
  }

  async specificBackup(pool: PlannerBackup[], where: string, backupId: string): Promise<Outcome> {
    const target = pool.find((b) => b.id === backupId);
    if (!target) {
      return {
        ok: false,
        failure: { summary: `backup ${backupId} is not ${where}`, advice: "choose a backup that is" },
      };
    }
    const deltas: PlannerBackup[] = [];
    let current = target;
    while (current.type !== "COMPLETE") {
      deltas.unshift(current);
      const from = current;
      const base = from.basePosition;
      const predecessor =
        base === null
          ? undefined
          : pool
              .filter(
                (b) =>
                  isData(b) &&
                  b !== from &&
                  b.logPositionEnd === base &&
                  base < from.logPositionEnd &&
                  (from.type === "INCREMENTAL" || b.type === "COMPLETE"),
              )
              .sort((a, b) => TYPE_ORDER[a.type] - TYPE_ORDER[b.type] || Number(b.mirrored) - Number(a.mirrored))[0];
      if (!predecessor) {
        return {
          ok: false,
          failure: {
            summary:
              `${from.type} backup ${label(from)} is based on the data backup at log position ${base ?? "?"}, ` +
              `which is not ${where}`,
            advice: "choose another backup (a COMPLETE one needs nothing else)",
          },
        };
      }
      current = predecessor;
    }
    return {
      ok: true,
      chain: {
        data: current,
        deltas,
        logs: [],
        position: target.logPositionEnd,
        time: target.coversUntil,
        reached: true,
        gap: null,
      },
    };
  }
}

function noComplete(request: PlanRequest, where: string): Failure {
  return {
    summary: `there is no COMPLETE data backup of ${request.sourceDatabaseName}@${request.sourceSid} ${where}`,
    advice: "take a COMPLETE data backup of the source database and wait until it is mirrored",
  };
}

function syncSentence(request: PlanRequest): string {
  const at = request.historicalSyncScheduledAt;
  switch (request.historicalSyncStatus) {
    case "SCHEDULED":
      return at && at.getTime() <= request.now.getTime()
        ? `historical sync of the mirror vault was scheduled for ${iso(at)} and starts shortly`
        : `historical sync of the mirror vault is scheduled for ${at ? iso(at) : "later"}`;
    case "RUNNING":
      return `historical sync of the mirror vault is running (scheduled for ${at ? iso(at) : "now"})`;
    case "COMPLETED":
      return "historical sync of the mirror vault has completed; newer backups are copied as they finish";
    case "FAILED":
      return "historical sync of the mirror vault failed; the backups it did not copy are not in the mirror";
    default:
      return "";
  }
}

function listBackups(backups: PlannerBackup[]): string {
  const shown = backups.slice(0, MAX_LISTED).map(label).join(", ");
  return backups.length > MAX_LISTED ? `${shown} and ${backups.length - MAX_LISTED} more` : shown;
}

function validate(request: PlanRequest): Bound | null {
  switch (request.mode) {
    case "RECOVERY_TO_POINT_IN_TIME": {
      const point = request.pointInTime;
      if (!point || Number.isNaN(point.getTime())) {
        throw InvalidInput.field(["input", "pointInTime"], "pointInTime is required for RECOVERY_TO_POINT_IN_TIME");
      }
      if (point.getTime() > request.now.getTime()) {
        throw InvalidInput.field(
          ["input", "pointInTime"],
          `pointInTime ${iso(point)} is in the future (now is ${iso(request.now)}); choose a point in the past or use RECOVERY_TO_MOST_RECENT`,
        );
      }
      return { time: point };
    }
    case "RECOVERY_TO_LOG_POSITION": {
      const position = request.logPosition;
      if (position === null || position === undefined) {
        throw InvalidInput.field(["input", "logPosition"], "logPosition is required for RECOVERY_TO_LOG_POSITION");
      }
      if (position < 0n) {
        throw InvalidInput.field(["input", "logPosition"], "logPosition must not be negative");
      }
      return { position };
    }
    case "RECOVERY_TO_SPECIFIC_BACKUP":
      if (!request.backupId) {
        throw InvalidInput.field(["input", "backupId"], "backupId is required for RECOVERY_TO_SPECIFIC_BACKUP");
      }
      return null;
    default:
      return null;
  }
}

/**
 * Plans a restore from the mirror vault. `backups`: every backup of the source database (any status; the planner
 * uses only COMPLETE ones, and only mirrored ones for the plan). Throws InvalidInput (bad/missing target input),
 * NotFound (unknown backupId) and FailedPrecondition (R10 not mirrored yet, R14 gap, target outside the backups).
 * RECOVERY_TO_SPECIFIC_BACKUP ignores `useDelta`: a delta backup always needs its chain.
 */
export async function planRestore(
  backups: PlannerBackup[],
  request: PlanRequest,
  lookupCatalog: CatalogLookup,
): Promise<RestorePlan> {
  const bound = validate(request);
  const all = sortBackups(backups.filter((b) => b.status === "COMPLETE"));
  const mirrored = all.filter((b) => b.mirrored);
  const planner = new Planner(request, lookupCatalog);

  if (request.mode === "RECOVERY_TO_SPECIFIC_BACKUP") {
    const backupId = request.backupId!;
    const backup = backups.find((b) => b.id === backupId);
    if (!backup) throw new NotFound(`no backup with id "${backupId}" of ${request.sourceDatabaseName}`);
    if (backup.type === "LOG") {
      throw InvalidInput.field(
        ["input", "backupId"],
        `backup ${label(backup)} is a LOG backup; choose a data backup (COMPLETE, DIFFERENTIAL or INCREMENTAL), ` +
          "or use RECOVERY_TO_LOG_POSITION / RECOVERY_TO_POINT_IN_TIME to replay logs",
      );
    }
    if (backup.status !== "COMPLETE") {
      throw new FailedPrecondition(
        backup.status === "RUNNING"
          ? `backup ${label(backup)} is still running; wait until it completes and is mirrored`
          : `backup ${label(backup)} failed; choose another backup`,
      );
    }
  }

  const attempt = (pool: PlannerBackup[], where: string): Promise<Outcome> => {
    switch (request.mode) {
      case "RECOVERY_TO_MOST_RECENT":
        return planner.mostRecent(pool, where);
      case "RECOVERY_TO_SPECIFIC_BACKUP":
        return planner.specificBackup(pool, where, request.backupId!);
      default:
        return planner.bounded(pool, where, bound!);
    }
  };

  const outcome = await attempt(mirrored, "in the mirror vault");
  if (outcome.ok) return toPlan(outcome.chain, request);

  const sync = syncSentence(request);
  const fromSource = await attempt(all, "in the source vault");
  if (fromSource.ok) {
    // R10: the source's backups would do, but some are not mirrored yet.
    const chain = fromSource.chain;
    const missing = [chain.data, ...chain.deltas, ...chain.logs].filter((b) => !b.mirrored);
    throw new FailedPrecondition(
      `the restore needs backups that are not mirrored yet: ${listBackups(missing)}` +
        (sync ? `; ${sync}` : "") +
        `. With the mirror vault's backups only: ${outcome.failure.summary}. ` +
        `Retry when they are mirrored, or ${outcome.failure.advice}`,
    );
  }

  // Neither works: the mirror's reason, plus a note on newer backups that are not mirrored yet.
  const reached = outcome.position;
  const unmirroredNewer = reached === undefined ? [] : all.filter((b) => !b.mirrored && b.logPositionEnd > reached);
  const note =
    unmirroredNewer.length > 0
      ? `. Newer backups are not mirrored yet: ${listBackups(unmirroredNewer)}${sync ? ` (${sync})` : ""}`
      : "";
  const advice = outcome.failure.advice;
  throw new FailedPrecondition(`${outcome.failure.summary}${note}. ${advice[0]!.toUpperCase()}${advice.slice(1)}`);
}

function toPlan(chain: Chain, request: PlanRequest): RestorePlan {
  const steps: PlanStep[] = [
    { backup: chain.data, action: "LOAD_DATA" as const },
    ...chain.deltas.map((backup) => ({ backup, action: "APPLY_DELTA" as const })),
    ...chain.logs.map((backup) => ({ backup, action: "REPLAY_LOG" as const })),
  ].map((step, index) => ({ order: index + 1, backupId: step.backup.id, action: step.action }));
  const used = [chain.data, ...chain.deltas, ...chain.logs];
  const totalBytes = used.reduce((sum, b) => sum + b.sizeBytes, 0n);
  let until: RecoverUntil;
  if (chain.logs.length === 0) {
    until = { kind: "BACKUP_ID", hanaBackupId: (chain.deltas.at(-1) ?? chain.data).hanaBackupId };
  } else if (request.mode === "RECOVERY_TO_LOG_POSITION" || chain.time === null) {
    until = { kind: "LOG_POSITION", position: chain.position };
  } else {
    until = { kind: "TIMESTAMP", time: chain.time };
  }
  return {
    steps,
    targetTime: chain.time,
    targetLogPosition: chain.position,
    totalBytes,
    recoverStatement: buildRecoverStatement({
      targetDatabaseName: request.targetDatabaseName,
      sourceDatabaseName: request.sourceDatabaseName,
      sourceSid: request.sourceSid,
      crossSystem: request.crossSystem,
      checkAccess: request.checkAccess,
      useDelta: chain.deltas.length > 0,
      until,
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------------

const TENANT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * SAP HANA target database rules (R15): SYSTEMDB is restored only as SYSTEMDB, a tenant never into SYSTEMDB;
 * tenant names start with a letter, then letters, digits or `_`, at most 127 characters, never `_SYS_…`.
 * Throws InvalidInput on ["input", "targetDatabaseName"].
 */
export function checkTargetDatabaseName(sourceDatabaseName: string, targetDatabaseName: string): void {
  const path = ["input", "targetDatabaseName"];
  const sourceIsSystem = sourceDatabaseName.toUpperCase() === "SYSTEMDB";
  const targetIsSystem = targetDatabaseName.toUpperCase() === "SYSTEMDB";
  if (sourceIsSystem && !targetIsSystem) {
    throw InvalidInput.field(
      path,
      `SYSTEMDB can only be restored as SYSTEMDB (it is never renamed); set targetDatabaseName to SYSTEMDB or leave it out`,
    );
  }
  if (!sourceIsSystem && targetIsSystem) {
    throw InvalidInput.field(
      path,
      `tenant database ${sourceDatabaseName} can not be restored into SYSTEMDB; choose a tenant database name`,
    );
  }
  if (targetIsSystem) return;
  if (targetDatabaseName.length === 0 || targetDatabaseName.length > 127) {
    throw InvalidInput.field(path, "a tenant database name must be 1 to 127 characters long");
  }
  if (targetDatabaseName.toUpperCase().startsWith("_SYS_")) {
    throw InvalidInput.field(path, `tenant database name "${targetDatabaseName}" must not start with _SYS_`);
  }
  if (!TENANT_NAME.test(targetDatabaseName)) {
    throw InvalidInput.field(
      path,
      `tenant database name "${targetDatabaseName}" is invalid: it must start with a letter and contain only ` +
        "letters, digits and _",
    );
  }
}
