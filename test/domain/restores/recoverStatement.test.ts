// The exact SAP HANA statement of each restore mode (shared/reference/domain.md): deltas are HANA's default and
// IGNORE DELTA DATA turns them off; a log position names its volume; log replay names its full backup.
import { describe, expect, it } from "vitest";
import { buildRecoverStatement, hanaTimestamp, mirrorPaths } from "../../../src/domain/restores/recoverStatement.ts";
import { commitTime, plan, standard } from "./fixtures.ts";

const PATHS =
  "USING CATALOG PATH ('/hana/mirror/HXA/catalog') USING LOG PATH ('/hana/mirror/HXA/log') " +
  "USING DATA PATH ('/hana/mirror/HXA/data')";
const DATA_PATHS = "USING CATALOG PATH ('/hana/mirror/HXA/catalog') USING DATA PATH ('/hana/mirror/HXA/data')";

/** COMPLETE c10, LOG l11, DIFFERENTIAL d20, LOG l21, INCREMENTAL i30, LOG l31 (see fixtures.ts). */
function backups() {
  const all = standard();
  const hanaId = (id: string) => all.find((b) => b.id === id)!.hanaBackupId;
  return { all, hanaId };
}

describe("recover statement per mode", () => {
  it("RECOVERY_TO_MOST_RECENT: until the newest commit's time, from the COMPLETE backup, deltas by default", async () => {
    const { all, hanaId } = backups();
    const result = await plan(all);
    expect(result.recoverStatement).toBe(
      "RECOVER DATABASE FOR HXE UNTIL TIMESTAMP '2026-11-24 10:00:40.123' CLEAR LOG USING SOURCE 'HXE@HXA' " +
        `${PATHS} USING BACKUP_ID ${hanaId("c10")} CHECK ACCESS USING FILE`,
    );
  });

  it("RECOVERY_TO_MOST_RECENT without useDelta: IGNORE DELTA DATA, no CHECK ACCESS when not asked", async () => {
    const { all, hanaId } = backups();
    const result = await plan(all, { useDelta: false, checkAccess: false, targetDatabaseName: "HXE2" });
    expect(result.recoverStatement).toBe(
      "RECOVER DATABASE FOR HXE2 UNTIL TIMESTAMP '2026-11-24 10:00:40.123' CLEAR LOG USING SOURCE 'HXE@HXA' " +
        `${PATHS} USING BACKUP_ID ${hanaId("c10")} IGNORE DELTA DATA`,
    );
  });

  it("RECOVERY_TO_POINT_IN_TIME: until the reached commit's time, naming the full backup", async () => {
    const { all, hanaId } = backups();
    const pointInTime = new Date(commitTime(25).getTime() + 500);
    const result = await plan(all, { mode: "RECOVERY_TO_POINT_IN_TIME", pointInTime });
    expect(result.recoverStatement).toBe(
      "RECOVER DATABASE FOR HXE UNTIL TIMESTAMP '2026-11-24 10:00:25.123' CLEAR LOG USING SOURCE 'HXE@HXA' " +
        `${PATHS} USING BACKUP_ID ${hanaId("c10")} CHECK ACCESS USING FILE`,
    );
    const logsOnly = await plan(all, { mode: "RECOVERY_TO_POINT_IN_TIME", pointInTime, useDelta: false });
    expect(logsOnly.recoverStatement).toBe(
      "RECOVER DATABASE FOR HXE UNTIL TIMESTAMP '2026-11-24 10:00:25.123' CLEAR LOG USING SOURCE 'HXE@HXA' " +
        `${PATHS} USING BACKUP_ID ${hanaId("c10")} IGNORE DELTA DATA CHECK ACCESS USING FILE`,
    );
  });

  it("RECOVERY_TO_SPECIFIC_BACKUP: RECOVER DATA of that backup, ending with CLEAR LOG", async () => {
    const { all, hanaId } = backups();
    const complete = await plan(all, { mode: "RECOVERY_TO_SPECIFIC_BACKUP", backupId: "c10" });
    expect(complete.recoverStatement).toBe(
      `RECOVER DATA FOR HXE USING BACKUP_ID ${hanaId("c10")} USING SOURCE 'HXE@HXA' ${DATA_PATHS} ` +
        "CHECK ACCESS USING FILE CLEAR LOG",
    );
    const incremental = await plan(all, { mode: "RECOVERY_TO_SPECIFIC_BACKUP", backupId: "i30", checkAccess: false });
    expect(incremental.recoverStatement).toBe(
      `RECOVER DATA FOR HXE USING BACKUP_ID ${hanaId("i30")} USING SOURCE 'HXE@HXA' ${DATA_PATHS} CLEAR LOG`,
    );
  });

  it("RECOVERY_TO_LOG_POSITION: UNTIL LOG POSITION … AT VOLUME …, naming the full backup", async () => {
    const { all, hanaId } = backups();
    const result = await plan(all, { mode: "RECOVERY_TO_LOG_POSITION", logPosition: 35n });
    expect(result.recoverStatement).toBe(
      "RECOVER DATABASE FOR HXE UNTIL LOG POSITION 35 AT VOLUME 1 CLEAR LOG USING SOURCE 'HXE@HXA' " +
        `${PATHS} USING BACKUP_ID ${hanaId("c10")} CHECK ACCESS USING FILE`,
    );
  });

  it("a target reached by delta backups alone is a data-only recovery of the last delta", async () => {
    const { all, hanaId } = backups();
    const result = await plan(all, { mode: "RECOVERY_TO_POINT_IN_TIME", pointInTime: commitTime(30) });
    expect(result.recoverStatement).toBe(
      `RECOVER DATA FOR HXE USING BACKUP_ID ${hanaId("i30")} USING SOURCE 'HXE@HXA' ${DATA_PATHS} ` +
        "CHECK ACCESS USING FILE CLEAR LOG",
    );
  });
});

describe("recover statement text", () => {
  it("formats UTC timestamps with milliseconds and mirror paths", () => {
    expect(hanaTimestamp(new Date("2026-11-24T10:15:03.123Z"))).toBe("2026-11-24 10:15:03.123");
    expect(mirrorPaths("HXA")).toEqual({
      catalog: "/hana/mirror/HXA/catalog",
      log: "/hana/mirror/HXA/log",
      data: "/hana/mirror/HXA/data",
    });
  });

  it("omits USING SOURCE and CLEAR LOG for a same-system recovery", () => {
    const statement = buildRecoverStatement({
      targetDatabaseName: "HXE",
      sourceDatabaseName: "HXE",
      sourceSid: "HXA",
      crossSystem: false,
      checkAccess: false,
      useDelta: false,
      hanaBackupId: 1645628400235n,
      until: { kind: "LOG_POSITION", position: 7n, volumeId: 1 },
    });
    expect(statement).toBe(
      `RECOVER DATABASE FOR HXE UNTIL LOG POSITION 7 AT VOLUME 1 ${PATHS} USING BACKUP_ID 1645628400235 IGNORE DELTA DATA`,
    );
  });
});
