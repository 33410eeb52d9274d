// Recovery windows through the API: what the mirror's copies alone restore, growing as copies land; a LOG backup
// missing from the mirror is a gap, and restorePlan agrees with the window point by point.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drSetting, takeBackup, uuidOf, writeRows } from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { closeJobListeners, waitForSync } from "../support/jobs.ts";

const A = "cn-hangzhou";
const B = "cn-shanghai";
let gw: TestGateway;
let key: string;
let sourceVault: string;
let mirror: string;
let source: string;
let target: string;

const WINDOWS = `query($id: ID!) { node(id: $id) { ... on Vault { kind rpoTargetSeconds recoveryWindows {
  sourceInstance { id sid } databaseName earliestTime latestTime latestLogPosition gaps { fromPosition toPosition }
  sourceLatestTime rpoSeconds rpoBreached } } } }`;
const PLAN = `query($input: RestoreFromMirrorInput!) { restorePlan(input: $input) { __typename
  ... on RestorePlan { targetLogPosition estimatedDurationSeconds } ... on Error { code message } } }`;

async function windows(vaultId = mirror) {
  return (await gw.gql(key, WINDOWS, { id: vaultId })).node.recoveryWindows as any[];
}

/** A backup of PR1, taken and copied to the mirror in real time. */
async function backupAndCopy(type: string) {
  const backup = await takeBackup(gw, key, A, source, "PR1", type);
  await waitForSync.copy(gw.services, B, uuidOf(backup.id), uuidOf(mirror));
  return backup;
}

function plan(overrides: Record<string, unknown>) {
  const input = {
    mirrorVaultId: mirror,
    sourceInstanceId: source,
    sourceDatabaseName: "PR1",
    targetInstanceId: target,
    targetDatabaseName: "PR1",
    mode: "RECOVERY_TO_LOG_POSITION",
    overwrite: true,
    ...overrides,
  };
  return gw.gql(key, PLAN, { input }).then((d) => d.restorePlan);
}

beforeAll(async () => {
  // A long reconcile interval: nothing re-copies the backup a test removes from the mirror.
  gw = await startTestGateway(
    "windows",
    { historicalSyncDelayMs: 200, reconcileIntervalMs: 3_600_000 },
    { workerRegions: [A, B] },
  );
  key = (await gw.createAccount()).apiKey;
  ({ sourceVault, source, mirror, target } = await drSetting(gw, key, A, B));
}, 120_000);
afterAll(async () => {
  await closeJobListeners();
  await gw?.close();
});

