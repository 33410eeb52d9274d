// Restore drills through the API against the real services: a scheduled drill runs on its own and PASSES with its
// scratch tenant equal to the source at the reached point; drill safety; a drill over a gap FAILS naming the
// positions; the reconciler brings a drill's scheduler back after a queue loss; R17 and bad input.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { reconcileOnce } from "../../jobs/reconciler.ts";
import { jobIds } from "../../src/queue/queues.ts";
import {
  createSourceVault,
  drSetting,
  instanceInput,
  REGISTER,
  registerInstance,
  takeBackup,
  uuidOf,
  writeRows,
} from "../support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { closeJobListeners, waitForJob, waitForSync } from "../support/jobs.ts";
import { loseQueueData } from "../support/queueLoss.ts";

const A = "cn-hangzhou";
const B = "cn-shanghai";
let gw: TestGateway;
let key: string;
let sourceVault: string;
let mirror: string;
let source: string;
let target: string;
const states: { logPosition: string; contentDigest: string }[] = [];

const DRILL_FIELDS = `id name mode intervalMinutes enabled nextRunAt targetDatabaseName sourceDatabaseName
  mirrorVault { id } targetInstance { id } lastRun { id status }`;
const RUN_FIELDS = `id status pointInTime rpoSeconds rtoSeconds message startedAt completedAt drill { id }
  restore { id status reachedLogPosition durationSeconds throughputBytesPerSecond validation { status } }`;
const ERRORS = "... on Error { code message } ... on InvalidInputError { issues { path message } }";
const CREATE = `mutation($input: CreateRestoreDrillInput!) { createRestoreDrill(input: $input) { __typename
  ... on RestoreDrillPayload { drill { ${DRILL_FIELDS} } } ${ERRORS} } }`;
const UPDATE = `mutation($input: UpdateRestoreDrillInput!) { updateRestoreDrill(input: $input) { __typename
  ... on RestoreDrillPayload { drill { ${DRILL_FIELDS} } } ${ERRORS} } }`;
const RUN = `mutation($id: ID!) { runRestoreDrill(input: { drillId: $id }) { __typename
  ... on DrillRunPayload { run { ${RUN_FIELDS} } } ... on Error { code message } } }`;
const DELETE = `mutation($id: ID!) { deleteRestoreDrill(input: { drillId: $id }) { __typename
  ... on DeleteRestoreDrillPayload { deletedDrillId } ... on Error { code message } } }`;
const DRILL = `query($id: ID!) { node(id: $id) { ... on RestoreDrill { ${DRILL_FIELDS}
  runs(first: 10) { totalCount edges { node { ${RUN_FIELDS} } } } } } }`;

function drillInput(overrides: Record<string, unknown> = {}) {
  return {
    name: "nightly PR1",
    mirrorVaultId: mirror,
    sourceInstanceId: source,
    sourceDatabaseName: "PR1",
    targetInstanceId: target,
    targetDatabaseName: "DRILL1",
    ...overrides,
  };
}

const drillOf = async (id: string) => (await gw.gql(key, DRILL, { id })).node;

/** Waits (bounded) until the drill has `count` runs and none is RUNNING; returns them, newest first. */
async function settledRuns(id: string, count = 1, timeout = 90_000) {
  let runs: any[] = [];
  await vi.waitFor(
    async () => {
      runs = (await drillOf(id)).runs.edges.map((e: any) => e.node);
      expect(runs.length).toBeGreaterThanOrEqual(count);
      expect(runs.filter((r) => r.status === "RUNNING")).toEqual([]);
    },
    { timeout, interval: 200 },
  );
  return runs;
}

