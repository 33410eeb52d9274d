// The four restore modes: each finds the chain of one set of backups (the mirror's, or the source's) or says why
// there is none. RECOVERY_TO_POINT_IN_TIME and RECOVERY_TO_LOG_POSITION share `bounded` (R14).
import { InvalidInput } from "../errors.ts";
import { type Bound, type Chain, type ChainSearch, maxBy, TYPE_ORDER, within } from "./chainSearch.ts";
import { type Failure, iso, label, noComplete } from "./messages.ts";
import type { PlannerBackup, PlanRequest } from "./planInput.ts";

/** `position`: how far the set's backups got, for the note on newer unmirrored backups. */
export type Outcome = { ok: true; chain: Chain } | { ok: false; failure: Failure; position?: bigint };

/** Checks the inputs the mode needs (InvalidInput on the field); the bound of a point in time / log position. */
export function modeBound(request: PlanRequest): Bound | null {
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
      if (position < 0n) throw InvalidInput.field(["input", "logPosition"], "logPosition must not be negative");
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

/** The newest COMPLETE first; an older one only wins when its deltas bridge a gap the newer chains can not. */
export async function mostRecent(search: ChainSearch, pool: PlannerBackup[], where: string): Promise<Outcome> {
  const completes = pool.filter((b) => b.type === "COMPLETE");
  if (completes.length === 0) return { ok: false, failure: noComplete(search.request, where) };
  const newestPosition = maxBy(pool, (b) => b.logPositionEnd)!.logPositionEnd;
  let best: Chain | undefined;
  for (const complete of [...completes].reverse()) {
    const chain = await search.chain(pool, complete, {});
    if (!best || chain.position > best.position) best = chain;
    if (best.position >= newestPosition) break;
  }
  return { ok: true, chain: best! };
}

/** R14: a COMPLETE at or before the target and a gap-free log chain up to it; a gap names the missing positions. */
export async function bounded(
  search: ChainSearch,
  pool: PlannerBackup[],
  where: string,
  bound: Bound,
): Promise<Outcome> {
  const completes = pool.filter((b) => b.type === "COMPLETE");
  if (completes.length === 0) return { ok: false, failure: noComplete(search.request, where) };
  const byTime = bound.time !== undefined;
  const target = byTime ? `point in time ${iso(bound.time!)}` : `log position ${bound.position}`;
  const unit = byTime ? "point in time" : "log position";

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
        advice: `choose a ${unit} at or before it, or use RECOVERY_TO_MOST_RECENT`,
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
        advice: `choose a ${unit} at or after ${earliest}`,
      },
    };
  }

  let furthest: Chain | undefined;
  for (const complete of candidates) {
    const chain = await search.chain(pool, complete, bound);
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

/** The data backup and the data backups it is based on, back to its COMPLETE; no log replay. */
export function specificBackup(pool: PlannerBackup[], where: string, backupId: string): Outcome {
  const target = pool.find((b) => b.id === backupId);
  if (!target) {
    return { ok: false, failure: { summary: `backup ${backupId} is not ${where}`, advice: "choose a backup that is" } };
  }
  const deltas: PlannerBackup[] = [];
  let current = target;
  while (current.type !== "COMPLETE") {
    deltas.unshift(current);
    const predecessor = baseOf(pool, current);
    if (!predecessor) {
      return {
        ok: false,
        failure: {
          summary:
            `${current.type} backup ${label(current)} is based on the data backup at log position ` +
            `${current.basePosition ?? "?"}, which is not ${where}`,
          advice: "choose another backup (a COMPLETE one needs nothing else)",
        },
      };
    }
    current = predecessor;
  }
  const chain = { data: current, deltas, logs: [], position: target.logPositionEnd, time: target.coversUntil };
  return { ok: true, chain: { ...chain, reached: true, gap: null } };
}

/** The data backup a delta is based on: a COMPLETE for a DIFFERENTIAL, any data backup for an INCREMENTAL. */
function baseOf(pool: PlannerBackup[], delta: PlannerBackup): PlannerBackup | undefined {
  const base = delta.basePosition;
  if (base === null || base >= delta.logPositionEnd) return undefined;
  return pool
    .filter(
      (b) =>
        b.type !== "LOG" &&
        b !== delta &&
        b.logPositionEnd === base &&
        (delta.type === "INCREMENTAL" || b.type === "COMPLETE"),
    )
    .sort((a, b) => TYPE_ORDER[a.type] - TYPE_ORDER[b.type] || Number(b.mirrored) - Number(a.mirrored))[0];
}
