// R14 (and R10) for RECOVERY_TO_POINT_IN_TIME: the planner on the fixtures' timeline (commit p at T0 + p s).
import { describe, expect, it } from "vitest";
import { FailedPrecondition, InvalidInput } from "../../../src/domain/errors.ts";
import { planRestore } from "../../../src/domain/restores/plan.ts";
import type { PlanRequest } from "../../../src/domain/restores/planInput.ts";
import { catalogFor, commitTime, data, failure, log, NOW, plan, request, standard, stepsOf } from "./fixtures.ts";

describe("RECOVERY_TO_POINT_IN_TIME", () => {
  const pit = (pointInTime: Date, overrides: Partial<PlanRequest> = {}) => ({
    mode: "RECOVERY_TO_POINT_IN_TIME" as const,
    pointInTime,
    ...overrides,
  });

  it("a point between two commits reaches the earlier one", async () => {
    const backups = standard();
    const lookup = catalogFor(backups);
    const point = new Date(commitTime(25).getTime() + 500);
    const result = await planRestore(backups, request(pit(point)), lookup);
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:APPLY_DELTA:d20", "3:REPLAY_LOG:l21"]);
    expect(result.targetLogPosition).toBe(25n);
    expect(result.targetTime).toEqual(commitTime(25));
    expect(result.totalBytes).toBe(1400n);
    expect(lookup.calls).toEqual([["l21"]]);
  });

  it("without useDelta replays the logs from the complete backup", async () => {
    const result = await plan(standard(), pit(commitTime(25), { useDelta: false }));
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:REPLAY_LOG:l11", "3:REPLAY_LOG:l21"]);
    expect(result.targetLogPosition).toBe(25n);
  });

  it("a point exactly at a delta backup needs no log replay", async () => {
    const backups = standard();
    const result = await plan(backups, pit(commitTime(30)));
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:APPLY_DELTA:d20", "3:APPLY_DELTA:i30"]);
    expect(result.targetLogPosition).toBe(30n);
  });

  it("a point just before a log backup's first commit does not replay it", async () => {
    const result = await plan(standard(), pit(new Date(commitTime(21).getTime() - 1), { useDelta: false }));
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:REPLAY_LOG:l11"]);
    expect(result.targetLogPosition).toBe(20n);
  });

  it("uses the newest complete backup at or before the point", async () => {
    const backups = [...standard(), data("c40", "COMPLETE", 40), log("l41", 41, 50)];
    const result = await plan(backups, pit(commitTime(45)));
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c40", "2:REPLAY_LOG:l41"]);
    const earlier = await plan(backups, pit(commitTime(38)));
    expect(earlier.steps[0]!.backupId).toBe("c10");
    expect(earlier.targetLogPosition).toBe(38n);
  });

  it("refuses a point in the future", async () => {
    const error = await failure(plan(standard(), pit(new Date(NOW.getTime() + 1000))));
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).issues[0]!.path).toEqual(["input", "pointInTime"]);
  });

  it("requires pointInTime", async () => {
    const error = await failure(plan(standard(), { mode: "RECOVERY_TO_POINT_IN_TIME" }));
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).issues[0]!.path).toEqual(["input", "pointInTime"]);
  });

  it("refuses a point before the first complete backup, naming the earliest recoverable time", async () => {
    const error = await failure(plan(standard(), pit(commitTime(5))));
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toContain("earliest recoverable point in time is 2026-11-24T10:00:10.123Z");
    expect(error.message).toContain("Choose a point in time at or after 2026-11-24T10:00:10.123Z");
  });

  it("refuses a point after the newest mirrored commit, naming it", async () => {
    const error = await failure(plan(standard(), pit(commitTime(45))));
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toContain("newest commit in the mirror vault");
    expect(error.message).toContain("2026-11-24T10:00:40.123Z (log position 40)");
  });

  it("R10: a point only the not-yet-mirrored backups cover lists them and the scheduled sync", async () => {
    const backups = [...standard(), log("l41", 41, 50, { mirrored: false })];
    const error = await failure(plan(backups, pit(commitTime(45))));
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toContain("not mirrored yet: LOG_l41 (l41)");
    expect(error.message).toContain("historical sync of the mirror vault is scheduled for 2026-11-24T12:00:00.000Z");
    expect(error.message).toContain("2026-11-24T10:00:40.123Z");
  });

  it("R10: an unmirrored log in the middle of the chain is reported unless a delta avoids it", async () => {
    const backups = standard().map((b) => (b.id === "l21" ? { ...b, mirrored: false } : b));
    const error = await failure(
      plan(backups, pit(commitTime(35), { useDelta: false, historicalSyncStatus: "RUNNING" })),
    );
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toContain("not mirrored yet: LOG_l21 (l21)");
    expect(error.message).toContain("is running (scheduled for 2026-11-24T12:00:00.000Z)");
    expect(error.message).toContain("positions 21..30 are missing");
    // With deltas, the mirrored INCREMENTAL @30 skips the unmirrored log.
    expect((await plan(backups, pit(commitTime(35)))).targetLogPosition).toBe(35n);
  });

  it("R10: the newest complete backup not mirrored and the mirror has nothing older", async () => {
    const backups = [data("c10", "COMPLETE", 10, undefined), log("l11", 11, 20)];
    backups[0]!.mirrored = false;
    const error = await failure(plan(backups, pit(commitTime(15), { historicalSyncStatus: "COMPLETED" })));
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toContain("not mirrored yet: COMPLETE_c10 (c10)");
    expect(error.message).toContain("historical sync of the mirror vault has completed");
  });

  it("R14: a point past a gap reports the exact missing positions", async () => {
    const backups = [data("c10", "COMPLETE", 10), log("l11", 11, 20), log("l26", 26, 40)];
    const error = await failure(plan(backups, pit(commitTime(30))));
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toContain("log chain has a gap: positions 21..25 are missing");
    expect(error.message).toContain("2026-11-24T10:00:20.123Z, log position 20");
    // Before the gap it works.
    expect((await plan(backups, pit(commitTime(18)))).targetLogPosition).toBe(18n);
  });

  it("R14: a gap between the data backup and the first log backup", async () => {
    const backups = [data("c10", "COMPLETE", 10), log("l13", 13, 20)];
    const error = await failure(plan(backups, pit(commitTime(15))));
    expect(error.message).toContain("log chain has a gap: positions 11..12 are missing");
  });

  it("R14: a gap the source has too is reported with newer unmirrored backups", async () => {
    const backups = [data("c10", "COMPLETE", 10), log("l11", 11, 20), log("l26", 26, 40, { mirrored: false })];
    expect((await plan(backups, pit(commitTime(19)))).targetLogPosition).toBe(19n);
    // 30 is past the mirror's newest commit, and past the gap in the source too.
    const past = await failure(plan(backups, pit(commitTime(30))));
    expect(past).toBeInstanceOf(FailedPrecondition);
    expect(past.message).toContain("after the newest commit in the mirror vault");
    expect(past.message).toContain("Newer backups are not mirrored yet: LOG_l26 (l26)");
  });
});
