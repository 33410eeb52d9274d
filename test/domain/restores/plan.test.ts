// The planner (R10, R14) for RECOVERY_TO_MOST_RECENT, _SPECIFIC_BACKUP and _LOG_POSITION, on the fixtures' timeline.
import { describe, expect, it } from "vitest";
import { FailedPrecondition, InvalidInput, NotFound } from "../../../src/domain/errors.ts";
import type { PlannerBackup, PlanRequest } from "../../../src/domain/restores/planInput.ts";
import { backup, commitTime, data, failure, log, plan, standard, stepsOf } from "./fixtures.ts";

describe("RECOVERY_TO_MOST_RECENT", () => {
  it("uses the complete backup, the furthest delta path and the logs after it", async () => {
    const result = await plan(standard());
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:APPLY_DELTA:d20", "3:APPLY_DELTA:i30", "4:REPLAY_LOG:l31"]);
    expect(result.targetLogPosition).toBe(40n);
    expect(result.targetTime).toEqual(commitTime(40));
    expect(result.totalBytes).toBe(1000n + 300n + 300n + 100n);
  });

  it("without useDelta replays every log backup after the complete backup", async () => {
    const result = await plan(standard(), { useDelta: false, checkAccess: false, targetDatabaseName: "HXE2" });
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:REPLAY_LOG:l11", "3:REPLAY_LOG:l21", "4:REPLAY_LOG:l31"]);
    expect(result.targetLogPosition).toBe(40n);
    expect(result.totalBytes).toBe(1300n);
  });

  it("picks the delta path that reaches furthest (a DIFFERENTIAL beats an older INCREMENTAL chain)", async () => {
    const backups = [
      data("c10", "COMPLETE", 10),
      data("i15", "INCREMENTAL", 15, 10),
      data("i18", "INCREMENTAL", 18, 15),
      data("d25", "DIFFERENTIAL", 25, 10),
      data("i28", "INCREMENTAL", 28, 25),
      log("l11", 11, 30),
    ];
    const result = await plan(backups);
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:APPLY_DELTA:d25", "3:APPLY_DELTA:i28", "4:REPLAY_LOG:l11"]);
    expect(result.targetLogPosition).toBe(30n);
  });

  it("starts from the newest complete backup", async () => {
    const backups = [...standard(), data("c40", "COMPLETE", 40), log("l41", 41, 45)];
    const result = await plan(backups);
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c40", "2:REPLAY_LOG:l41"]);
    expect(result.targetLogPosition).toBe(45n);
  });

  it("stops at a gap in the log chain", async () => {
    const backups = [data("c10", "COMPLETE", 10), log("l11", 11, 20), log("l26", 26, 40)];
    const result = await plan(backups);
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:REPLAY_LOG:l11"]);
    expect(result.targetLogPosition).toBe(20n);
    expect(result.targetTime).toEqual(commitTime(20));
  });

  it("a delta backup bridges a gap in the log chain", async () => {
    const backups = [
      data("c10", "COMPLETE", 10),
      log("l11", 11, 20),
      data("d30", "DIFFERENTIAL", 30, 10),
      log("l26", 26, 40),
    ];
    expect((await plan(backups)).targetLogPosition).toBe(40n);
    expect((await plan(backups, { useDelta: false })).targetLogPosition).toBe(20n);
  });

  it("follows overlapping log backups", async () => {
    const backups = [data("c10", "COMPLETE", 10), log("l5", 5, 12), log("l11", 11, 20), log("l15", 15, 25)];
    const result = await plan(backups);
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:REPLAY_LOG:l11", "3:REPLAY_LOG:l15"]);
    expect(result.targetLogPosition).toBe(25n);
  });

  it("plans long chains quickly", async () => {
    const backups: PlannerBackup[] = [];
    for (let i = 0; i < 50; i++) {
      const base = i * 1000 + 10;
      backups.push(backup(`c${base}`, "COMPLETE", base, base, { mirrored: i < 49 }));
      for (let j = 0; j < 100; j++) backups.push(log(`l${base}_${j}`, base + j * 10 + 1, base + j * 10 + 10));
    }
    const started = performance.now();
    const result = await plan(backups);
    expect(result.steps[0]!.backupId).toBe("c48010");
    expect(result.targetLogPosition).toBe(50_010n);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("without logs after the data backup it is a data-only recovery", async () => {
    const backups = [data("c10", "COMPLETE", 10)];
    const result = await plan(backups);
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10"]);
  });

  it("reaches the newest mirrored point and ignores backups that are not mirrored", async () => {
    const backups = [
      ...standard(),
      log("l41", 41, 50, { mirrored: false }),
      data("c50", "COMPLETE", 50, undefined),
      log("l51", 51, 60, { status: "RUNNING" }),
      log("l61", 61, 70, { status: "FAILED" }),
    ];
    backups.find((b) => b.id === "c50")!.mirrored = false;
    const result = await plan(backups);
    expect(result.targetLogPosition).toBe(40n);
    expect(result.steps.map((s) => s.backupId)).not.toContain("l41");
  });

  it("uses an older mirrored complete backup when the newest is not mirrored yet", async () => {
    const backups = [...standard(), data("c40", "COMPLETE", 40, undefined)];
    backups.at(-1)!.mirrored = false;
    const result = await plan(backups);
    expect(result.steps[0]!.backupId).toBe("c10");
    expect(result.targetLogPosition).toBe(40n);
  });

  it("fails with R10 when no complete backup is mirrored", async () => {
    const backups = standard().map((b) => ({ ...b, mirrored: b.id !== "c10" }));
    const error = await failure(plan(backups));
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toContain("not mirrored yet: COMPLETE_c10 (c10)");
    expect(error.message).toContain("scheduled for 2026-11-24T12:00:00.000Z");
  });

  it("fails when there is no complete backup at all", async () => {
    const error = await failure(plan([log("l11", 11, 20)]));
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toMatch(/no COMPLETE data backup of HXE@HXA/);
    expect(error.message).toMatch(/take a COMPLETE data backup/i);
  });
});

describe("RECOVERY_TO_SPECIFIC_BACKUP", () => {
  const specific = (backupId: string) => ({ mode: "RECOVERY_TO_SPECIFIC_BACKUP" as const, backupId });

  it("a COMPLETE backup alone", async () => {
    const backups = standard();
    const result = await plan(backups, specific("c10"));
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10"]);
    expect(result.targetLogPosition).toBe(10n);
    expect(result.targetTime).toEqual(commitTime(10));
    expect(result.totalBytes).toBe(1000n);
  });

  it("a DIFFERENTIAL backup with its COMPLETE", async () => {
    const result = await plan(standard(), specific("d20"));
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:APPLY_DELTA:d20"]);
    expect(result.targetLogPosition).toBe(20n);
    expect(result.totalBytes).toBe(1300n);
  });

  it("an INCREMENTAL backup with its chain of data backups", async () => {
    const result = await plan(standard(), specific("i30"));
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:APPLY_DELTA:d20", "3:APPLY_DELTA:i30"]);
    expect(result.targetLogPosition).toBe(30n);
    expect(result.targetTime).toEqual(commitTime(30));
    expect(result.steps.some((s) => s.action === "REPLAY_LOG")).toBe(false);
  });

  it("refuses a LOG backup", async () => {
    const error = await failure(plan(standard(), specific("l21")));
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).issues[0]!.path).toEqual(["input", "backupId"]);
    expect(error.message).toContain("RECOVERY_TO_LOG_POSITION");
  });

  it("an unknown backup is not found", async () => {
    expect(await failure(plan(standard(), specific("nope")))).toBeInstanceOf(NotFound);
  });

  it("a failed or running backup can not be restored", async () => {
    const backups = [...standard(), data("c40", "COMPLETE", 40, undefined)];
    backups.at(-1)!.status = "FAILED";
    const error = await failure(plan(backups, specific("c40")));
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toContain("choose another backup");
  });

  it("R10: the backup or its base is not mirrored yet", async () => {
    const backups = standard().map((b) => (b.id === "d20" ? { ...b, mirrored: false } : b));
    const error = await failure(plan(backups, specific("i30")));
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toContain("not mirrored yet: DIFFERENTIAL_d20 (d20)");
    expect(error.message).toContain("scheduled for 2026-11-24T12:00:00.000Z");
  });
});