describe("recovery windows", () => {
  let complete: any;
  let log1: any;
  let log2: any;
  let log3: any;

  it("are [] on a SOURCE and on a mirror with nothing backed up", async () => {
    expect(await windows(sourceVault)).toEqual([]);
    expect(await windows()).toEqual([]);
  });

  it("grow as backups land in the mirror", async () => {
    await writeRows(gw, key, source, "PR1", 10);
    complete = await backupAndCopy("COMPLETE");
    let [window] = await windows();
    expect(window.sourceInstance).toEqual({ id: source, sid: "PR1" });
    expect(window.databaseName).toBe("PR1");
    expect(window.earliestTime).toBe(complete.coversUntil);
    expect(window.latestTime).toBe(complete.coversUntil);
    expect(window.latestLogPosition).toBe(complete.logPositionEnd);
    expect(window.gaps).toEqual([]);
    expect(window.rpoSeconds).toBe(0);
    expect(window.rpoBreached).toBe(false);

    await writeRows(gw, key, source, "PR1", 7);
    log1 = await backupAndCopy("LOG");
    [window] = await windows();
    expect(window.earliestTime).toBe(complete.coversUntil);
    expect(window.latestTime).toBe(log1.coversUntil);
    expect(window.latestLogPosition).toBe(log1.logPositionEnd);
    expect(window.sourceLatestTime).toBe(log1.coversUntil);
  });

  it("a LOG backup deleted from the mirror is a gap; the points after it are not restorable", async () => {
    await writeRows(gw, key, source, "PR1", 9);
    log2 = await backupAndCopy("LOG");
    await writeRows(gw, key, source, "PR1", 6);
    log3 = await backupAndCopy("LOG");
    // The copy of log2 is lost from the mirror region's store (and so from the mirror).
    await gw.services.storage.region(B).deleteBackup(uuidOf(log2.id));
    await gw.services.db.backupCopy.delete({
      where: { backupId_mirrorVaultId: { backupId: uuidOf(log2.id), mirrorVaultId: uuidOf(mirror) } },
    });
    const [window] = await windows();
    expect(window.latestLogPosition).toBe(log1.logPositionEnd);
    expect(window.latestTime).toBe(log1.coversUntil);
    expect(window.gaps).toEqual([{ fromPosition: log2.logPositionStart, toPosition: log2.logPositionEnd }]);
    expect(window.sourceLatestTime).toBe(log3.coversUntil);
    const lag = (Date.parse(log3.coversUntil) - Date.parse(log1.coversUntil)) / 1000;
    expect(window.rpoSeconds).toBeCloseTo(lag, 3);
  });

  it("restorePlan agrees with the window on 60 random log positions, and names the gap's positions", async () => {
    const [window] = await windows();
    const earliest = BigInt(complete.logPositionEnd);
    const latest = BigInt(window.latestLogPosition);
    const gap = window.gaps[0];
    const end = Number(log3.logPositionEnd) + 5;
    const points = Array.from({ length: 60 }, () => BigInt(Math.floor(Math.random() * (end + 1))));
    points.push(earliest, latest, latest + 1n, BigInt(gap.toPosition) + 1n, BigInt(log3.logPositionEnd));
    let accepted = 0;
    let gapRefusals = 0;
    for (const point of points) {
      const restorable = point >= earliest && point <= latest && !inGap(window.gaps, point);
      const result = await plan({ logPosition: String(point) });
      if (restorable) {
        expect(result.__typename, `position ${point}: ${result.message}`).toBe("RestorePlan");
        expect(result.targetLogPosition).toBe(String(point));
        accepted++;
      } else {
        expect(result.code, `position ${point}`).toBe("FAILED_PRECONDITION");
        if (point > latest && point <= BigInt(log3.logPositionEnd)) {
          expect(result.message).toContain(`positions ${gap.fromPosition}..${gap.toPosition} are missing`);
          gapRefusals++;
        }
      }
    }
    expect(accepted).toBeGreaterThan(0);
    expect(gapRefusals).toBeGreaterThan(0);
  });

  it("restorePlan accepts points in time inside the window and refuses those after it", async () => {
    const [window] = await windows();
    const from = Date.parse(window.earliestTime);
    const to = Date.parse(window.latestTime);
    for (let i = 0; i < 5; i++) {
      const inside = new Date(from + Math.random() * (to - from)).toISOString();
      expect((await plan({ mode: "RECOVERY_TO_POINT_IN_TIME", pointInTime: inside })).__typename).toBe("RestorePlan");
    }
    const after = new Date((to + Date.parse(log3.coversUntil)) / 2).toISOString();
    const refused = await plan({ mode: "RECOVERY_TO_POINT_IN_TIME", pointInTime: after });
    expect(refused.code).toBe("FAILED_PRECONDITION");
    expect(refused.message).toContain(`positions ${window.gaps[0].fromPosition}..`);
  });

  it("a plan carries a restore time estimate (the stated default before any restore)", async () => {
    const result = await plan({ mode: "RECOVERY_TO_MOST_RECENT" });
    expect(result.__typename).toBe("RestorePlan");
    expect(result.estimatedDurationSeconds).toBeGreaterThan(0);
  });

  it("R17: another account sees no windows of this mirror", async () => {
    const other = (await gw.createAccount("other")).apiKey;
    const data = await gw.gql(other, WINDOWS, { id: mirror });
    expect(data.node).toBeNull();
  });
});

function inGap(gaps: { fromPosition: string; toPosition: string }[], point: bigint) {
  return gaps.some((g) => BigInt(g.fromPosition) <= point && point <= BigInt(g.toPosition));
}