beforeAll(async () => {
  // A drill interval's minute lasts 100 ms here (15 minutes: 1.5 s); the reconciler runs when a test calls it.
  gw = await startTestGateway(
    "drills",
    { historicalSyncDelayMs: 200, reconcileIntervalMs: 3_600_000, drillMinuteMs: 100 },
    { workerRegions: [A, B] },
  );
  key = (await gw.createAccount()).apiKey;
  ({ sourceVault, source, mirror, target } = await drSetting(gw, key, A, B));
  for (const type of ["COMPLETE", "LOG"]) {
    states.push(await writeRows(gw, key, source, "PR1", 12));
    const backup = await takeBackup(gw, key, A, source, "PR1", type);
    await waitForSync.copy(gw.services, B, uuidOf(backup.id), uuidOf(mirror));
  }
}, 180_000);
afterAll(async () => {
  await closeJobListeners();
  await gw?.close();
});

describe("restore drills", () => {
  let drill: string;

  it("bad input is a contract error with its input path, and nothing is written or scheduled", async () => {
    const otherVault = await createSourceVault(gw, key, B, "dr2");
    const unreachable = instanceInput(B, otherVault, { sid: "DF2", host: "unreachable.example" });
    const failed = (await gw.gql(key, REGISTER, { input: unreachable })).registerHanaInstance.hanaInstance.id;
    const cases: [Record<string, unknown>, string, string[] | null][] = [
      [{ intervalMinutes: 14 }, "INVALID_INPUT", ["input", "intervalMinutes"]],
      [{ intervalMinutes: 10_081 }, "INVALID_INPUT", ["input", "intervalMinutes"]],
      [{ name: "" }, "INVALID_INPUT", ["input", "name"]],
      [{ name: "x".repeat(65) }, "INVALID_INPUT", ["input", "name"]],
      [{ mirrorVaultId: sourceVault }, "INVALID_INPUT", ["input", "mirrorVaultId"]],
      [{ targetInstanceId: source }, "INVALID_INPUT", ["input", "targetInstanceId"]],
      [{ targetInstanceId: failed }, "FAILED_PRECONDITION", null],
      [{ targetDatabaseName: "SYSTEMDB" }, "INVALID_INPUT", ["input", "targetDatabaseName"]],
      [{ targetDatabaseName: "DR1" }, "INVALID_INPUT", ["input", "targetDatabaseName"]],
      [{ mirrorVaultId: "bogus" }, "NOT_FOUND", null],
      [{ targetInstanceId: mirror }, "NOT_FOUND", null],
    ];
    for (const [override, code, path] of cases) {
      const result = (await gw.gql(key, CREATE, { input: drillInput(override) })).createRestoreDrill;
      expect(result.code, JSON.stringify(override)).toBe(code);
      if (path) expect(result.issues.map((i: any) => i.path)).toEqual([path]);
    }
    const other = (await gw.createAccount("other")).apiKey;
    const foreign = (await gw.gql(other, CREATE, { input: drillInput() })).createRestoreDrill;
    expect(foreign.code).toBe("NOT_FOUND");
    expect(await gw.services.db.restoreDrill.count()).toBe(0);
    expect(await gw.services.queues.get(B, "restore").getJobSchedulers()).toEqual([]);
  });

  it("a scheduled drill runs on its own and PASSES; its scratch tenant equals the source at the reached point", async () => {
    const created = (await gw.gql(key, CREATE, { input: drillInput({ intervalMinutes: 15 }) })).createRestoreDrill;
    expect(created.__typename).toBe("RestoreDrillPayload");
    drill = created.drill.id;
    expect(created.drill).toMatchObject({ mode: "MOST_RECENT", enabled: true, targetDatabaseName: "DRILL1" });
    expect(created.drill.nextRunAt).not.toBeNull();
    // Two runs, both by the scheduler: the second proves the drill replaces the scratch tenant it created.
    const runs = await settledRuns(drill, 2);
    const paused = (await gw.gql(key, UPDATE, { input: { drillId: drill, enabled: false } })).updateRestoreDrill;
    expect(paused.drill).toMatchObject({ enabled: false, nextRunAt: null });
    const [run] = await settledRuns(drill);
    expect(
      runs.every((r) => r.status === "PASSED"),
      JSON.stringify(runs),
    ).toBe(true);
    expect(run.restore).toMatchObject({ status: "COMPLETE", validation: { status: "SUCCESSFUL" } });
    expect(run.restore.reachedLogPosition).toBe(states.at(-1)!.logPosition);
    expect(run.rtoSeconds).toBeGreaterThan(0);
    expect(run.rpoSeconds).toBe(0);
    expect(run.restore.durationSeconds).toBeGreaterThan(0);
    expect(run.restore.throughputBytesPerSecond).toBeGreaterThan(0);
    const scratch = (await gw.services.hana.getDatabase(uuidOf(target), "DRILL1"))!;
    expect(scratch.contentDigest).toBe(states.at(-1)!.contentDigest);
    const passed = await gw.services.db.domainEvent.findMany({ where: { type: "DRILL_PASSED" } });
    expect(passed.length).toBeGreaterThanOrEqual(2);
    expect(passed[0]!.data).toMatchObject({ drillId: uuidOf(drill), mirrorVaultId: uuidOf(mirror) });
  }, 240_000);

  it("a second run while one runs is CONFLICT; a RANDOM_POINT_IN_TIME run PASSES inside the window", async () => {
    await gw.gql(key, UPDATE, { input: { drillId: drill, mode: "RANDOM_POINT_IN_TIME" } });
    const first = (await gw.gql(key, RUN, { id: drill })).runRestoreDrill;
    expect(first.run.status).toBe("RUNNING");
    const second = (await gw.gql(key, RUN, { id: drill })).runRestoreDrill;
    expect(second.code).toBe("CONFLICT");
    await waitForJob(gw.services, B, "restore", jobIds.restore(uuidOf(first.run.restore.id)), 60_000);
    const [run] = await settledRuns(drill);
    expect(run.id).toBe(first.run.id);
    expect(run.status).toBe("PASSED");
    const reached = BigInt(run.restore.reachedLogPosition);
    expect(reached >= BigInt(states[0]!.logPosition) && reached <= BigInt(states.at(-1)!.logPosition)).toBe(true);
  });

  it("a real restore into the drill's scratch name is refused; one into another database is not", async () => {
    const RESTORE = `mutation($input: RestoreFromMirrorInput!) { restoreFromMirror(input: $input) { __typename
      ... on RestorePayload { restore { id } } ... on Error { code message } } }`;
    const input = (targetDatabaseName: string) => ({
      mirrorVaultId: mirror,
      sourceInstanceId: source,
      sourceDatabaseName: "PR1",
      targetInstanceId: target,
      targetDatabaseName,
      mode: "RECOVERY_TO_MOST_RECENT",
      overwrite: true,
    });
    const refused = (await gw.gql(key, RESTORE, { input: input("DRILL1") })).restoreFromMirror;
    expect(refused.code).toBe("CONFLICT");
    expect(refused.message).toMatch(/scratch/);
    const allowed = (await gw.gql(key, RESTORE, { input: input("REPORTING") })).restoreFromMirror;
    expect(allowed.__typename).toBe("RestorePayload");
    await waitForJob(gw.services, B, "restore", jobIds.restore(uuidOf(allowed.restore.id)), 60_000);
  });

  it("after a queue loss the reconciler brings the drill's scheduler back", async () => {
    await gw.gql(key, UPDATE, { input: { drillId: drill, enabled: true, intervalMinutes: 10_080 } });
    await settledRuns(drill); // enabling runs it once at once
    expect((await drillOf(drill)).nextRunAt).not.toBeNull();
    await loseQueueData(gw.services, [B], ["restore"]);
    expect((await drillOf(drill)).nextRunAt).toBeNull();
    await reconcileOnce(gw.services, [B]);
    expect((await drillOf(drill)).nextRunAt).not.toBeNull();
    await settledRuns(drill);
  }, 180_000);

  it("R17: another account sees no drill and can't change, run or delete it", async () => {
    const other = (await gw.createAccount("other-2")).apiKey;
    expect((await gw.gql(other, DRILL, { id: drill })).node).toBeNull();
    expect((await gw.gql(other, "{ restoreDrills(first: 5) { totalCount } }")).restoreDrills.totalCount).toBe(0);
    expect((await gw.gql(other, UPDATE, { input: { drillId: drill, name: "x" } })).updateRestoreDrill.code).toBe(
      "NOT_FOUND",
    );
    expect((await gw.gql(other, RUN, { id: drill })).runRestoreDrill.code).toBe("NOT_FOUND");
    expect((await gw.gql(other, DELETE, { id: drill })).deleteRestoreDrill.code).toBe("NOT_FOUND");
    expect((await gw.gql(key, UPDATE, { input: { drillId: drill, name: "" } })).updateRestoreDrill.code).toBe(
      "INVALID_INPUT",
    );
    expect((await drillOf(drill)).name).toBe("nightly PR1");
  });

  it("a drill whose chain has a gap FAILS naming the positions", async () => {
    await gw.gql(key, UPDATE, { input: { drillId: drill, enabled: false, mode: "MOST_RECENT" } });
    await settledRuns(drill);
    states.push(await writeRows(gw, key, source, "PR1", 8));
    const lost = await takeBackup(gw, key, A, source, "PR1", "LOG");
    await waitForSync.copy(gw.services, B, uuidOf(lost.id), uuidOf(mirror));
    states.push(await writeRows(gw, key, source, "PR1", 5));
    const after = await takeBackup(gw, key, A, source, "PR1", "LOG");
    await waitForSync.copy(gw.services, B, uuidOf(after.id), uuidOf(mirror));
    await gw.services.storage.region(B).deleteBackup(uuidOf(lost.id));
    await gw.services.db.backupCopy.delete({
      where: { backupId_mirrorVaultId: { backupId: uuidOf(lost.id), mirrorVaultId: uuidOf(mirror) } },
    });
    const run = (await gw.gql(key, RUN, { id: drill })).runRestoreDrill.run;
    expect(run.status).toBe("FAILED");
    expect(run.restore).toBeNull();
    expect(run.message).toContain(`positions ${lost.logPositionStart}..${lost.logPositionEnd} are missing`);
    const failed = await gw.services.db.domainEvent.findMany({ where: { type: "DRILL_FAILED" } });
    expect(failed.map((e) => (e.data as any).runId)).toEqual([uuidOf(run.id)]);
  });

  it("R18: deleting the target instance deletes its drills", async () => {
    const vault = await createSourceVault(gw, key, B, "dr3");
    const other = await registerInstance(gw, key, B, vault, { sid: "DR3", host: "10.1.0.7" });
    const input = drillInput({ targetInstanceId: other, targetDatabaseName: "SCRATCH", enabled: false });
    const created = (await gw.gql(key, CREATE, { input })).createRestoreDrill.drill;
    const deleted = await gw.gql(
      key,
      `mutation($id: ID!) { deleteHanaInstance(input: { instanceId: $id }) { __typename ... on Error { code message } } }`,
      { id: other },
    );
    expect(deleted.deleteHanaInstance.__typename).not.toMatch(/Error/);
    expect(await drillOf(created.id)).toBeNull();
    expect(await gw.services.db.restoreDrill.count({ where: { id: uuidOf(created.id) } })).toBe(0);
  });

  it("deleting a drill removes it, its runs and its scheduler", async () => {
    const before = (await drillOf(drill)).runs.totalCount;
    await gw.gql(key, UPDATE, { input: { drillId: drill, enabled: true } });
    // Enabling runs the drill once: wait for that run to end (older runs alone would let the delete race it).
    await vi.waitFor(
      async () => {
        const { runs } = await drillOf(drill);
        expect(runs.totalCount).toBeGreaterThan(before);
        expect(runs.edges.filter((e: any) => e.node.status === "RUNNING")).toEqual([]);
      },
      { timeout: 90_000, interval: 200 },
    );
    const deleted = (await gw.gql(key, DELETE, { id: drill })).deleteRestoreDrill;
    expect(deleted.deletedDrillId).toBe(drill);
    expect(await gw.services.db.drillRun.count()).toBe(0);
    expect(await gw.services.queues.get(B, "restore").getJobSchedulers()).toEqual([]);
  });
});
