// Planner fixtures: backups of source database HXE@HXA on a timeline where commit p happened at T0 + p seconds.

import { planRestore } from "../../../src/domain/restores/plan.ts";
import type { CatalogLookup, CatalogRow, PlannerBackup, PlanRequest } from "../../../src/domain/restores/planInput.ts";

// Commit at log position p happened at 10:00:00.123 + p seconds (UTC).
export const T0 = Date.parse("2026-11-24T10:00:00.123Z");
export const commitTime = (p: number) => new Date(T0 + p * 1000);
export const NOW = new Date("2026-11-24T11:00:00.000Z");

let nextHanaId = 1645628400000n;
export function backup(
  id: string,
  type: PlannerBackup["type"],
  start: number,
  end: number,
  options: Partial<PlannerBackup> = {},
): PlannerBackup {
  nextHanaId += 1n;
  return {
    id,
    type,
    status: "COMPLETE",
    hanaBackupId: nextHanaId,
    prefix: `${type}_${id}`,
    sizeBytes: type === "LOG" ? 100n : type === "COMPLETE" ? 1000n : 300n,
    logPositionStart: BigInt(start),
    logPositionEnd: BigInt(end),
    basePosition: null,
    coversUntil: commitTime(end),
    completedAt: commitTime(end),
    mirrored: true,
    ...options,
  };
}
export const data = (id: string, type: "COMPLETE" | "DIFFERENTIAL" | "INCREMENTAL", at: number, base?: number) =>
  backup(id, type, at, at, base === undefined ? {} : { basePosition: BigInt(base) });
export const log = (id: string, start: number, end: number, options: Partial<PlannerBackup> = {}) =>
  backup(id, "LOG", start, end, options);

/** COMPLETE @10, LOG 11..20, DIFF @20 (base 10), LOG 21..30, INC @30 (base 20), LOG 31..40. */
export function standard(): PlannerBackup[] {
  return [
    data("c10", "COMPLETE", 10),
    log("l11", 11, 20),
    data("d20", "DIFFERENTIAL", 20, 10),
    log("l21", 21, 30),
    data("i30", "INCREMENTAL", 30, 20),
    log("l31", 31, 40),
  ];
}

export function catalogFor(backups: PlannerBackup[]): CatalogLookup & { calls: string[][] } {
  const calls: string[][] = [];
  const lookup = async (ids: string[]) => {
    calls.push(ids);
    const result = new Map<string, CatalogRow[]>();
    for (const id of ids) {
      const b = backups.find((x) => x.id === id)!;
      const rows: CatalogRow[] = [];
      for (let p = Number(b.logPositionStart); p <= Number(b.logPositionEnd); p++) {
        rows.push({ logPosition: BigInt(p), commitTime: commitTime(p) });
      }
      result.set(id, rows);
    }
    return result;
  };
  return Object.assign(lookup, { calls });
}

export function request(overrides: Partial<PlanRequest> = {}): PlanRequest {
  return {
    mode: "RECOVERY_TO_MOST_RECENT",
    useDelta: true,
    sourceDatabaseName: "HXE",
    sourceSid: "HXA",
    targetDatabaseName: "HXE",
    crossSystem: true,
    checkAccess: true,
    historicalSyncScheduledAt: new Date("2026-11-24T12:00:00.000Z"),
    historicalSyncStatus: "SCHEDULED",
    now: NOW,
    ...overrides,
  };
}

export async function plan(backups: PlannerBackup[], overrides: Partial<PlanRequest> = {}) {
  return planRestore(backups, request(overrides), catalogFor(backups));
}

export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the plan to fail");
}

export const stepsOf = (p: { steps: { order: number; backupId: string; action: string }[] }) =>
  p.steps.map((s) => `${s.order}:${s.action}:${s.backupId}`);