describe("RECOVERY_TO_LOG_POSITION", () => {
  const at = (logPosition: bigint, overrides: Partial<PlanRequest> = {}) => ({
    mode: "RECOVERY_TO_LOG_POSITION" as const,
    logPosition,
    ...overrides,
  });

  it("replays up to the position", async () => {
    const result = await plan(standard(), at(35n));
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:APPLY_DELTA:d20", "3:APPLY_DELTA:i30", "4:REPLAY_LOG:l31"]);
    expect(result.targetLogPosition).toBe(35n);
    expect(result.targetTime).toEqual(commitTime(35));
  });

  it("without useDelta", async () => {
    const result = await plan(standard(), at(25n, { useDelta: false }));
    expect(stepsOf(result)).toEqual(["1:LOAD_DATA:c10", "2:REPLAY_LOG:l11", "3:REPLAY_LOG:l21"]);
    expect(result.totalBytes).toBe(1200n);
  });

  it("a position past the newest mirrored one fails", async () => {
    const error = await failure(plan(standard(), at(41n)));
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toContain("log position 41 is after the newest commit in the mirror vault");
    expect(error.message).toContain("log position 40");
  });

  it("a position before the first complete backup fails", async () => {
    const error = await failure(plan(standard(), at(9n)));
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toContain("earliest recoverable position is log position 10");
  });

  it("a position past a gap fails with the missing positions", async () => {
    const backups = [data("c10", "COMPLETE", 10), log("l11", 11, 20), log("l26", 26, 40)];
    const error = await failure(plan(backups, at(23n)));
    expect(error).toBeInstanceOf(FailedPrecondition);
    expect(error.message).toContain("log chain has a gap: positions 21..25 are missing");
  });

  it("requires a non-negative logPosition", async () => {
    const error = await failure(plan(standard(), { mode: "RECOVERY_TO_LOG_POSITION" }));
    expect((error as InvalidInput).issues[0]!.path).toEqual(["input", "logPosition"]);
  });
});
